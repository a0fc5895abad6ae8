"""Choosing the student's rank: the oracle-subspace rule (closed form) and the data-driven
student by Monte Carlo (docs/mathematics.md §2.4–2.5).

:func:`oracle_optimal_rank` optimises the closed-form expressions, which for rank r < d and
ν > 0 describe the *oracle-subspace* student (the truncation replaced by the projection on
span(u_1..u_r)).  The student :func:`gaussdistill.rank_student` trains truncates its noisy
fit instead, and its best rank can differ; no closed form is known for it, so
:func:`monte_carlo_rank` simulates it through the numeric core and reports each rank's mean
objective with its standard error.
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np

from ._values import as_number, clean_choice, clean_int
from .decomposition import _Error
from .design import _objective, _prepare

ORACLE_MODEL = ("oracle-subspace student: the rank-r truncation replaced by the projection on "
                "span(u_1..u_r) (equal to the data-driven student at nu = 0, except the "
                "'sampled' student, which truncates a random fit)")
DATA_MODEL = ("data-driven student of gaussdistill.rank_student (truncated SVD of the noisy "
              "fit), by Monte Carlo over the label noise")


@dataclass(frozen=True)
class RankChoice:
    """Best student rank by the per-mode rule, with the numbers that justify it.

    ``gain[j-1]``/``cost[j-1]`` are the reduction/increase of the objective when mode j is
    added (going from rank j-1 to j); the rule keeps mode j while gain > cost.  ``by_rule``
    is the rank the rule gives (first failure stops), ``argmin`` the brute-force minimiser
    of objective(r) + price·r over r = 0..d; ``consistent`` says whether they agree (they
    do when the net gains are non-increasing in j).
    """

    by_rule: int
    argmin: int
    consistent: bool
    gain: tuple
    cost: tuple
    objective_by_rank: tuple
    marginal: tuple  # sympy: objective(j-1) - objective(j)
    rule: str
    student_model: str = ORACLE_MODEL

    def to_dict(self) -> dict:
        return dict(by_rule=self.by_rule, argmin=self.argmin, consistent=self.consistent,
                    gain=list(self.gain), cost=list(self.cost),
                    objective_by_rank=list(self.objective_by_rank), rule=self.rule,
                    student_model=self.student_model)


def oracle_optimal_rank(values, objective="risk", *, price=0.0, direction="student||teacher",
                        student="population", d=None) -> RankChoice:
    """Best rank r in 0..d *for the oracle-subspace student*: keep mode j while its
    marginal gain beats its cost.

    The rank-r expressions with ν > 0 describe the student projected on the oracle
    subspace span(u_1..u_r) (docs/mathematics.md §2.4), not the student
    :func:`gaussdistill.rank_student` trains (its truncation is of the noisy fit): the
    result says so in ``student_model``.  For the data-driven student use
    :func:`monte_carlo_rank`, which estimates each rank's objective by simulation.

    objective="risk": gain_j = risk(j-1) − risk(j) at ν = 0 (signal captured by mode j:
    s_j w_j² [1 − (1 − c g_j h_j)²]/n), cost_j = gain_j − (risk(j-1) − risk(j)) (noise
    admitted by one more output dimension of the oracle subspace: ν² Σ_i g_i² h_i²/n)
    plus ``price``.  For a divergence objective, gain_j = total(j-1) − total(j) and
    cost_j = ``price`` (a cost per unit of rank, e.g. parameters).  Rank-r expressions
    use the oracle subspace when ν > 0 (see :func:`aligned_decomposition`), and the
    spectra must be ordered (checked).  The step r = d − 1 → d also switches from the
    oracle projection (noise in r output directions) to the exact full-rank student
    (noise in all k directions), so its cost includes (k − d + 1) noise directions.
    """
    values, d = _prepare(values, d, None)
    price = as_number("price", price, allow_array=False)
    exprs, objs = [], []
    for r in range(d + 1):
        e, o = _objective(objective, d, r, student, direction)
        exprs.append(e)
        objs.append(o)
    key = {"risk": "risk_S", "gen_S": "gen_S"}.get(objective, "total")
    num = [float(o.evaluate(**values)[key]) for o in objs]  # also checks the ordering
    marginal = tuple(exprs[j - 1] - exprs[j] for j in range(1, d + 1))
    if objective == "risk":
        at0 = [float(o.evaluate(**dict(values, nu=0.0))[key]) for o in objs]
        gain = tuple(at0[j] - at0[j + 1] for j in range(d))
        cost = tuple(g - (num[j] - num[j + 1]) + price for j, g in enumerate(gain))
        rule = "keep mode j while s_j w_j^2 [1-(1-c g_j h_j)^2]/n > nu^2 sum_i g_i^2 h_i^2/n + price"
    else:
        gain = tuple(num[j] - num[j + 1] for j in range(d))
        cost = (float(price),) * d
        rule = "keep mode j while total(j-1) - total(j) > price"
    by_rule = 0
    for g, c in zip(gain, cost):
        if g > c:
            by_rule += 1
        else:
            break
    penalised = [v + price * r for r, v in enumerate(num)]
    argmin = int(np.argmin(penalised))
    return RankChoice(by_rule, argmin, by_rule == argmin, gain, cost, tuple(num),
                      marginal, rule, ORACLE_MODEL)




def optimal_rank(values, objective="risk", **kwargs) -> RankChoice:
    """Deprecated name of :func:`oracle_optimal_rank` (it optimises the oracle-subspace
    student, not the student :func:`gaussdistill.rank_student` trains)."""
    warnings.warn("optimal_rank is deprecated: it optimises the oracle-subspace student; use "
                  "oracle_optimal_rank (same result) or monte_carlo_rank (the data-driven "
                  "student)", DeprecationWarning, stacklevel=2)
    return oracle_optimal_rank(values, objective, **kwargs)


@dataclass(frozen=True)
class RankEstimate:
    """Best rank of the data-driven student, estimated by Monte Carlo.

    Attributes
    ----------
    rank : int
        argmin over r of mean[r] + price·r.
    mean, stderr : tuple of float
        Monte Carlo mean of the objective at each rank r = 0..d and its standard error.
    diff_stderr : tuple of float
        Standard error of mean[r] − mean[rank] (the draws are shared across ranks, so the
        differences are estimated more precisely than the means).
    draws, seed : int
    objective, student_model : str
    """

    rank: int
    mean: tuple
    stderr: tuple
    diff_stderr: tuple
    draws: int
    seed: int
    objective: str
    student_model: str = DATA_MODEL

    def to_dict(self) -> dict:
        return dict(rank=self.rank, mean=list(self.mean), stderr=list(self.stderr),
                    diff_stderr=list(self.diff_stderr), draws=self.draws, seed=self.seed,
                    objective=self.objective, student_model=self.student_model)


def aligned_design(s, w, k, n, rng):
    """X (d×n) and W⋆ (k×d) of the aligned model: X Xᵀ = V diag(s) Vᵀ, W⋆ = U diag(w) Vᵀ,
    random orthonormal V, U and the n×d factor of X."""
    d = len(s)
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Q = np.linalg.qr(rng.standard_normal((n, d)))[0]
    U = np.linalg.qr(rng.standard_normal((k, d)))[0]
    X = V @ np.diag(np.sqrt(s)) @ Q.T
    return X, U @ np.diag(w) @ V.T


def monte_carlo_rank(values, objective="risk", *, n=None, draws=200, seed=0, price=0.0,
                     direction="student||teacher", progress=None) -> RankEstimate:
    """Best rank of the student :func:`gaussdistill.rank_student` trains, by simulation.

    For each of ``draws`` label-noise draws Y = W⋆X + νE (aligned design built from
    ``values["s"]``, ``values["w"]``; the same draws for every rank) the numeric core fits
    the ridge teacher and the rank-r population student for r = 0..d and evaluates the
    objective: ``"risk"``, the fixed-design risk
    E L(W_S) = [‖(M_S − W⋆)X‖²_F + k tr(Xᵀ Σ_S X)]/n + kν² (docs/mathematics.md §2.5), or a
    divergence kind (its total, :func:`gaussdistill.divergence`).  Returns the mean and
    standard error per rank and the argmin of mean + price·r.

    Parameters
    ----------
    values : dict
        k, nu, tau, lambda_T, lambda_S, t_T, t_S, s, w (numbers; validated first).
    n : int or None
        Number of samples (default ``values["n"]`` or 2d + 2; n ≥ d).
    draws : int
        Monte Carlo draws (2..100000).
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed gives the same result.
    progress : bool or None
        A tqdm bar over the draws; None (default): only when stderr is a terminal.
    """
    import gaussdistill as gd

    from ..vocabulary import DIRECTIONS, KINDS
    values, d = _prepare(values, None, None)
    clean_choice("objective", objective, ("risk",) + KINDS)
    clean_choice("direction", direction, DIRECTIONS)
    draws = clean_int("draws", draws, 2, 100_000)
    seed = clean_int("seed", seed, 0)
    price = as_number("price", price, allow_array=False)
    if n is None:  # values["n"] is already a validated integer-valued float
        n = int(values["n"]) if values.get("n") is not None else 2 * d + 2
    n = clean_int("n", n, d, 100_000)
    missing = [nm for nm in ("k", "nu", "tau", "lambda_T", "lambda_S", "t_T", "t_S")
               if values.get(nm) is None]
    if missing:
        raise _Error("missing values for " + ", ".join(missing))
    k = clean_int("k", int(values["k"]), 1, 10_000)
    if k < d:
        raise _Error(f"k: the aligned model needs k >= d = {d}")
    if not values["nu"] > 0:
        raise _Error(f"nu={values['nu']!r}: the simulated teacher needs label noise nu > 0")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise _Error(f"progress={progress!r:.60}: must be None, True or False")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    rng = np.random.default_rng(seed)
    X, W = aligned_design(np.asarray(values["s"], float), np.asarray(values["w"], float), k, n, rng)
    nu, tau = values["nu"], values["tau"]
    out = np.empty((draws, d + 1))
    bar = None
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=draws, desc="monte_carlo_rank", unit="draw", leave=False)
    for i in range(draws):
        if bar is not None:
            bar.update(1)
        Y = W @ X + nu * rng.standard_normal((k, n))
        teacher = gd.ridge_teacher(X, Y, lam=values["lambda_T"], noise=nu, temperature=values["t_T"])
        for r in range(d + 1):
            student = gd.rank_student(teacher, X, rank=r, lam=values["lambda_S"], soft_noise=tau,
                                      temperature=values["t_S"])
            if objective == "risk":
                err = (student.mean - W) @ X
                cov = np.trace(X.T @ student.col_cov @ X)
                with np.errstate(all="ignore"):
                    out[i, r] = (np.sum(err**2) + k * cov) / n + k * nu**2
                if not np.isfinite(out[i, r]):
                    raise _Error("risk: not finite in float64 at these values (overflow: "
                                 "rescale s, w, nu)")
            else:
                out[i, r] = float(gd.divergence(student, teacher, X, soft_noise=tau, kind=objective,
                                                direction=direction).total)
    if bar is not None:
        bar.close()
    mean = out.mean(axis=0)
    stderr = out.std(axis=0, ddof=1) / np.sqrt(draws)
    best = int(np.argmin(mean + price * np.arange(d + 1)))
    diff = out - out[:, [best]]
    diff_se = diff.std(axis=0, ddof=1) / np.sqrt(draws)
    return RankEstimate(best, tuple(map(float, mean)), tuple(map(float, stderr)),
                        tuple(map(float, diff_se)), draws, seed, objective)
