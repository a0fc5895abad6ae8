r"""The report's tables: long-format pandas DataFrames, written as CSV, JSON and LaTeX.

Every number comes from the library itself: :func:`gaussdistill.divergence` on the
setting's kernels (docs/mathematics.md §2.2–2.3), :class:`gaussdistill.CaseStudy` for the
exact expectations and the bounds, :func:`gaussdistill.simulate` for Monte Carlo.
The frames are the ones :mod:`gaussdistill.report.plots` draws.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..errors import GaussDistillError
from ..vocabulary import DIRECTIONS, KINDS, term
from .setting import Setting

__all__ = ["decomposition_table", "decomposition_sweep", "tradeoff_grid", "to_latex",
           "write_table", "write_data", "records", "DATA_FORMATS"]

_PARTS = ("variance", "rank", "bias")


def decomposition_table(setting: Setting, kinds=KINDS, directions=DIRECTIONS):
    r"""The divergences of the setting's teacher/student pair, all kinds and directions.

    One row per (kind, direction) with the exact split
    ``total = variance + rank + bias`` of :func:`gaussdistill.divergence` on the setting's
    data draw (docs/mathematics.md §2.3); ``rank_used`` is the r of the rank bottleneck,
    ``reason`` why a divergence is infinite (else empty; ``null`` in the JSON file).

    Columns: kind, direction, variance, rank, bias, total, rank_used, reason.
    """
    import pandas as pd

    import gaussdistill as gd

    p = setting.problem()
    rows = []
    for kind in kinds:
        for direction in directions:
            res = gd.divergence(p.student, p.teacher, p.X, p.soft_noise, kind, direction)
            rows.append({"kind": kind, "direction": direction, "variance": float(res.variance),
                         "rank": float(res.rank), "bias": float(res.bias), "total": float(res.total),
                         "rank_used": int(res.rank_used), "reason": res.reason or ""})
    return pd.DataFrame(rows)


def decomposition_sweep(setting: Setting, parameter: str, values, kinds=KINDS,
                        directions=("student||teacher",), progress=None):
    r"""Variance / rank / bias of each divergence as one setting key sweeps ``values``.

    Each point is the setting with ``parameter`` replaced (the same seed: the same
    :math:`W_\star`, and for every key but ``n``/``d`` the same design and data draw), its
    kernels from ``gaussdistill.example_problem`` and the split from
    :func:`gaussdistill.divergence`.

    Returns the long format :func:`~gaussdistill.report.plots.plot_decomposition` takes:
    columns parameter, x, kind, direction, part (variance, rank, bias, total), value.
    """
    import pandas as pd

    import gaussdistill as gd

    if parameter not in setting.to_dict() and parameter != "soft_noise":
        raise GaussDistillError(f"unknown setting key {parameter!r} to sweep")
    rows = []
    for value in _progress(values, f"sweep {parameter}", progress):
        try:
            p = setting.problem(**{parameter: value})
        except GaussDistillError as exc:
            raise GaussDistillError(f"sweeping {parameter}={value:g}: {exc}") from None
        for kind in kinds:
            for direction in directions:
                res = gd.divergence(p.student, p.teacher, p.X, p.soft_noise, kind, direction)
                for part in _PARTS + ("total",):
                    rows.append({"parameter": parameter, "x": float(value), "kind": kind,
                                 "direction": direction, "part": part,
                                 "value": float(getattr(res, part))})
    return pd.DataFrame(rows)


def tradeoff_grid(setting: Setting, x: str, xs, y: str, ys, kind="predictive",
                  direction="student||teacher", progress=None):
    r"""The divergence ``kind`` on the grid ``x`` × ``y`` of two setting keys.

    Columns: the two keys (named ``x`` and ``y``), value (the divergence's total, nats),
    objective (= ``kind``), plus variance_part, rank_part and bias_part. This is the table
    :func:`~gaussdistill.report.plots.plot_tradeoff` draws, e.g. ``x="rank"``,
    ``y="student_lam"``: the rank bottleneck falls with r while λ_S trades bias for
    variance, so the optimum is interior in general.
    """
    import pandas as pd

    import gaussdistill as gd

    rows = []
    pairs = [(a, b) for b in ys for a in xs]
    for a, b in _progress(pairs, f"grid {x} x {y}", progress):
        try:
            p = setting.problem(**{x: a, y: b})
        except GaussDistillError as exc:
            raise GaussDistillError(f"grid {x}={a:g}, {y}={b:g}: {exc}") from None
        res = gd.divergence(p.student, p.teacher, p.X, p.soft_noise, kind, direction)
        rows.append({x: a, y: b, "value": float(res.total), "objective": kind,
                     **{f"{part}_part": float(getattr(res, part)) for part in _PARTS}})
    return pd.DataFrame(rows)


def _progress(items, desc, progress):
    """tqdm over ``items`` when ``progress`` is true (None: only on a terminal)."""
    items = list(items)
    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


# ---------------------------------------------------------------- writers
def _cell(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        # Strict JSON (RFC 8259) has no Infinity/NaN: written as null, as the CLI's --json does
        # (a decomposition row's "reason" then says why it is infinite).
        return value if math.isfinite(value) else None
    return value


def records(table) -> list:
    """The rows of ``table`` as JSON-ready dicts (non-finite numbers → ``null``; an empty
    ``reason``, i.e. a finite divergence, → ``null``, the encoding of the CLI's ``--json``)."""
    return [{str(k): None if k == "reason" and v == "" else _cell(v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


_LATEX_HEADERS = {"kind": "divergence", "direction": "direction", "variance": "variance",
                  "rank": "rank", "bias": "bias", "total": "total", "rank_used": "$r$",
                  "value": "value", "observed": "observed", "stderr": "s.e.",
                  "slack": "slack", "holds": "holds", "valid": "valid", "theorem": "Thm",
                  "form": "form", "divergence": "divergence", "side": "side"}


def _latex_text(value):
    if isinstance(value, str):
        if value in KINDS:
            return f"${term(value).latex}$"
        if value in DIRECTIONS:
            return f"${term(value).latex}$"
        return (value.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&")
                .replace("%", r"\%").replace("#", r"\#").replace("$", r"\$").replace("|", r"$|$"))
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "--"
        if math.isinf(value):
            return r"$\infty$" if value > 0 else r"$-\infty$"
        if value == 0:
            return "0"
        text = f"{value:.4g}"
        if "e" in text:
            mant, exp = text.split("e")
            return f"${mant}\\times 10^{{{int(exp)}}}$"
        return text
    return str(value)


def to_latex(table, caption: str, label: str, columns=None) -> str:
    r"""A booktabs ``table`` environment (``\toprule``/``\midrule``/``\bottomrule``).

    Written through :meth:`pandas.io.formats.style.Styler.to_latex` with ``hrules=True``;
    kinds and directions print as their symbols (:math:`K^Y`, :math:`S\,\|\,T`), numbers
    with 4 significant digits, text escaped. Needs ``\usepackage{booktabs}``.
    """
    columns = list(table.columns if columns is None else columns)
    shown = table[columns].copy()
    shown = shown.astype(object)
    for col in columns:
        shown[col] = [_latex_text(v) for v in table[col]]
    shown.columns = [_LATEX_HEADERS.get(c, _latex_text(str(c))) for c in columns]
    styler = shown.style.hide(axis="index")
    from pandas.api.types import is_numeric_dtype

    align = "".join("r" if is_numeric_dtype(table[c]) and table[c].dtype != bool else "l"
                    for c in columns)
    return styler.to_latex(hrules=True, caption=caption, label=label, position="htbp",
                           position_float="centering", column_format=align)


DATA_FORMATS = ("csv", "json", "parquet")


def write_data(table, path, fmt: str) -> None:
    """Write ``table`` to ``path`` as ``fmt``: CSV, JSON records (strict: infinities as null,
    see :func:`records`) or Parquet. The one writer of table files; CSV and JSON keep full
    float64 precision (``repr``)."""
    if fmt == "csv":
        table.to_csv(path, index=False)
    elif fmt == "json":
        with open(path, "w") as fh:
            json.dump(records(table), fh, indent=2, allow_nan=False)
            fh.write("\n")
    elif fmt == "parquet":
        table.to_parquet(path, index=False)
    else:
        raise ValueError(f"unknown table format {fmt!r}; expected one of {DATA_FORMATS}")


def write_table(table, folder, stem: str, caption: str, columns=None) -> list:
    """Write ``stem.csv``, ``stem.json`` (records) and ``stem.tex`` (booktabs) into ``folder``.

    Returns the three paths. CSV and JSON keep full float64 precision (``repr``), so the
    written numbers equal the library's exactly.
    """
    paths = [os.path.join(folder, f"{stem}.{ext}") for ext in ("csv", "json", "tex")]
    write_data(table, paths[0], "csv")
    write_data(table, paths[1], "json")
    with open(paths[2], "w") as fh:
        fh.write(to_latex(table, caption, f"tab:{stem}", columns))
    return paths
