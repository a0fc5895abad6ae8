r"""Monte Carlo simulation of the case-study pipeline, batched over replicates.

:func:`simulate_pipeline` runs label noise → teacher draw → soft labels → student
(docs/mathematics.md §2.1) for R replicates in chunks on a leading axis, and returns a frozen
:class:`SimulationResult`: per-quantity means with standard errors, the exact values where the
setting has closed forms, the empirical CGF of the teacher gap, and every bound evaluated from
estimated and from exact ingredients. :func:`simulate` returns just the bound table.

Seeds: ``seed`` (int ≥ 0, a SeedSequence, or None for fresh entropy) feeds one
``SeedSequence``, spawned once per chunk; the chunk size depends only on the setting and R,
so a seed gives bit-identical results. A tqdm progress bar is shown for runs of more than
one chunk when stderr is a terminal (``progress=True``/``False`` forces it).
"""
from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._numerics.scaling import pow2_scale
from ..bounds.result import FrozenDict
from ..errors import GaussDistillError
from .cgf import EmpiricalCGF
from .pipeline import KIND_COLUMNS, draw_chunk

#: Largest replicate count accepted (far beyond any memory or time budget; keeps the count an index).
MAX_REPLICATES = 2**40
#: KL values within KL_ROUNDING·k·max(d, n) nats of the exact one count as equal in the z column (rounding).
KL_ROUNDING = 1e4 * np.finfo(float).eps ** 2
#: Floats per replicate allowed in one chunk (E and, in the random design, X dominate).
CHUNK_FLOATS = 2**22

QUANTITIES = ("gen_T", "gen_S", "gen_gap", "risk_T", "risk_S", "emp_risk_T", "emp_risk_S",
              "K_weight", "K_predictive", "K_convexity", "first_order", "curvature", "rho2",
              "kappa", "kappa_rho2", "I_SKL")


def _check_replicates(replicates):
    if isinstance(replicates, (float, np.floating)) and math.isfinite(replicates) and float(replicates).is_integer():
        replicates = int(replicates)
    if isinstance(replicates, bool) or not isinstance(replicates, (numbers.Integral, np.integer)) or replicates < 2:
        raise GaussDistillError(f"replicates must be an integer >= 2 (a standard error needs two); got {replicates!r}")
    if replicates > MAX_REPLICATES:
        raise GaussDistillError(f"replicates must be <= {MAX_REPLICATES} (2^40); got {replicates!r}"[:200])
    return int(replicates)


