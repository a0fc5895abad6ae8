r"""Figures of the distillation trade-offs: ``plot_*(table, ax=None) -> matplotlib Axes``.

Every function takes a long-format :class:`pandas.DataFrame` (one row per plotted number;
the columns each one needs are listed in its docstring), draws on ``ax`` (a new figure of
:data:`FIGSIZE` inches when ``ax`` is None) and returns the Axes. Axis labels use the
paper's symbols: :math:`r`, :math:`\lambda_S`, :math:`\tau`, :math:`n`, :math:`K^Y`,
:math:`\bar K`, :math:`K^W` (docs/mathematics.md §2.2–2.3).

matplotlib is imported on first call, and a new figure is a bare
:class:`matplotlib.figure.Figure` (no pyplot, no GUI backend): the functions are safe in
scripts, on servers and in tests. In a notebook pass an ``ax`` from ``plt.subplots()``
to have the figure shown inline. Nothing here calls ``plt.show()``.

The tables are what :mod:`gaussdistill.report.tables` builds (``decomposition_sweep``,
``tradeoff_grid``, ``bounds_vs_n``), so a user can make them or edit them by hand.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import GaussDistillError

__all__ = ["plot_decomposition", "plot_bounds", "plot_tradeoff", "plot_sweep", "new_axes",
           "FIGSIZE", "PARAMETER_LABELS", "KIND_LABELS", "PART_COLORS"]

#: Size of a new figure in inches (at ``dpi=150`` a 960 × 600 pixel PNG).
FIGSIZE = (6.4, 4.0)

#: mathtext axis labels of the setting's parameters (the paper's symbols).
PARAMETER_LABELS = {
    "rank": "student rank $r$",
    "student_lam": r"student ridge $\lambda_S$",
    "teacher_lam": r"teacher ridge $\lambda_T$",
    "soft_noise": r"soft-label noise $\tau$",
    "noise": r"label noise $\nu$",
    "n": "sample size $n$",
    "k": "output dimension $k$",
    "d": "input dimension $d$",
    "teacher_temperature": "teacher temperature $t_T$",
    "student_temperature": "student temperature $t_S$",
}

#: mathtext names of the three divergences.
KIND_LABELS = {"predictive": "$K^Y$", "convexity": r"$\bar K$", "weight": "$K^W$"}

#: Colours of the three parts, shared by every figure.
PART_COLORS = {"variance": "#4c72b0", "rank": "#dd8452", "bias": "#55a868"}
PART_LABELS = {"variance": "variance", "rank": "rank bottleneck", "bias": "bias"}
_DIRECTION_LABELS = {"student||teacher": r"$\mathrm{KL}(q_S\,\|\,q_T)$",
                     "teacher||student": r"$\mathrm{KL}(q_T\,\|\,q_S)$"}


def new_axes(ax=None):
    """``ax`` itself, or the Axes of a new bare Figure of :data:`FIGSIZE` (no pyplot)."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    return fig.subplots()


def _require(table, columns, what):
    try:
        present = set(table.columns)
    except AttributeError:
        raise GaussDistillError(f"{what}: table must be a pandas DataFrame; got "
                                f"{type(table).__name__}") from None
    missing = [c for c in columns if c not in present]
    if missing:
        raise GaussDistillError(f"{what}: table lacks column(s) {', '.join(map(repr, missing))}; "
                                f"it needs {', '.join(map(repr, columns))}")
    if len(table) == 0:
        raise GaussDistillError(f"{what}: table is empty")


def _numeric(table, columns, what, *, nan=False):
    """Each of ``columns`` must hold numbers (±inf allowed: an infinite divergence); NaN only when
    ``nan``. A GaussDistillError names the column (was a raw ValueError from numpy)."""
    import pandas as pd

    for column in columns:
        try:
            values = pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise GaussDistillError(f"{what}: column {column!r} must hold numbers; got "
                                    f"{next(v for v in table[column] if not _is_number(v))!r}") from None
        if not nan and np.isnan(values).any():
            raise GaussDistillError(f"{what}: column {column!r} holds NaN (not a divergence value; "
                                    f"an infinite one is +inf)")


def _is_number(v):
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return not isinstance(v, (str, bytes))


def _one_value(table, column, given, what):
    values = list(dict.fromkeys(table[column]))
    if given is None:
        if len(values) != 1:
            raise GaussDistillError(f"{what}: the table holds {column} values {values}; "
                                    f"choose one with {column}=...")
        return values[0]
    if given not in values:
        raise GaussDistillError(f"{what}: {column}={given!r} is not in the table (it has {values})")
    return given


def _label(name):
    return PARAMETER_LABELS.get(name, name)


def _maybe_log(ax, values, axis="x"):
    """Logarithmic axis when the positive values span a decade, ticks at (every other) value."""
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if not (finite.size and finite.min() > 0 and finite.max() / finite.min() >= 10):
        return
    from matplotlib.ticker import NullFormatter

    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    points = np.unique(finite)
    if len(points) <= 12:  # label the sampled values themselves (no crowded minor labels)
        ticks = points[::2] if len(points) > 6 else points
        labels = [f"{v:.3g}" for v in ticks]
        target = ax.xaxis if axis == "x" else ax.yaxis
        (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, labels)
        target.set_minor_formatter(NullFormatter())


