"""Parameter symbols of the aligned spectral model (docs/mathematics.md §2.1, §2.4).

Every symbol carries the assumptions the model guarantees, and nothing more: extra
assumptions make ``simplify``/``factor`` slow (a known sympy limitation) and we never need
them to hold for a derivation step.  The LaTeX names are what papers write
(``\\nu``, ``\\tau``, ``\\lambda_{T}``, ``t_{S}``, ``s_{j}``, ``w_{j}``).
"""
from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import sympy as sp

#: Names of the scalar (non-spectral) parameters, in the order used for lambdify.
SCALAR_NAMES = ("k", "n", "nu", "tau", "lambda_T", "lambda_S", "t_T", "t_S", "c", "m")

#: Human description of each parameter (used in error messages and docs).
DESCRIPTIONS = {
    "k": "number of outputs (rows of W); integer >= d in the aligned model",
    "n": "number of samples (columns of X); only the gaps depend on it",
    "nu": "label-noise standard deviation nu >= 0",
    "tau": "soft-label channel noise tau > 0",
    "lambda_T": "teacher ridge lambda_T >= 0",
    "lambda_S": "student ridge lambda_S >= 0",
    "t_T": "teacher temperature t_T >= 0 (0: deterministic ridge teacher)",
    "t_S": "student temperature t_S >= 0 (0: deterministic student)",
    "c": "uniform shrinkage factor of the 'shrinkage' student, M_S = c [M_S]_r",
    "m": "number of soft-label draws averaged by the 'sampled' student (m >= 1)",
    "s": "eigenvalues s_1..s_d of X X^T (all > 0)",
    "w": "singular values w_1..w_d of the ground truth W* (aligned with X)",
}


@dataclass(frozen=True)
class ModelSymbols:
    """The sympy symbols of the aligned model with ``d`` modes.

    Attributes
    ----------
    d : int
        Number of modes (concrete, small).
    k, n, nu, tau, lambda_T, lambda_S, t_T, t_S, c : sympy.Symbol
        Scalar parameters (c: shrinkage factor of the 'shrinkage' student).
    s, w : tuple of sympy.Symbol
        Per-mode spectra ``s_1..s_d`` (eigenvalues of X Xᵀ) and ``w_1..w_d``
        (singular values of W⋆ in the shared right basis).
    s_j, w_j, kappa_j : sympy.Symbol
        A *generic* mode ``j``, used only to display the per-mode term of a sum.
        ``kappa_j`` is the indicator "mode j is kept by the rank-r student".
    """

    d: int
    k: sp.Symbol
    n: sp.Symbol
    nu: sp.Symbol
    tau: sp.Symbol
    lambda_T: sp.Symbol
    lambda_S: sp.Symbol
    t_T: sp.Symbol
    t_S: sp.Symbol
    c: sp.Symbol
    m: sp.Symbol
    s: tuple
    w: tuple
    s_j: sp.Symbol
    w_j: sp.Symbol
    kappa_j: sp.Symbol
    r: sp.Symbol
    d_sym: sp.Symbol

    def scalars(self) -> tuple:
        return tuple(getattr(self, name) for name in SCALAR_NAMES)

    def mapping(self) -> dict:
        """Parameter name -> symbol (spectra both as tuples and as ``s_1``, ``w_2``...)."""
        out = {name: getattr(self, name) for name in SCALAR_NAMES}
        out["s"] = self.s
        out["w"] = self.w
        for j in range(self.d):
            out[f"s_{j + 1}"] = self.s[j]
            out[f"w_{j + 1}"] = self.w[j]
        return out


def model_symbols(d: int) -> ModelSymbols:
    """Symbols for the aligned model with ``d`` modes (cached: same objects every call)."""
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or not 1 <= d <= 12:
        from ..errors import GaussDistillError
        raise GaussDistillError(f"d={d!r}: the number of modes must be an int in 1..12")
    return _model_symbols(int(d))


@functools.cache
def _model_symbols(d: int) -> ModelSymbols:
    nonneg = dict(real=True, nonnegative=True)
    return ModelSymbols(
        d=d,
        k=sp.Symbol("k", integer=True, positive=True),
        n=sp.Symbol("n", integer=True, positive=True),
        nu=sp.Symbol("nu", **nonneg),
        tau=sp.Symbol("tau", positive=True),
        lambda_T=sp.Symbol("lambda_T", **nonneg),
        lambda_S=sp.Symbol("lambda_S", **nonneg),
        t_T=sp.Symbol("t_T", **nonneg),
        t_S=sp.Symbol("t_S", **nonneg),
        c=sp.Symbol("c", real=True),
        m=sp.Symbol("m", integer=True, positive=True),
        s=tuple(sp.Symbol(f"s_{j}", positive=True) for j in range(1, d + 1)),
        w=tuple(sp.Symbol(f"w_{j}", real=True) for j in range(1, d + 1)),
        s_j=sp.Symbol("s_j", positive=True),
        w_j=sp.Symbol("w_j", real=True),
        kappa_j=sp.Symbol("kappa_j", nonnegative=True),
        r=sp.Symbol("r", integer=True, nonnegative=True),
        d_sym=sp.Symbol("d", integer=True, positive=True),
    )
