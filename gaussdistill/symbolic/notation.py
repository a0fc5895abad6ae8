r"""The paper's per-mode notation, defined once (docs/mathematics.md §2.4).

In the aligned spectral model (``X Xᵀ = V diag(s) Vᵀ``, ``W⋆ = U diag(w) Vᵀ``) every part
of a distillation divergence is a sum over modes j of a scalar written with

* :math:`h_j = s_j/(s_j + \lambda_T)`, the teacher's ridge ("hat") factor;
* :math:`g_j = s_j/(s_j + \lambda_S)`, the student's ridge factor;
* :math:`\Gamma_j`, the divergence's metric on mode j of the weight space (the ``G`` of
  docs/mathematics.md §2.3 seen through ``X``): the mean part is
  :math:`\tfrac12 \sum_j \Gamma_j \lVert (M_S - M_T) v_j \rVert^2`;
* :math:`\rho_j`, the ratio of the student's and the teacher's variances on mode j (the
  first law's over the second's), whose covariance part is
  :math:`\tfrac{k}{2}(\rho_j - 1 - \ln \rho_j)`.

``s_j``, ``w_j`` are :class:`sympy.IndexedBase` entries, ``j`` an integer index, ``d`` and
``r`` integer symbols.  ``h``, ``g``, ``Gamma`` and ``rho`` are sympy functions of the
index that print as :math:`h_j` etc.; ``.doit()`` replaces them by their definitions, so
``Sum(..., (j, 1, d)).subs(d, 3).doit()`` is an explicit expression in ``s[1]..s[3]``.
:math:`\Gamma_j` and :math:`\rho_j` depend on the divergence and its direction:
:func:`metric` and :func:`variance_ratio` return the function for one of them (the table
:data:`METRICS`, :data:`RATIOS` below is the one place they are written).
"""
from __future__ import annotations

import functools

import sympy as sp

from ._symbols import model_symbols

#: Mode index, number of modes, student rank.
j = sp.Symbol("j", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)
r = sp.Symbol("r", integer=True, nonnegative=True)
#: Eigenvalues of X Xᵀ and singular values of W⋆, per mode.
s = sp.IndexedBase("s", positive=True)
w = sp.IndexedBase("w", real=True)

_P = model_symbols(1)  # scalar parameter symbols (the same objects for every d)
k, n, nu, tau, m, c = _P.k, _P.n, _P.nu, _P.tau, _P.m, _P.c
lambda_T, lambda_S, t_T, t_S = _P.lambda_T, _P.lambda_S, _P.t_T, _P.t_S


#: Every symbol the printed formulas use: name -> (LaTeX, meaning) (docs/mathematics.md §2.1).
SYMBOLS = {
    "k": ("k", "number of outputs (rows of $W$)"),
    "d": ("d", "number of modes (input dimension)"),
    "r": ("r", "student rank: the student keeps modes $1,\\dots,r$"),
    "s": ("s_j", "eigenvalues of $X X^{\\top}$, mode by mode"),
    "w": ("w_j", "singular values of $W^{\\star}$ in the same basis"),
    "n": ("n", "number of samples (columns of $X$)"),
    "nu": ("\\nu", "label-noise standard deviation"),
    "tau": ("\\tau", "soft-label channel noise"),
    "lambda_T": ("\\lambda_T", "teacher ridge"),
    "lambda_S": ("\\lambda_S", "student ridge"),
    "t_T": ("t_T", "teacher temperature"),
    "t_S": ("t_S", "student temperature"),
    "c": ("c", "uniform shrinkage factor of the student"),
    "m": ("m", "number of soft-label draws the student averages"),
}


class ModeQuantity(sp.Function):
    """A per-mode quantity of the notation: ``h(j)`` prints as :math:`h_j`.

    Subclasses set ``symbol`` (plain name), ``latex_name``, ``meaning`` and
    ``definition(j)`` (its value in terms of ``s[j]`` and the other notation).
    """

    nargs = 1
    symbol = "?"
    latex_name = "?"
    meaning = ""

    @classmethod
    def definition(cls, i):  # pragma: no cover - overridden
        raise NotImplementedError

    def doit(self, **hints):
        i = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return self.definition(i).doit(**hints)

    @property
    def free_symbols(self):
        # The parameters it stands for are free in it (so diff and subs see λ_T in h_j).
        return self.definition(self.args[0]).free_symbols | self.args[0].free_symbols

    def _eval_derivative(self, x):
        # Opaque to sympy's chain rule (its argument is the index): differentiate the definition.
        return sp.diff(self.definition(self.args[0]), x)

    def _eval_is_positive(self):
        return True

    def _eval_is_real(self):
        return True

    def _latex(self, printer, exp=None):
        base = rf"{self.latex_name}_{{{printer._print(self.args[0])}}}"
        return base if exp is None else rf"{base}^{{{exp}}}"

    def _sympystr(self, printer):
        return f"{self.symbol}_{printer._print(self.args[0])}"

    def _pretty(self, printer):
        return printer._print(sp.Symbol(f"{self.symbol}_{printer._print(self.args[0])}"))


class h(ModeQuantity):
    """h_j = s_j/(s_j + λ_T): the teacher's ridge factor on mode j."""

    symbol, latex_name = "h", "h"
    meaning = "teacher's ridge factor"

    @classmethod
    def definition(cls, i):
        return s[i] / (s[i] + lambda_T)


class g(ModeQuantity):
    """g_j = s_j/(s_j + λ_S): the student's ridge factor on mode j."""

    symbol, latex_name = "g", "g"
    meaning = "student's ridge factor"

    @classmethod
    def definition(cls, i):
        return s[i] / (s[i] + lambda_S)