def plot_decomposition(table, ax=None, *, kind=None, direction=None, parameter=None):
    r"""Stacked variance / rank bottleneck / bias of one divergence against a swept parameter.

    Parameters
    ----------
    table : pandas.DataFrame, long format, one row per (point, part), with columns

        * ``parameter`` — name of the swept setting key (``"rank"``, ``"student_lam"``,
          ``"soft_noise"``, ``"n"``, …; it picks the axis label, e.g. :math:`\lambda_S`);
        * ``x`` — its value at the point;
        * ``kind`` — ``"predictive"`` (:math:`K^Y`), ``"convexity"`` (:math:`\bar K`) or
          ``"weight"`` (:math:`K^W`);
        * ``direction`` — ``"student||teacher"`` or ``"teacher||student"``;
        * ``part`` — ``"variance"``, ``"rank"`` or ``"bias"``;
        * ``value`` — that part of the divergence, in nats.

        ``tables.decomposition_sweep`` makes it. Points whose divergence is infinite are
        left out and named in the title.
    kind, direction, parameter : which ones to draw when the table holds several.

    The three parts sum to the divergence (docs/mathematics.md §2.3), so the top of the
    stack is the divergence itself.
    """
    what = "plot_decomposition"
    _require(table, ["parameter", "x", "kind", "direction", "part", "value"], what)
    _numeric(table, ["x", "value"], what)
    parameter = _one_value(table, "parameter", parameter, what)
    sub = table[table["parameter"] == parameter]
    kind = _one_value(sub, "kind", kind, what)
    sub = sub[sub["kind"] == kind]
    direction = _one_value(sub, "direction", direction, what)
    sub = sub[sub["direction"] == direction]
    wide = sub.pivot_table(index="x", columns="part", values="value", aggfunc="first").sort_index()
    parts = [p for p in ("variance", "rank", "bias") if p in wide.columns]
    if not parts:
        raise GaussDistillError(f"{what}: column 'part' holds none of 'variance', 'rank', 'bias'")
    finite = np.isfinite(wide[parts].to_numpy(dtype=float)).all(axis=1)
    dropped = [x for x, ok in zip(wide.index, finite) if not ok]
    wide = wide[finite]
    ax = new_axes(ax)
    xs = wide.index.to_numpy(dtype=float)
    if parameter in ("rank", "k", "d"):  # integers: stacked bars
        bottom = np.zeros(len(xs))
        for part in parts:
            ax.bar(xs, wide[part], bottom=bottom, width=0.7, color=PART_COLORS[part],
                   label=PART_LABELS[part])
            bottom = bottom + wide[part].to_numpy(dtype=float)
        ax.set_xticks(xs)
    else:
        ax.stackplot(xs, *[wide[p].to_numpy(dtype=float) for p in parts],
                     colors=[PART_COLORS[p] for p in parts],
                     labels=[PART_LABELS[p] for p in parts], alpha=0.9)
        _maybe_log(ax, xs)
        if len(xs):
            ax.set_xlim(xs.min(), xs.max())
    ax.set_xlabel(_label(parameter))
    ax.set_ylabel(f"{KIND_LABELS.get(kind, kind)} [nats]")
    title = f"{KIND_LABELS.get(kind, kind)}: {_DIRECTION_LABELS.get(direction, direction)}"
    if dropped:
        title += f"\n(infinite at {_label(parameter).split()[-1]} = {', '.join(f'{v:g}' for v in dropped)})"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.margins(y=0.05)
    return ax