def _seed_sequence(seed):
    """A fresh SeedSequence for ``seed`` (never the caller's object: spawning mutates it).

    A SeedSequence is copied (same entropy, spawn key and children count), so passing the same
    one twice gives the same results; a numpy Generator supplies 128 bits of entropy from its
    stream (reproducible for a Generator in a given state, and it advances the Generator).
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size,
                                      n_children_spawned=seed.n_children_spawned)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence([int(x) for x in seed.integers(0, 2**32, size=4, dtype=np.uint64)])
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)) or int(seed) < 0:
        raise GaussDistillError("seed must be None, a non-negative integer, a numpy SeedSequence or a numpy "
                                f"Generator; got {seed!r}")
    return np.random.SeedSequence(int(seed))


def chunk_size(cs, replicates: int) -> int:
    """Replicates per chunk: an even number with about CHUNK_FLOATS floats of noise in flight."""
    per = cs.k * cs.n + 4 * cs.k * cs.d + (cs.d * cs.n + cs.d * cs.d if cs.design == "random" else 0)
    size = max(2, min(replicates, CHUNK_FLOATS // max(per, 1)))
    return size - (size % 2) if size < replicates else size


def _progress_bar(progress, total, chunks):
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise GaussDistillError(f"progress must be None, True or False; got {progress!r}")
    show = (sys.stderr.isatty() and chunks > 1) if progress is None else bool(progress)
    if not show:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="simulate", unit="rep", disable=False)


def draw_samples(cs, replicates: int, seed=0, progress=None) -> dict:
    """Per-replicate arrays of every simulated quantity (length ``replicates``; ``_skl_pairs`` shorter)."""
    from ..linear_gaussian.case_study import CaseStudy
    if not isinstance(cs, CaseStudy):
        raise GaussDistillError(f"case_study must be a gaussdistill.CaseStudy; got {type(cs).__name__}")
    R = _check_replicates(replicates)
    ss = _seed_sequence(seed)
    size = chunk_size(cs, R)
    starts = list(range(0, R, size))
    bar = _progress_bar(progress, R, len(starts))
    parts = []
    try:
        for child, start in zip(ss.spawn(len(starts)), starts):
            rr = min(size, R - start)
            parts.append(draw_chunk(cs, np.random.default_rng(child), rr))
            if bar is not None:
                bar.update(rr)
    finally:
        if bar is not None:
            bar.close()
    keys = set.intersection(*(set(p) for p in parts))
    out = {key: np.concatenate([p[key] for p in parts]) for key in sorted(keys)}
    for arr in out.values():
        arr.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Monte Carlo estimates for one CaseStudy (frozen).

    Attributes
    ----------
    case_study, replicates, seed
    estimates : pandas DataFrame, one row per quantity: value (mean), stderr (sample std/√R),
        exact (closed form where the setting has one, else NaN), z ((value − exact)/stderr).
        Quantities: gen_T, gen_S, gen_gap = gen_S − gen_T (paired), risk_T, risk_S, emp_risk_T,
        emp_risk_S, K_weight, K_predictive, K_convexity (E_D of the exact conditional KL; the
        sampled rank-r student: its convexity upper bound E_Ŷ KL), first_order
        (E⟨∇g(W_T, D), W_S − W_T⟩), curvature (E tr(Δ(Σ_x − XXᵀ/n)Δᵀ), 0 in the fixed design),
        rho2 (E‖W_S − W_T‖²), kappa and kappa_rho2 (random design: κ(D) = 2‖Σ_x − XXᵀ/n‖_op and
        E[κ(D)‖W_S − W_T‖²]), I_SKL (t_T > 0: symmetrised KL information of the teacher from
        disjoint pairs of replicates).
    cgf : the empirical CGF of the teacher gap (:class:`EmpiricalCGF`, callable, ``.domain``).
    cgf_predictive : fixed design: the empirical ψ_Y, the CGF of h = g(W_T, D) + τ⟨2νE/n, E′⟩
        (docs/mathematics.md §4.2), from one simulated channel draw per replicate; else None.
    bounds : pandas DataFrame, see :func:`simulate`.
    samples : read-only mapping (picklable) of the per-replicate arrays (read-only).
    """

    case_study: Any
    replicates: int
    seed: object
    samples: FrozenDict
    estimates: Any
    cgf: EmpiricalCGF
    cgf_predictive: EmpiricalCGF | None = None
    bounds: Any = field(repr=False, default=None)

    def estimate(self, quantity: str) -> tuple:
        """(value, stderr) of one quantity."""
        row = self.estimates[self.estimates["quantity"] == quantity]
        if not len(row):
            raise GaussDistillError(f"unknown quantity {quantity!r}; available: {list(self.estimates['quantity'])}")
        return float(row["value"].iloc[0]), float(row["stderr"].iloc[0])

    def exact(self, quantity: str) -> float:
        row = self.estimates[self.estimates["quantity"] == quantity]
        return float(row["exact"].iloc[0]) if len(row) else math.nan

    def estimated_ingredients(self) -> dict:
        """Bound ingredients from the simulation alone (marked as estimates)."""
        get = lambda q: self.estimate(q)[0]  # noqa: E731
        out = {"gen_T": get("gen_T"), "gen_S": get("gen_S"), "first_order": get("first_order"),
               "psi": self.cgf, "psi_Y": self.cgf_predictive,
               "estimated": {"gen_T", "gen_S", "psi", "psi_Y", "first_order", "rho2", "kappa",
                                                "K_weight", "K_predictive", "K_convexity"}}
        out.update({col: get(col) for col in KIND_COLUMNS.values()})
        if self.case_study.design == "fixed":
            out["kappa"], out["rho2"] = 0.0, get("rho2")
        else:
            rho2, krho2 = get("rho2"), get("kappa_rho2")
            out["rho2"] = rho2
            out["kappa"] = krho2 / rho2 if rho2 > 0 else get("kappa")
        return out

    def long_table(self):
        """Estimates and bound rows in one long DataFrame (what a sweep records per setting)."""
        import pandas as pd
        est = self.estimates.assign(kind="estimate")
        b = self.bounds.copy()
        b["quantity"] = ("bound:" + b["theorem"].astype(str) + ":" + b["form"] + ":" + b["side"] + ":"
                         + b["divergence"].fillna("none") + ":" + b["ingredients"])
        b["kind"] = "bound"
        return pd.concat([est, b], ignore_index=True, sort=False)

    def to_dict(self) -> dict:
        return {"case_study": self.case_study.to_dict(), "replicates": self.replicates,
                "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
                "estimates": self.estimates.to_dict(orient="records"),
                "bounds": None if self.bounds is None else self.bounds.to_dict(orient="records")}


def _scaled_mean(x) -> float:
    """Mean of finite values without overflow in the sum (values up to 1e308)."""
    scale = pow2_scale(x)
    return float(np.mean(x / scale) * scale) if scale > 0 else 0.0


def _scaled_std(x) -> float:
    """Sample standard deviation (ddof=1) of finite values without overflow in the squares."""
    scale = pow2_scale(x)
    return float(np.std(x / scale, ddof=1) * scale) if scale > 0 else 0.0