def _vt(i):  # eigenvalue of the teacher's predictive column covariance V_T on q_j
    return tau**2 + t_T * nu**2 * h(i)


def _vs(i):  # eigenvalue of V_S on q_j
    return tau**2 * (1 + t_S * g(i))


#: Γ_j per (kind, direction): the metric of the mean part (docs/mathematics.md §2.3).
METRICS = {
    ("predictive", "student||teacher"): lambda i: s[i] / _vt(i),
    ("predictive", "teacher||student"): lambda i: s[i] / _vs(i),
    ("convexity", "student||teacher"): lambda i: s[i] / tau**2,
    ("convexity", "teacher||student"): lambda i: s[i] / tau**2,
    ("weight", "student||teacher"): lambda i: s[i] / (t_T * nu**2 * h(i)),
    ("weight", "teacher||student"): lambda i: s[i] / (t_S * tau**2 * g(i)),
}

#: ρ_j per (kind, direction): first law's variance over the second's on mode j (K̄ has none).
RATIOS = {
    ("predictive", "student||teacher"): lambda i: _vs(i) / _vt(i),
    ("predictive", "teacher||student"): lambda i: _vt(i) / _vs(i),
    ("weight", "student||teacher"): lambda i: (t_S * tau**2 * g(i)) / (t_T * nu**2 * h(i)),
    ("weight", "teacher||student"): lambda i: (t_T * nu**2 * h(i)) / (t_S * tau**2 * g(i)),
}


def _check_kind(kind, direction):
    from ..vocabulary import DIRECTIONS, KINDS
    from ._values import clean_choice
    clean_choice("kind", kind, KINDS)
    clean_choice("direction", direction, DIRECTIONS)


def metric(kind: str, direction: str):
    """The function Γ (printed :math:`\\Gamma_j`) of divergence ``kind`` in ``direction``."""
    _check_kind(kind, direction)
    return _metric(kind, direction)


@functools.cache
def _metric(kind, direction):
    return type("Gamma", (ModeQuantity,), dict(
        symbol="Gamma", latex_name=r"\Gamma", meaning="metric of the mean part",
        definition=classmethod(lambda cls, i: METRICS[(kind, direction)](i)),
        __module__=__name__, __doc__=f"Γ_j of the {kind} divergence, {direction}."))


def variance_ratio(kind: str, direction: str):
    """The function ρ (printed :math:`\\rho_j`) of ``kind``/``direction``; None for K̄."""
    _check_kind(kind, direction)
    return _variance_ratio(kind, direction)


@functools.cache
def _variance_ratio(kind, direction):
    if (kind, direction) not in RATIOS:
        return None
    return type("rho", (ModeQuantity,), dict(
        symbol="rho", latex_name=r"\rho", meaning="variance ratio",
        definition=classmethod(lambda cls, i: RATIOS[(kind, direction)](i)),
        __module__=__name__, __doc__=f"ρ_j of the {kind} divergence, {direction}."))


def quantities(kind: str, direction: str) -> tuple:
    """The notation a ``kind``/``direction`` decomposition uses: (h, g, Γ[, ρ])."""
    out = (h, g, metric(kind, direction))
    rho = variance_ratio(kind, direction)
    return out + ((rho,) if rho is not None else ())


def definitions(kind: str, direction: str) -> tuple:
    """``sympy.Eq(q_j, definition)`` for every quantity :func:`quantities` returns."""
    return tuple(sp.Eq(q(j), q.definition(j), evaluate=False) for q in quantities(kind, direction))


def unfold(expr):
    """Replace every notation quantity (h_j, g_j, Γ_j, ρ_j) by its definition, leaving sums
    as they are (no ``doit``: sympy's symbolic summation is slow and not needed)."""
    if not isinstance(expr, sp.Basic):
        from ..errors import GaussDistillError
        raise GaussDistillError(f"expr: expected a sympy expression, got {type(expr).__name__}")
    for _ in range(4):  # Γ_j, ρ_j are defined through h_j, g_j: at most two levels
        if not expr.has(ModeQuantity):
            break
        expr = expr.replace(lambda e: isinstance(e, ModeQuantity),
                            lambda e: e.definition(e.args[0]))
    return expr


def explicit(expr, d_value: int | None = None, r_value: int | None = None, symbols=None):
    """Replace the notation by its definitions and (optionally) fix ``d`` and ``r``.

    With ``d_value`` the sums are expanded (``doit``) and, when ``symbols`` (the
    :class:`ModelSymbols` of that d) is given, ``s[i]``/``w[i]`` become the concrete
    symbols ``s_i``/``w_i`` of :func:`aligned_decomposition`.
    """
    # The values are checked to be integers before sympy sees them (``subs`` sympifies, and
    # sympify evaluates strings); r outside 0..d has no meaning (the sums would run backwards).
    from ._values import clean_int
    if d_value is not None:
        d_value = clean_int("d", d_value, 1, 1000)
    if r_value is not None:
        r_value = clean_int("r", r_value, 0, d_value)
    out = expr
    if d_value is not None:
        out = out.subs(d, d_value)
    if r_value is not None:
        out = out.subs(r, r_value)
    out = out.doit()
    if symbols is not None:
        out = out.subs({s[i + 1]: symbols.s[i] for i in range(symbols.d)}
                       | {w[i + 1]: symbols.w[i] for i in range(symbols.d)})
    return out


__all__ = ["j", "d", "r", "s", "w", "h", "g", "metric", "variance_ratio", "quantities",
           "definitions", "explicit", "unfold", "METRICS", "RATIOS", "ModeQuantity"]
