r"""Theorems 1–3 for the logistic pair, with estimated ingredients and their uncertainty.

The bound formulas are :mod:`gaussdistill.bounds` (``BoundIngredients`` / ``bound_table``);
this module only estimates the ingredients from :meth:`LogisticSetting.simulate` replicates:

* gen_T, gen_S: gap means over R data replicates × C chains (docs/mathematics.md §1).
* K_n: the per-replicate :func:`gaussdistill.estimate_kl` of the identifiable weights QᵀW
  (``kn_method`` "gaussian" or "knn"), averaged over replicates; a negative k-NN estimate is
  raised to 0 (K_n ≥ 0). A Monte Carlo estimate, marked so.
* ψ: the empirical CGF of the teacher gaps over all (replicate, chain) pairs,
  :class:`gaussdistill.simulation.cgf.EmpiricalCGF`, on the λ-range where it keeps an effective
  sample size (its ``domain``). Marked ``cgf_exact: assumed`` (it is an estimate).
* σ² (Theorem 1, loss clipped to [0, M]): :func:`gaussdistill.bounds.stability_sigma2`
  (β, M, n) = n(2β + M/n)²/4. β is the user's (``beta=...``, status "assumed": a uniform
  stability constant is not proved for this teacher) or, by default, the replace-one
  estimate of :func:`gaussdistill.logistic.setting.replicate` (max over replicates of
  max_z |E ℓ_M(W(D), z) − E ℓ_M(W(D′), z)|, status "assumed" as well: an estimate is no proof).
  The proved bound for a Gibbs posterior of a loss in [0, M], β ≤ M(1 − e^{−2γM}), does not
  apply: the teacher's energy uses the unclipped cross-entropy. For the unclipped loss
  σ² is the sub-Gaussian proxy of the empirical CGF on its domain
  (:func:`gaussdistill.bounds.subgaussian_proxy`).
* κ (Theorem 3, unclipped cross-entropy, twice differentiable): ∇²_W ℓ(W; x, y) = H(p) ⊗ x xᵀ
  with H(p) = diag(p) − ppᵀ, 0 ⪯ H(p) ⪯ ½ I, so ∇²g(·, D) = E_μ[H ⊗ xxᵀ] − (1/n)Σ_i H_i ⊗ x_i x_iᵀ
  is a difference of two PSD matrices bounded by ½ I ⊗ E[xxᵀ] and ½ I ⊗ XXᵀ/n:
  ‖∇²g(·, D)‖_op ≤ κ(D) = ½ max(‖E xxᵀ‖_op, ‖XXᵀ/n‖_op) for every W (proved; E xxᵀ is known
  exactly for both ground truths). κ(D) varies with D, so the mean-square form of
  docs/mathematics.md §4.4 carries E[κ(D)‖Δ‖²]/2; it is passed as κ_eff ρ²/2 with
  ρ² = E‖Δ‖², κ_eff = E[κ(D)‖Δ‖²]/E‖Δ‖², Δ = C(W_S − W_T) (g(W) = g(CW)). The first-order
  term E⟨∇g(W_T, D), Δ⟩ is estimated (test-set gradient minus training gradient).

Uncertainty: every bound value and ingredient gets a bootstrap standard error over the R
data replicates (``bootstrap`` resamples of whole replicates, the same bound recomputed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GaussDistillError

KN_METHODS = ("gaussian", "knn")
LOSSES = ("clipped", "ce")


def _pool(reps: list, key: str) -> np.ndarray:
    return np.stack([np.asarray(r[key], dtype=float) for r in reps])


@dataclass(frozen=True)
class _Pooled:
    """Per-replicate arrays, (R, C) or (R,)."""

    gap: dict
    kn: dict
    delta2: np.ndarray
    first_order: np.ndarray
    kappa: np.ndarray
    beta: np.ndarray | None

    @classmethod
    def of(cls, reps):
        gap = {("clipped", "T"): _pool(reps, "gap_T"), ("clipped", "S"): _pool(reps, "gap_S"),
               ("ce", "T"): _pool(reps, "gap_T_ce"), ("ce", "S"): _pool(reps, "gap_S_ce")}
        kn = {m: _pool(reps, f"kn_{m}") for m in KN_METHODS}
        beta = _pool(reps, "beta") if "beta" in reps[0] else None
        return cls(gap, kn, _pool(reps, "delta2"), _pool(reps, "first_order"), _pool(reps, "kappa"), beta)

    def take(self, idx):
        return _Pooled({k: v[idx] for k, v in self.gap.items()}, {k: v[idx] for k, v in self.kn.items()},
                       self.delta2[idx], self.first_order[idx], self.kappa[idx],
                       None if self.beta is None else self.beta[idx])


def _ingredients(p: _Pooled, loss: str, kn_method: str, n: int, M: float, beta, beta_note: str):
    """(BoundIngredients, gen_S, scalars) for one loss and one K_n estimator."""
    from .. import bounds as B
    from ..simulation.cgf import EmpiricalCGF

    gT = float(p.gap[(loss, "T")].mean())
    gS = float(p.gap[(loss, "S")].mean())
    K_raw = float(np.mean(p.kn[kn_method]))
    K = max(K_raw, 0.0) if math.isfinite(K_raw) else math.inf
    cgf = EmpiricalCGF.of(p.gap[(loss, "T")].ravel())
    cgf_note = B.Assumption("cgf_exact", "assumed",
                            f"empirical CGF of {cgf.samples.size} teacher gaps ({p.kappa.size} data replicates); "
                            f"an estimate on its trusted range {tuple(round(x, 4) for x in cgf.domain)}")
    scalars = {"gen_T": gT, "gen_S": gS, "K": K, "K_estimate": K_raw, "lambda_hi": cgf.domain[1]}
    common: dict[str, Any] = dict(gen_teacher=gT, divergences={"weight": K}, divergence_is_estimate={"weight": True},
                  cgf=cgf, cgf_domain=cgf.domain)
    if loss == "clipped":
        if beta is None:
            assert p.beta is not None      # evaluate_bounds checks this before
            beta = float(np.max(p.beta))
        sigma2 = B.stability_sigma2(beta, M, n)
        scalars.update(beta=beta, sigma2=sigma2)
        stab = B.Assumption("subgaussian", "assumed",
                            f"σ² = n(2β + M/n)²/4 = {sigma2:.4g} by McDiarmid from uniform β-stability with "
                            f"β = {beta:.4g} ({beta_note}), loss clipped to [0, {M:g}]")
        return B.BoundIngredients(**common, sigma2=sigma2, assumptions=(cgf_note, stab)), gS, scalars
    lo, hi = cgf.domain
    # the proxy's range stays strictly inside the CGF's open domain (ψ̂ is +inf at its edges)
    proxy = B.subgaussian_proxy(cgf, (max(0.999 * lo, -1e6), min(0.999 * hi, 1e6))) if (lo < 0 < hi) else None
    rho2 = float(p.delta2.mean())
    kappa_eff = float((p.kappa[:, None] * p.delta2).mean() / rho2) if rho2 > 0 else float(p.kappa.mean())
    first = float(p.first_order.mean())
    scalars.update(sigma2=(proxy.sigma2 if proxy is not None else math.inf), kappa=kappa_eff, rho2=rho2,
                   first_order=first)
    hess = B.Assumption("hessian_bound", "checked",
                        "κ(D) = ½max(‖E xxᵀ‖, ‖XXᵀ/n‖) ≥ ‖∇²g(·, D)‖_op for every W (0 ⪯ diag p − ppᵀ ⪯ ½I); "
                        "κ is the ‖Δ‖²-weighted mean so that κρ²/2 = E[κ(D)‖Δ‖²]/2")
    ing = B.BoundIngredients(**common, sigma2=proxy, kappa=kappa_eff, rho2=rho2, first_order=first,
                             assumptions=(cgf_note,), sharpness_assumptions=(hess,))
    return ing, gS, scalars


def _tables(p: _Pooled, n: int, M: float, beta, beta_note: str):
    import pandas as pd

    from .. import bounds as B

    out, scal = [], []
    for loss in LOSSES:
        for method in KN_METHODS:
            ing, gS, scalars = _ingredients(p, loss, method, n, M, beta, beta_note)
            t = B.bound_table(ing, gen_student=gS)
            t.insert(0, "kn_method", method)
            t.insert(0, "loss", loss)
            t["row"] = t.groupby(["theorem", "form", "side"]).cumcount()
            out.append(t)
            scal.append({"loss": loss, "kn_method": method, **scalars})
    return pd.concat(out, ignore_index=True), pd.DataFrame.from_records(scal)


@dataclass(frozen=True)
class BoundCheck:
    """Every bound for one setting with estimated ingredients.

    table : one row per (loss, kn_method, theorem, form, side): ``value`` and its bootstrap
        ``stderr``, the observed ``gen_student`` and its ``gen_student_stderr``, ``slack``
        (≥ 0 iff the bound holds for the observed gap), ``holds``, ``z`` = slack / combined stderr,
        and bound_table's columns (assumptions with their status, ``valid``, ``vacuous``, ...).
    ingredients : one row per (loss, kn_method, ingredient): value and bootstrap stderr
        (``K_estimate`` is the raw mean estimate, ``K`` = max(K_estimate, 0) the value used).
    """

    table: Any
    ingredients: Any

    def to_dict(self) -> dict:
        return {"table": self.table.to_dict(orient="records"),
                "ingredients": self.ingredients.to_dict(orient="records")}


def evaluate_bounds(setting, replicates: int = 20, seed=0, *, beta=None, bootstrap: int = 40,
                    progress=None, reps=None) -> BoundCheck:
    """Every bound of Theorems 1–3 for the logistic pair (module docstring for the ingredients).

    Parameters
    ----------
    setting : LogisticSetting.
    replicates, seed : data replicates and their seed (int or SeedSequence).
    beta : uniform-stability constant for Theorem 1's σ² (None: the replace-one estimate).
    bootstrap : number of bootstrap resamples of the replicates for the standard errors (≥ 2).
    reps : per-replicate results to reuse (from ``setting.simulate(..., stability=True)``).
    """
    import pandas as pd

    if not hasattr(setting, "simulate"):
        raise GaussDistillError(f"setting must be a LogisticSetting; got {type(setting).__name__}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 2:
        raise GaussDistillError(f"bootstrap must be an integer >= 2; got {bootstrap!r}")
    if beta is not None:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (math.isfinite(beta) and beta >= 0):
            raise GaussDistillError(f"beta must be a finite number >= 0 or None; got {beta!r}")
        beta_note = "given by the user, assumed"
    else:
        beta_note = "replace-one estimate, not proved"
    if reps is None:
        reps = setting.simulate(replicates, seed, progress, stability=beta is None)
    R = len(reps)
    if R < 2:
        raise GaussDistillError(f"replicates must be >= 2 for the empirical CGF and the bootstrap; got {R}")
    pooled = _Pooled.of(reps)
    if beta is None and pooled.beta is None:
        raise GaussDistillError("reps carry no stability estimate: simulate with stability=True or pass beta")
    n, M = setting.n, setting.loss_clip
    table, scalars = _tables(pooled, n, M, beta, beta_note)
    from .setting import _seed_sequence

    ss = _seed_sequence(seed)        # the bootstrap's own stream, apart from the replicates' children
    rng = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (2**20,)))
    keys = ["loss", "kn_method", "theorem", "form", "side", "row"]
    boot_v, boot_s = [], []
    for _ in range(bootstrap):
        idx = rng.integers(0, R, R)
        t, s = _tables(pooled.take(idx), n, M, beta, beta_note)
        boot_v.append(t.set_index(keys)["value"])
        boot_s.append(s.set_index(["loss", "kn_method"]))
    bv = pd.concat(boot_v, axis=1)
    with np.errstate(invalid="ignore"):
        finite = bv.where(np.isfinite(bv))
        table = table.join(finite.std(axis=1, ddof=1).rename("stderr"), on=keys)
    # infinite bound, or fewer than two finite bootstrap values: no finite standard error
    table["stderr"] = table["stderr"].where(np.isfinite(table["value"]), math.inf).fillna(math.inf)
    gS_se = {loss: float(pooled.gap[(loss, "S")].mean(axis=1).std(ddof=1) / math.sqrt(R)) for loss in LOSSES}
    table["gen_student_stderr"] = table["loss"].map(gS_se)
    combined = np.sqrt(table["stderr"].fillna(0.0) ** 2 + table["gen_student_stderr"] ** 2)
    slack = table["slack"].to_numpy(dtype=float)
    comb = combined.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = slack / comb
    # an infinite (vacuous) bound holds with z = +inf; a zero error leaves only the sign
    z = np.where(np.isinf(slack), np.sign(slack) * math.inf, z)
    z = np.where((comb == 0) & np.isfinite(slack), np.sign(slack) * math.inf, z)
    table["z"] = np.where(np.isnan(z), 0.0, z)
    table = table.drop(columns=["row"])
    stacked = pd.concat(boot_s)
    records = []
    for _, row in scalars.iterrows():
        sel = stacked.loc[(row["loss"], row["kn_method"])]
        for name in ("gen_T", "gen_S", "K", "K_estimate", "sigma2", "beta", "kappa", "rho2", "first_order",
                     "lambda_hi"):
            if name in row and isinstance(row[name], float) and not math.isnan(row[name]):
                vals = np.asarray(sel[name], dtype=float)
                vals = vals[np.isfinite(vals)]
                se = float(vals.std(ddof=1)) if vals.size > 1 and math.isfinite(row[name]) else math.inf
                records.append({"loss": row["loss"], "kn_method": row["kn_method"], "ingredient": name,
                                "value": float(row[name]), "stderr": se})
    return BoundCheck(table, pd.DataFrame.from_records(records))


def exceedance(settings, replicates: int = 20, seed=0, *, beta=None, bootstrap: int = 40, progress=None):
    """How often the observed gap exceeds each bound, across settings.

    ``settings``: a list of LogisticSetting (or a dict name -> LogisticSetting). Each setting
    gets its own ``SeedSequence.spawn`` child of ``seed``. Returns a DataFrame with one row per
    (setting, loss, kn_method, theorem, form, side): the bound's value and stderr, the observed
    gen_S and its stderr, ``holds`` (slack ≥ 0), ``exceeds_significantly`` (z < −2) and the
    setting's parameters; ``exceedance_summary(table)`` gives the frequencies per bound.
    """
    import pandas as pd

    from .setting import _seed_sequence

    items = list(settings.items()) if isinstance(settings, dict) else [(f"setting {i}", s)
                                                                     for i, s in enumerate(settings)]
    if not items:
        raise GaussDistillError("settings must hold at least one LogisticSetting")
    children = _seed_sequence(seed).spawn(len(items))
    tables = []
    for (name, s), child in zip(items, children):
        if not hasattr(s, "simulate"):
            raise GaussDistillError(f"settings[{name!r}] must be a LogisticSetting; got {type(s).__name__}")
        t = evaluate_bounds(s, replicates, child, beta=beta, bootstrap=bootstrap, progress=progress).table
        t.insert(0, "setting", name)
        for key in ("k", "d", "n", "rank", "gamma", "temperature"):
            t[key] = getattr(s, key)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    table["exceeds_significantly"] = table["z"] < -2.0
    return table


def exceedance_summary(table):
    """Per (loss, kn_method, theorem, form, side): settings, how many hold, how many exceed (z < −2)."""
    g = table.groupby(["loss", "kn_method", "theorem", "form", "side"])
    return g.agg(settings=("holds", "size"), holds=("holds", "sum"),
                 exceeds_significantly=("exceeds_significantly", "sum")).reset_index()