def _estimates_table(cs, samples):
    import pandas as pd
    # The closed forms the bounds use (gen_T, gen_S, K_*, and in the fixed design the Theorem 3
    # terms), without the CGF callables and κ, plus the risks where gen_S is exact.
    exact = {q: v for q, v in cs.exact_ingredients().items() if q in QUANTITIES and q != "kappa"}
    if "gen_S" in exact:
        exact["gen_gap"] = exact["gen_S"] - exact["gen_T"]
        exact.update(cs.risks())
        if cs.design == "fixed":
            exact["curvature"] = 0.0
    if cs.teacher_temperature > 0 and "gen_T" in exact:
        exact["I_SKL"] = exact["gen_T"] * cs.n / (2 * cs.teacher_temperature * cs.noise**2)   # Gibbs: γ gen_T
    rows = []
    for q in QUANTITIES:
        if q == "I_SKL":
            if "_skl_pairs" not in samples:
                continue
            x = samples["_skl_pairs"] / 2.0
        elif q in samples:
            x = samples[q]
        else:
            continue
        finite = np.isfinite(x).all()
        mean = _scaled_mean(x) if finite else math.inf
        if not finite:
            se = math.nan
        elif x.size < 2:   # one draw (e.g. one replicate pair for I_SKL): no spread to estimate
            se = math.inf
        else:
            se = _scaled_std(x) / math.sqrt(x.size)
        ex = exact.get(q, math.nan)
        z = math.nan
        # a KL is dimensionless: below KL_ROUNDING·k·d nats it is the rounding of a zero KL (u − log1p(u) of
        # u ~ ε per mode), e.g. 7e-31 from identical teacher and student laws; z would be ~50
        kl_floor = KL_ROUNDING * cs.k * max(cs.d, cs.n) if q.startswith("K_") else 0.0
        if math.isfinite(ex) and finite and abs(mean - ex) <= kl_floor:
            z = 0.0
        elif math.isfinite(ex) and finite:
            scale = max(abs(mean), abs(ex), 1e-300)
            if se > 1e-12 * scale:
                z = (mean - ex) / se
            else:   # a deterministic quantity (e.g. K with λ = 0 in the random design): compare to rounding
                z = 0.0 if abs(mean - ex) <= 1e-10 * scale else math.copysign(math.inf, mean - ex)
        rows.append({"quantity": q, "value": mean, "stderr": se, "exact": ex, "z": z, "replicates": int(x.size)})
    return pd.DataFrame.from_records(rows)


def _bounds_table(cs, result, samples, z=4.0):
    import pandas as pd

    from ..linear_gaussian.case_study import bound_table_for
    gS, seS = result.estimate("gen_S")
    diff = samples["gen_S"] - samples["gen_T"]
    se_diff = _scaled_std(diff) / math.sqrt(diff.size) if np.isfinite(diff).all() else math.nan
    tables = []
    est = result.estimated_ingredients()
    t = bound_table_for(cs, est, gen_student=gS)
    t["ingredients"], t["stderr"] = "estimated", max(se_diff, 1e-300)
    tables.append(t)
    exact = cs.exact_ingredients()
    if exact:
        mixed = dict(est)
        mixed.update(exact)
        mixed["estimated"] = set(est["estimated"]) - set(exact)
        t = bound_table_for(cs, mixed, gen_student=gS)
        t["ingredients"] = "exact" if not mixed["estimated"] else "exact+monte carlo"
        t["stderr"] = seS
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    table = table.rename(columns={"gen_student": "observed", "valid": "assumptions_met"})
    table.insert(0, "bound", "theorem " + table["theorem"].astype(str) + " " + table["form"] + " " + table["side"])
    sign = np.where(table["side"] == "upper", 1.0, -1.0)
    with np.errstate(invalid="ignore"):
        table["slack"] = sign * (table["value"] - table["observed"])
        table["holds"] = ~(table["slack"] < -z * table["stderr"])
    table["valid"] = table["assumptions_met"]
    return table


def simulate_pipeline(case_study, replicates: int = 1000, seed=0, progress=None) -> SimulationResult:
    """Simulate the pipeline ``replicates`` times and estimate every quantity (see :class:`SimulationResult`)."""
    import pandas as pd  # noqa: F401  (fail early if pandas is missing)
    samples = draw_samples(case_study, replicates, seed, progress)
    estimates = _estimates_table(case_study, samples)
    cgf = EmpiricalCGF.of(samples["gen_T"])
    cgf_y = EmpiricalCGF.of(samples["_h_T"]) if "_h_T" in samples else None
    result = SimulationResult(case_study, int(replicates), seed, FrozenDict(samples), estimates, cgf, cgf_y)
    object.__setattr__(result, "bounds", _bounds_table(case_study, result, samples))
    return result


def simulate(case_study, replicates: int = 1000, seed=0, progress=None):
    r"""Monte Carlo check of every bound: a pandas DataFrame, one row per (bound, divergence, ingredients).

    Columns: bound, theorem, form, side, divergence, value, observed (the simulated gen_S),
    stderr (of gen_S for exact ingredients; of the paired gen_S − gen_T for estimated ones,
    whose bounds are gen_T-estimate ± a term), slack (value − observed for upper bounds,
    observed − value for lower ones), holds (slack ≥ −4·stderr), assumptions_met / valid,
    failed_assumptions, ingredients ("estimated", "exact" or "exact+monte carlo"), and the
    columns of :func:`gaussdistill.bounds.bound_table` (tighter, lambda, eta, c, rho, rho0, ...).
    """
    return simulate_pipeline(case_study, replicates, seed, progress).bounds


__all__ = ["simulate", "simulate_pipeline", "SimulationResult", "EmpiricalCGF", "draw_samples", "chunk_size"]