def plot_bounds(table, ax=None, *, x="n", xlabel=None):
    r"""Bounds on the student's generalization gap against the simulated gap as ``n`` grows.

    Parameters
    ----------
    table : pandas.DataFrame, long format, one row per (n, series), with columns

        * ``n`` — sample size (the x axis, logarithmic when it spans a decade; another
          swept setting key with ``x=``, e.g. ``x="student_lam"``);
        * ``label`` — the series' legend text (mathtext allowed, e.g.
          ``r"Thm 1, $K^Y$ (upper)"``);
        * ``role`` — ``"observed"`` (a Monte Carlo estimate, drawn as points with error
          bars of ``stderr``), ``"exact"`` (a closed-form value, a dashed line) or
          ``"bound"`` (a bound, a solid line);
        * ``value`` — the number;
        * ``stderr`` — (optional) its standard error; error bars are ±2 stderr.

        ``tables.bounds_vs_n`` makes it from :func:`gaussdistill.simulate`.
    """
    what = "plot_bounds"
    _require(table, [x, "label", "role", "value"], what)
    _numeric(table, [x, "value"] + (["stderr"] if "stderr" in table else []), what, nan=True)
    bad = sorted(set(table["role"]) - {"observed", "exact", "bound"})
    if bad:
        raise GaussDistillError(f"{what}: column 'role' must hold 'observed', 'exact' or 'bound'; "
                                f"got {bad}")
    ax = new_axes(ax)
    markers = iter("osD^v<>px")
    for label, rows in table.groupby("label", sort=False):
        rows = rows.sort_values(x)
        role = rows["role"].iloc[0]
        n = rows[x].to_numpy(dtype=float)
        y = rows["value"].to_numpy(dtype=float)
        keep = np.isfinite(y)
        if role == "observed":
            err = (2 * rows["stderr"].to_numpy(dtype=float) if "stderr" in rows
                   else np.zeros_like(y))
            ax.errorbar(n[keep], y[keep], yerr=np.nan_to_num(err[keep]), fmt=next(markers, "o"),
                        color="black", capsize=3, ms=4, label=label, zorder=3)
        else:
            ax.plot(n[keep], y[keep], "--" if role == "exact" else "-", marker=".", label=label)
    _maybe_log(ax, table[x].to_numpy(dtype=float))
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(_label(x) if xlabel is None else xlabel)
    ax.set_ylabel(r"generalization gap $\mathrm{gen}_S$")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return ax


def plot_tradeoff(table, ax=None, *, x="rank", y="student_lam", value="value", minimize=True):
    r"""Heatmap of a two-parameter trade-off (e.g. :math:`r \times \lambda_S`), optimum marked.

    Parameters
    ----------
    table : pandas.DataFrame, long format, one row per grid cell, with columns ``x``,
        ``y`` (the two swept setting keys, e.g. ``"rank"`` and ``"student_lam"``; the
        names pick the axis labels) and ``value`` (the objective in the cell, e.g. the
        divergence :math:`K^Y` in nats). An optional column ``objective`` names the
        objective for the colour-bar label (e.g. ``"predictive"`` → :math:`K^Y`).
        ``tables.tradeoff_grid`` makes it.
    x, y, value : the column names.
    minimize : mark the smallest cell (default) or the largest.

    The cells are drawn on an evenly spaced grid labelled with the actual values, so a
    logarithmic λ grid reads naturally.
    """
    what = "plot_tradeoff"
    _require(table, [x, y, value], what)
    _numeric(table, [x, y, value], what)
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="first").sort_index()
    grid = grid.reindex(sorted(grid.columns), axis=1)
    z = grid.to_numpy(dtype=float)
    if not np.isfinite(z).any():
        raise GaussDistillError(f"{what}: no finite value in column {value!r}")
    ax = new_axes(ax)
    masked = np.ma.masked_invalid(z)
    mesh = ax.imshow(masked, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    objective = table["objective"].iloc[0] if "objective" in table.columns else None
    cbar_label = f"{KIND_LABELS.get(objective, objective or value)} [nats]" if objective else value
    ax.figure.colorbar(mesh, ax=ax, label=cbar_label)
    flat = np.where(np.isfinite(z), z, np.inf if minimize else -np.inf)
    i, j = np.unravel_index(np.argmin(flat) if minimize else np.argmax(flat), z.shape)
    ax.plot([j], [i], marker="*", ms=16, color="white", mec="black", mew=1.0, ls="none",
            label=f"optimum: {x}={grid.columns[j]:g}, {y}={grid.index[i]:g}")
    ax.set_title(f"optimum at {_label(x).split()[-1]} = {grid.columns[j]:g}, "
                 f"{_label(y).split()[-1]} = {grid.index[i]:g} ({z[i, j]:.4g})", fontsize=10)
    return ax


def plot_sweep(table, ax=None, *, x, y="total", hue=None, logy=False, ylabel=None):
    r"""One column of a sweep table against a swept parameter, one line per ``hue`` value.

    Parameters
    ----------
    table : pandas.DataFrame with at least the columns ``x`` (a swept setting key, e.g.
        ``"student_lam"``), ``y`` (a numeric result, e.g. ``"total"``) and, if given,
        ``hue`` (a column whose values split the lines, e.g. ``"kind"``). This is the
        shape :func:`gaussdistill.sweep` returns (one row per grid point).
    """
    what = "plot_sweep"
    _require(table, [x, y] + ([hue] if hue else []), what)
    _numeric(table, [x, y], what, nan=True)
    ax = new_axes(ax)
    groups = table.groupby(hue, sort=False) if hue else [(None, table)]
    for key, rows in groups:
        rows = rows.sort_values(x)
        xs = rows[x].to_numpy(dtype=float)
        ys = rows[y].to_numpy(dtype=float)
        keep = np.isfinite(ys)
        label = KIND_LABELS.get(key, key) if key is not None else None
        ax.plot(xs[keep], ys[keep], marker="o", ms=3, label=None if label is None else str(label))
    _maybe_log(ax, table[x].to_numpy(dtype=float))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(y if ylabel is None else ylabel)
    if hue:
        ax.legend(loc="best", fontsize=8, frameon=False)
    return ax
