r"""The empirical CGF of simulated teacher gaps, with the λ-range where it is trustworthy."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._numerics.scaling import pow2_scale
from ..errors import GaussDistillError


def logsumexp(a, axis):
    """log Σ exp(a) along ``axis`` with the maximum factored out (finite input)."""
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))



@dataclass(frozen=True, eq=False)
class EmpiricalCGF:
    r"""ψ̂(λ) = log (1/R) Σ_i exp(λ(g_i − ḡ)) from R simulated gaps g_i.

    ``domain`` = (lo, hi): the λ on a log-spaced grid (scaled by 1/sd(g)) where the
    exponential weights keep an effective sample size (Σw)²/Σw² ≥ max(10, R/20); outside it
    a few replicates dominate and ψ̂ underestimates ψ. Calls outside the domain return +inf.
    """

    samples: np.ndarray
    domain: tuple

    @classmethod
    def of(cls, samples) -> EmpiricalCGF:
        if isinstance(samples, (str, bytes)):
            raise GaussDistillError("samples must be a finite 1-D array of at least 2 gaps; got a string")
        try:
            raw = np.asarray(samples)
        except (ValueError, TypeError):
            raise GaussDistillError("samples must be a finite 1-D array of at least 2 gaps (ragged input)") from None
        if raw.dtype.kind not in "iuf":
            raise GaussDistillError(f"samples must be real numbers; got dtype {raw.dtype}")
        x = raw.astype(float)
        if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
            raise GaussDistillError("samples must be a finite 1-D array of at least 2 gaps")
        scale = pow2_scale(x)
        if scale > 0:                   # no overflow in the sum or the squares for gaps up to 1e308
            x = (x / scale - np.mean(x / scale)) * scale
        x.setflags(write=False)
        sd = float(np.std(x / scale) * scale) if scale > 0 else 0.0
        if sd == 0:
            return cls(x, (-math.inf, math.inf))
        need = max(10.0, x.size / 20.0)
        grid = np.logspace(-3, 3, 121) / sd
        lo = hi = 0.0
        for sign in (1.0, -1.0):
            lam = sign * grid[:, None]
            a = lam * x[None, :]
            ess = np.exp(2 * logsumexp(a, axis=1) - logsumexp(2 * a, axis=1))
            ok = grid[ess >= need]
            edge = float(ok.max()) if ok.size else 0.0
            if sign > 0:
                hi = edge
            else:
                lo = -edge
        return cls(x, (lo, hi))

    def __call__(self, lam):
        from ..bounds.quadratic_form import _lam_array
        lam_arr = _lam_array(lam)
        if np.isnan(lam_arr).any():
            raise GaussDistillError("lam must not be NaN")
        flat = lam_arr.reshape(-1)
        out = logsumexp(flat[:, None] * self.samples[None, :], axis=1) - math.log(self.samples.size)
        lo, hi = self.domain
        out = np.where((flat > lo) & (flat < hi) | (flat == 0), out, np.inf)
        out = out.reshape(lam_arr.shape)
        return float(out) if lam_arr.ndim == 0 else out

    def to_dict(self) -> dict:
        return {"replicates": int(self.samples.size), "domain": list(self.domain)}
