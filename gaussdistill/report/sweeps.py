r"""Sweep tables (from :func:`gaussdistill.sweep`) as files and figures.

``gd.sweep(grid, base=case_study, ...)`` returns one long table: per grid setting, the
simulator's quantities (``gen_S``, ``K_predictive``, … with ``value`` and ``stderr``) and
one row per bound (``quantity`` ``"bound:<theorem>:<form>:<side>:<divergence>:<ingredients>"``).
:func:`bounds_along` turns it into the table :func:`~gaussdistill.report.plots.plot_bounds`
draws against one swept parameter, :func:`quantity_grid` into the one
:func:`~gaussdistill.report.plots.plot_tradeoff` draws for two.
"""
from __future__ import annotations

import os

from .bounds import FIGURE_SERIES

__all__ = ["bounds_along", "quantity_grid", "write_sweep", "FORMATS"]

FORMATS = ("csv", "json", "parquet")
_EXACT = ("exact", "exact+monte carlo")


def _numeric(table, column):
    import pandas as pd

    return pd.api.types.is_numeric_dtype(table[column]) and table[column].dtype != bool


def bounds_along(table, x):
    r"""Simulated :math:`\mathrm{gen}_S` and the bounds of ``FIGURE_SERIES`` against column ``x``.

    Only rows without an ``error`` are used; bounds from exact ingredients and valid.
    Columns: ``x``, label, role, value, stderr (the ``plot_bounds`` format).
    """
    import pandas as pd

    ok = table[table.get("error", "").fillna("") == ""] if "error" in table else table
    rows = []
    gen = ok[ok["quantity"] == "gen_S"]
    for _, r in gen.iterrows():
        rows.append({x: r[x], "label": r"simulated $\mathrm{gen}_S$ ($\pm 2$ s.e.)", "role": "observed",
                     "value": float(r["value"]), "stderr": float(r["stderr"])})
    bounds = ok[ok["quantity"].astype(str).str.startswith("bound:")]
    if len(bounds):
        bounds = bounds[bounds["ingredients"].isin(_EXACT) & bounds["valid"].fillna(False).astype(bool)]
    for theorem, form, divergence, side, label in FIGURE_SERIES:
        hit = bounds[(bounds["theorem"] == theorem) & (bounds["form"] == form)
                     & (bounds["divergence"] == divergence) & (bounds["side"] == side)]
        for _, r in hit.drop_duplicates(subset=[x]).iterrows():
            rows.append({x: r[x], "label": label, "role": "bound", "value": float(r["value"]),
                         "stderr": float("nan")})
    return pd.DataFrame(rows)


def quantity_grid(table, x, y, quantity="gen_S"):
    """The ``value`` of one quantity on the (``x``, ``y``) grid: columns x, y, value, objective."""
    ok = table[table.get("error", "").fillna("") == ""] if "error" in table else table
    sub = ok[ok["quantity"] == quantity][[x, y, "value"]].copy()
    objective = {"K_predictive": "predictive", "K_weight": "weight", "K_convexity": "convexity"}
    if quantity in objective:
        sub["objective"] = objective[quantity]
    return sub.reset_index(drop=True)


def write_sweep(table, folder, params, formats=("csv", "json"), save=None) -> list:
    """Write ``sweep.<fmt>`` for each format and the figures into ``folder``; the paths.

    One swept numeric parameter: ``figures/bounds_vs_<p>`` (bounds and simulated gap) and
    ``figures/divergences_vs_<p>`` (the simulated :math:`K^W, K^Y, \\bar K`). Two: heatmaps
    of the simulated gen_S and :math:`K^Y` with the optimum (smallest) marked.
    """
    from . import plots
    from .tables import write_data

    paths = []
    for fmt in formats:
        path = os.path.join(folder, f"sweep.{fmt}")
        write_data(table, path, fmt)
        paths.append(path)
    if save is None:
        return paths
    os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
    numeric = [p for p in params if _numeric(table, p)]
    if len(params) == 1 and numeric:
        p = numeric[0]
        long = bounds_along(table, p)
        if len(long):
            paths += save(plots.plot_bounds(long, x=p), folder, f"bounds_vs_{p}")
        ks = table[table["quantity"].isin(["K_weight", "K_predictive", "K_convexity"])].copy()
        if len(ks):
            ks["kind"] = ks["quantity"].str.slice(2)
            paths += save(plots.plot_sweep(ks, x=p, y="value", hue="kind",
                                                 ylabel="simulated divergence [nats]"), folder, f"divergences_vs_{p}")
    elif len(params) == 2 and len(numeric) == 2:
        x, y = numeric
        for quantity in ("gen_S", "K_predictive"):
            grid = quantity_grid(table, x, y, quantity)
            if len(grid) and grid["value"].notna().any():
                ax = plots.plot_tradeoff(grid, x=x, y=y)
                if quantity == "gen_S":
                    ax.figure.axes[-1].set_ylabel(r"simulated $\mathrm{gen}_S$")
                paths += save(ax, folder, f"{quantity}_{x}_x_{y}")
    return paths
