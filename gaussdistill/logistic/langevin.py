r"""Batched preconditioned Langevin samplers (MALA and ULA), chains on a leading axis.

For a target density π on R^p and a constant symmetric positive-definite preconditioner
P = R Rᵀ (shared by all chains, or one per chain), a step from x proposes

.. math::
    y = x + h\, P\nabla\log\pi(x) + \sqrt{2h}\, R\,\xi,\qquad \xi\sim N(0, I_p),

the Euler step of :math:`dX = P\nabla\log\pi(X)\,dt + \sqrt2\,R\,dB`, whose invariant law is π.

* ``method="ula"`` (unadjusted Langevin) always moves to y. Its stationary law differs from
  π by O(h): for a Gaussian target with precision H and P = I the mean is exact and the
  stationary covariance is :math:`H^{-1}(I - hH/2)^{-1}` (relative bias hλ/2 in the
  eigendirection of precision λ); with P = R Rᵀ apply this to z = R⁻¹x (precision RᵀHR).
* ``method="mala"`` (Metropolis-adjusted, Roberts & Tweedie 1996) accepts y with probability
  :math:`\min\{1, \pi(y)q(x\mid y)/(\pi(x)q(y\mid x))\}`, with
  :math:`\log q(x\mid y) - \log q(y\mid x) = \tfrac12\|\xi\|^2 - \tfrac12\|u\|^2`,
  :math:`u = \xi + \sqrt{h/2}\,R^T(\nabla\log\pi(x)+\nabla\log\pi(y))`
  (R⁻¹P = Rᵀ). π is then exactly invariant for every h: no step-size bias, and the step
  can be large. It costs the same as ULA per step (the gradient at y is reused as the next
  step's), plus one uniform draw per chain.

All chains advance together: the state is one array ``(n_chains, p)``; a step costs one call
of the model's batched ``log_density_and_grad``, one Gaussian draw for every chain and a few
(n_chains, p) operations. No Python loop runs over chains.

Divergence: a non-finite or exploding state (ULA), or MALA's acceptance rate below 1 % after
burn-in (the chains are stuck because h is too large), raises a :class:`GaussDistillError`
naming the step size. MALA treats a non-finite log density at a proposal as a rejection.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError
from . import diagnostics

METHODS = ("mala", "ula")


@dataclass(frozen=True)
class Preconditioner:
    """P = R Rᵀ, shared (p×p) or per chain (n_chains×p×p); applied to rows (x is (n_chains, p))."""

    P: np.ndarray
    R: np.ndarray

    @classmethod
    def identity(cls, p: int) -> Preconditioner:
        eye = np.eye(p)
        return cls(eye, eye)

    @classmethod
    def from_precision(cls, precision: np.ndarray) -> Preconditioner:
        """P = precision⁻¹ with R = L⁻ᵀ from the Cholesky factor L (set-up only, not per step)."""
        L = np.linalg.cholesky(precision)
        eye = np.broadcast_to(np.eye(precision.shape[-1]), precision.shape)
        L_inv = np.linalg.solve(L, eye)
        R = np.swapaxes(L_inv, -1, -2)
        return cls(R @ L_inv, np.ascontiguousarray(R))

    def _apply(self, M: np.ndarray, v: np.ndarray, transpose: bool) -> np.ndarray:
        if M.ndim == 2:
            return v @ (M if transpose else M.T)
        Mt = M if transpose else np.swapaxes(M, 1, 2)
        return (v[:, None, :] @ Mt)[:, 0, :]

    def apply_P(self, v):
        return self._apply(self.P, v, False)

    def apply_R(self, v):
        return self._apply(self.R, v, False)

    def apply_RT(self, v):
        return self._apply(self.R, v, True)


@dataclass(frozen=True)
class ChainRun:
    """The result of one batched Langevin run.

    Attributes
    ----------
    final : (n_chains, p) last state of every chain (one draw per chain).
    trace : (n_kept, n_chains, q) the model's summaries after burn-in, thinned.
    step : the step size h used; method: "mala" or "ula".
    n_steps, burn_in, thin : the schedule.
    acceptance : MALA's acceptance rate after burn-in (1.0 for ULA).
    rhat_max : largest split R-hat over the summaries.
    ess_min : smallest effective sample size (all chains together) over the summaries.
    """

    final: np.ndarray
    trace: np.ndarray
    step: float
    method: str
    n_steps: int
    burn_in: int
    thin: int
    acceptance: float
    rhat_max: float
    ess_min: float

    def to_dict(self) -> dict:
        return {"step": self.step, "method": self.method, "n_steps": self.n_steps, "burn_in": self.burn_in,
                "thin": self.thin, "acceptance": self.acceptance, "rhat_max": self.rhat_max,
                "ess_min": self.ess_min, "n_chains": self.final.shape[0]}


def run_chains(log_density_and_grad: Callable[[np.ndarray], tuple], x0: np.ndarray, step: float,
               n_steps: int, rng: np.random.Generator, *, burn_in: int, method: str = "mala",
               precond: Preconditioner | None = None, n_trace: int = 200,
               summary: Callable[[np.ndarray], np.ndarray] | None = None,
               limit: float = 1e8, check_every: int = 10, what: str = "Langevin",
               own_targets: bool = False) -> ChainRun:
    """Run MALA or ULA on all chains at once (module docstring for the update).

    Parameters
    ----------
    log_density_and_grad : x (n_chains, p) -> (log π(x) up to a constant (n_chains,), ∇log π(x) (n_chains, p)).
    x0 : (n_chains, p) initial states (copied).
    step : h > 0.
    n_steps : total number of steps; the last ``n_steps - burn_in`` are traced.
    rng : numpy Generator.
    burn_in : steps discarded before tracing.
    method : "mala" or "ula".
    precond : the constant preconditioner (default identity).
    n_trace : at most this many traced states per chain (thinned evenly).
    summary : x -> (n_chains, q) quantities for the diagnostics (default: x itself).
    limit : a state entry above this in absolute value counts as divergence.
    own_targets : True when each chain targets its own law (the student chains, each fitted
        to its own teacher draw): the diagnostics are then computed on each chain's trace
        minus its own mean, so that split R-hat compares only a chain's two halves.
    """
    if method not in METHODS:
        raise GaussDistillError(f"unknown method {method!r}; valid values are 'mala', 'ula'")
    if not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise GaussDistillError(f"step must be a finite number > 0; got {step!r}")
    if burn_in >= n_steps - 3:
        raise GaussDistillError(f"burn_in ({burn_in}) must leave at least 4 traced steps of n_steps ({n_steps})")
    if np.ndim(x0) != 2 or not np.all(np.isfinite(x0)):
        raise GaussDistillError(f"x0 must be a finite (n_chains, p) array; got shape {np.shape(x0)}")
    summary = summary if summary is not None else (lambda s: s)
    precond = precond if precond is not None else Preconditioner.identity(x0.shape[1])
    x = np.array(x0, dtype=float, copy=True)
    kept = n_steps - burn_in
    thin = max(1, -(-kept // n_trace))
    traced: list = []
    accepted = 0.0
    root = math.sqrt(2.0 * step)
    half = math.sqrt(step / 2.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lp, g = log_density_and_grad(x)
        if not np.all(np.isfinite(lp)):
            raise GaussDistillError(f"{what}: the log density is not finite at the initial states")
        for t in range(n_steps):
            xi = rng.standard_normal(x.shape)
            y = x + step * precond.apply_P(g)
            y += root * precond.apply_R(xi)
            if method == "ula":
                x = y
                lp, g = log_density_and_grad(x)
                if (t + 1) % check_every == 0 or t + 1 == n_steps:
                    _check(x, t + 1, step, limit, what)
            else:
                lp_y, g_y = log_density_and_grad(y)
                u = xi + half * precond.apply_RT(g + g_y)
                log_alpha = lp_y - lp + 0.5 * (np.einsum("ij,ij->i", xi, xi) - np.einsum("ij,ij->i", u, u))
                accept = np.log(rng.random(x.shape[0])) < log_alpha     # NaN compares False: rejected
                x[accept], lp[accept], g[accept] = y[accept], lp_y[accept], g_y[accept]
                if t >= burn_in:
                    accepted += float(accept.mean())
            if t >= burn_in and (t - burn_in) % thin == thin - 1:
                traced.append(np.array(summary(x), dtype=float))
    acceptance = accepted / kept if method == "mala" else 1.0
    if method == "mala" and acceptance < 0.01:
        raise GaussDistillError(
            f"{what} is stuck: MALA accepted {acceptance:.2%} of proposals after burn-in; step size "
            f"{step:.4g} is too large for this posterior (lower step_scale or pass a smaller step)"
        )
    trace = np.stack(traced)
    diag = diagnostics.summarize(trace - trace.mean(axis=0) if own_targets else trace)
    return ChainRun(final=x, trace=trace, step=float(step), method=method, n_steps=n_steps, burn_in=burn_in,
                    thin=thin, acceptance=acceptance, rhat_max=diag["rhat_max"], ess_min=diag["ess_min"])


def _check(x: np.ndarray, t: int, step: float, limit: float, what: str) -> None:
    biggest = float(np.max(np.abs(x)))
    if not math.isfinite(biggest) or biggest > limit:
        state = "non-finite" if not math.isfinite(biggest) else f"exploding (max |x| = {biggest:.3g} > {limit:.3g})"
        raise GaussDistillError(
            f"{what} diverged at step {t}: the state became {state}; step size {step:.4g} is too large "
            "for this posterior (lower step_scale or pass a smaller step)"
        )
