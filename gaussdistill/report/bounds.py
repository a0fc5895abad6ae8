r"""The report's bounds: the simulator's bound table, and the bounds against the gaps as n grows.

Every number is :func:`gaussdistill.simulate` on :class:`gaussdistill.CaseStudy`
(docs/mathematics.md §1 and §4): each row is a bound on the student's generalization gap
:math:`\mathrm{gen}_S` (Theorem 1 sub-Gaussian and exact-CGF forms, Theorem 2 Donsker–Varadhan
and central forms, Theorem 3 sharpness), evaluated with one divergence (:math:`K^W`,
:math:`K^Y` or :math:`\bar K`), beside the simulated gap and its standard error.
"""
from __future__ import annotations

import os

from .setting import Setting

__all__ = ["bounds_table", "bounds_vs_n", "FIGURE_SERIES", "bounds_section"]

#: The bounds drawn against n: (theorem, form, divergence, side, legend label).
FIGURE_SERIES = (
    (1, "subgaussian", "weight", "upper", r"Thm 1 sub-Gaussian, $K^W$"),
    (1, "cgf", "predictive", "upper", r"Thm 1 exact CGF, $K^Y$"),
    (3, "sharpness", "predictive", "upper", r"Thm 3 sharpness"),
    (2, "dv", "predictive", "lower", r"Thm 2 Donsker-Varadhan, $K^Y$ (lower)"),
)
_EXACT = ("exact", "exact+monte carlo")

#: Columns of the bound table as written (the CSV/JSON keep every column of simulate).
LATEX_COLUMNS = ["theorem", "form", "divergence", "side", "value", "observed", "stderr",
                 "slack", "valid", "holds"]


def bounds_table(setting: Setting, *, n=None, progress=None):
    """``gaussdistill.simulate`` for the setting (at sample size ``n``, default the setting's).

    Replicates and seed are the setting's; the rows and columns are the simulator's.
    """
    from ..simulation import simulate

    cs = setting.case_study(**({} if n is None else {"n": n}))
    return simulate(cs, replicates=setting.replicates, seed=setting.seed, progress=progress)


def bounds_vs_n(setting: Setting, n_grid=None, progress=None):
    r"""The bounds of :data:`FIGURE_SERIES` and the simulated :math:`\mathrm{gen}_S` as n grows.

    Returns ``(long, full)``: ``long`` is the table
    :func:`~gaussdistill.report.plots.plot_bounds` draws (columns n, label, role, value,
    stderr); ``full`` is every simulator row with a column ``n``. Only bounds computed from
    exact ingredients (``ingredients`` "exact" or "exact+monte carlo") and valid (every
    assumption met) are drawn; the others stay in ``full``.
    """
    import pandas as pd

    from .tables import _progress

    rows, frames = [], []
    for n in _progress(n_grid or setting.n_grid, "bounds vs n", progress):
        sim = bounds_table(setting, n=n, progress=False)
        frames.append(sim.assign(n=n))
        exact = sim[sim["ingredients"].isin(_EXACT)]
        if len(exact):
            first = exact.iloc[0]
            rows.append({"n": n, "label": r"simulated $\mathrm{gen}_S$ ($\pm 2$ s.e.)",
                         "role": "observed", "value": float(first["observed"]),
                         "stderr": float(first["stderr"])})
        for theorem, form, divergence, side, label in FIGURE_SERIES:
            hit = exact[(exact["theorem"] == theorem) & (exact["form"] == form)
                        & (exact["divergence"] == divergence) & (exact["side"] == side)
                        & exact["valid"].astype(bool)]
            if len(hit):
                rows.append({"n": n, "label": label, "role": "bound",
                             "value": float(hit["value"].iloc[0]), "stderr": float("nan")})
    return pd.DataFrame(rows), pd.concat(frames, ignore_index=True)


def bounds_section(setting: Setting, folder, pieces, *, progress, save):
    """Write the bound table and the bounds-vs-n figure into ``folder``; the report section."""
    from . import document, plots, tables

    sim = bounds_table(setting, progress=False)
    shown = sim[sim["ingredients"].isin(_EXACT)] if sim["ingredients"].isin(_EXACT).any() else sim
    tables.write_table(sim, os.path.join(folder, "tables"), "bounds",
                       f"Bounds on the student's generalization gap from the simulator "
                       f"({setting.replicates} replicates, seed {setting.seed}): value, simulated "
                       r"$\mathrm{gen}_S$ with its standard error, slack, whether every assumption "
                       r"is met (valid) and whether the bound held within 4 standard errors.",
                       columns=[c for c in LATEX_COLUMNS if c in sim.columns])
    if len(shown) < len(sim):  # the LaTeX table shows the rows with exact ingredients
        with open(os.path.join(folder, "tables", "bounds.tex"), "w") as fh:
            fh.write(tables.to_latex(shown.reset_index(drop=True),
                                     "Bounds on the student's generalization gap $\\mathrm{gen}_S$, "
                                     f"exact ingredients, simulator with {setting.replicates} "
                                     f"replicates (seed {setting.seed}); all rows in bounds.csv.",
                                     "tab:bounds", [c for c in LATEX_COLUMNS if c in sim.columns]))
    long, full = bounds_vs_n(setting, progress=progress)
    full.to_csv(os.path.join(folder, "tables", "bounds_vs_n.csv"), index=False)
    save(plots.plot_bounds(long), folder, "bounds_vs_n")
    valid = sim[sim["valid"].astype(bool)]
    pieces["bounds"] = sim
    pieces["bounds_summary"] = [
        f"bounds (simulator, {setting.replicates} replicates): {int(valid['holds'].sum())} of "
        f"{len(valid)} valid bounds held; simulated gen_S = {float(shown['observed'].iloc[0]):.4g}"
        f" (standard error {float(shown['stderr'].iloc[0]):.2g})"]
    return ("Bounds in simulation", [
        r"Each row bounds the student's generalization gap $\mathrm{gen}_S$ "
        r"(Theorems 1--3 with $K^W$, $K^Y$ or $\bar K$); the simulated gap is the Monte Carlo "
        r"estimate over label-noise draws.",
        r"{\small\input{tables/bounds.tex}}",
        document.Figure("figures/bounds_vs_n.pdf",
                        r"Bounds on $\mathrm{gen}_S$ and the simulated gap ($\pm 2$ standard errors) "
                        r"as the sample size $n$ grows; the other keys as in the setting.",
                        "fig:bounds")])
