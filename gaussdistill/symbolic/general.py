r"""General-d forms of a decomposition in the paper's notation (docs/mathematics.md §2.4).

:meth:`AlignedDecomposition.general` turns the generic-mode term the engine derived (one
scalar per mode, for a concrete d) into sums over symbolic ranges

.. math::

    \mathrm{variance} = \sum_{j=1}^{d} v_j,\qquad
    \mathrm{rank} = \tfrac12\sum_{j=1}^{r}\Gamma_j R^{\mathrm{kept}}_j
                  + \tfrac12\sum_{j=r+1}^{d}\Gamma_j R^{\mathrm{dropped}}_j,

and the same for the bias, written with :math:`h_j, g_j, \Gamma_j, \rho_j` of
:mod:`.notation` and factored per mode.  The per-mode brackets are *derived*: the
generic term is rewritten with :math:`\lambda_T = s_j(1-h_j)/h_j`,
:math:`\lambda_S = s_j(1-g_j)/g_j` and factored; the metric and the variance ratio the
engine derived are checked to equal the notation's definitions, so the general form is
the concrete one with the sums folded (``explicit(general, d_value=d)`` recovers it; the
tests check every kind, direction, student, expectation and rank).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import sympy as sp

from . import notation as nt

_H, _G = sp.Dummy("h", positive=True), sp.Dummy("g", positive=True)


def tidy(expr):
    """Print-friendly factored form: ``(k − r)`` rather than ``−(−k + r)``, ``(1 − g)²``
    rather than ``(g − 1)²`` (the value is unchanged)."""
    expr = sp.factor(expr)
    coeff, factors = expr.as_coeff_mul()
    out = []
    for f in factors:
        base, e = f.as_base_exp()
        if isinstance(base, sp.Add) and base.could_extract_minus_sign():
            if e.is_integer and e.is_even:
                f = (-base) ** e
            elif e == 1:
                f, coeff = -base, -coeff
        elif (isinstance(base, sp.Add) and e.is_integer and e.is_even
              and base.as_coeff_add()[0] < 0):
            f = (-base) ** e
        out.append(f)
    return sp.Mul(coeff, *out)


def _spread(expr, sj):
    """``c·A/s_j`` with one sum ``A`` containing ``s_j`` -> ``c·(A/s_j)`` spread over A's
    terms and collected in ν², τ² (``h_j²(w_j² + (k − r)ν²/s_j)``, as papers write it)."""
    coeff, factors = expr.as_coeff_mul()
    inv = [f for f in factors if f == 1 / sj]
    adds = [f for f in factors if isinstance(f, sp.Add) and f.has(sj)]
    if len(inv) != 1 or len(adds) != 1:
        return expr
    (A,) = adds
    from ._symbols import model_symbols
    P = model_symbols(1)
    spread = sp.collect(sp.expand(A / sj), [P.nu**2, P.tau**2], func=tidy)
    rest = [f for f in factors if f is not A and f is not inv[0]]
    return sp.Mul(coeff, *rest) * spread


def _to_notation(expr, S, kappa=None):
    """Rewrite a generic-mode expression of the engine with h_j, g_j, s[j], w[j], factored
    per group of terms (the 'sampled' student's soft-label noise, the terms with 1/m, is
    its own group)."""
    if kappa is not None:
        expr = expr.subs(S.kappa_j, kappa)
    sj = S.s_j
    expr = expr.subs({S.lambda_T: sj * (1 - _H) / _H, S.lambda_S: sj * (1 - _G) / _G})
    num, den = sp.fraction(sp.cancel(sp.together(expr)))
    terms = sp.Add.make_args(sp.expand(num))
    groups = [[t for t in terms if t.has(S.m)], [t for t in terms if not t.has(S.m)]]
    if not den.has(S.m):
        groups = [list(terms)]
    out = sp.Add(*(_spread(tidy(sp.cancel(sp.Add(*grp) / den)), sj) for grp in groups if grp))
    return out.subs({_H: nt.h(nt.j), _G: nt.g(nt.j), sj: nt.s[nt.j], S.w_j: nt.w[nt.j]})


def notation_form(expr, S):
    """A derived per-mode scalar (any step of the derivation) in the notation h_j, g_j;
    the argument of φ(u) = u − ln(1 + u) is rewritten the same way."""
    from ._functions import u_minus_log1p
    expr = expr.replace(lambda x: isinstance(x, u_minus_log1p),
                        lambda x: u_minus_log1p(_to_notation(x.args[0], S)))  # display: u only
    phis = list(expr.atoms(u_minus_log1p))
    if phis:  # keep φ(u) as an atom through cancel/factor
        dummies = {f: sp.Dummy("phi") for f in phis}
        body = _to_notation(expr.subs(dummies), S)
        return body.subs({v: f for f, v in dummies.items()})
    return _to_notation(expr, S)


def _same(a, b):
    """Exact equality of two notation expressions (definitions substituted)."""
    return sp.cancel(sp.together(nt.unfold(a) - nt.unfold(b))) == 0


@dataclass(frozen=True)
class GeneralDecomposition:
    """The parts of a decomposition as sums over symbolic d (and r), in the paper's notation.

    Attributes
    ----------
    total, bias, variance, rank : sympy.Expr
        ``Sum`` over ``j = 1..d`` (full rank) or ``1..r`` and ``r+1..d`` of per-mode terms
        in :math:`h_j, g_j, \\Gamma_j, \\rho_j` (functions of the index, see :mod:`.notation`),
        ``s[j]``, ``w[j]`` (``IndexedBase``) and the scalar parameters.
    per_mode : mapping
        ``part -> (ModeTerm, ...)``: the ranges and the factored per-mode terms.
    definitions : tuple of sympy.Eq
        The notation used, with its definitions.
    relations : mapping
        ``part -> Relation`` of the decomposition it was built from.
    d, r, j : sympy.Symbol
        The number of modes, the rank and the index.
    """

    kind: str
    direction: str
    student: str
    expectation: bool
    full_rank: bool
    per_mode: MappingProxyType
    definitions: tuple
    total: sp.Expr = field(repr=False)
    bias: sp.Expr = field(repr=False)
    variance: sp.Expr = field(repr=False)
    rank: sp.Expr = field(repr=False)
    relations: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)
    d: sp.Symbol = nt.d
    r: sp.Symbol = nt.r
    j: sp.Symbol = nt.j

    def at(self, d: int, r: int | None = None) -> dict:
        """The four parts at a concrete ``d`` (and ``r``): definitions substituted, sums
        expanded, ``s[i]``/``w[i]`` replaced by the symbols ``s_i``/``w_i`` of
        :func:`aligned_decomposition` (so they compare with its ``total`` etc.)."""
        from ._symbols import model_symbols
        from ._values import clean_int
        S = model_symbols(d)
        if r is not None:  # an integer in 0..d before sympy sees it (subs sympifies strings)
            r = clean_int("r", r, 0, S.d)
        return {p: nt.explicit(getattr(self, p), d, r, S) for p in ("total", "bias", "variance", "rank")}

    def latex(self) -> str:
        """LaTeX a paper can use: an ``align*`` of the parts, each with its relation to the
        data-driven quantity, then the definitions of h_j, g_j, Γ_j, ρ_j and of every
        symbol (see :func:`.latex.general_block_latex`)."""
        from .latex import general_block_latex
        return general_block_latex(self)

    def __str__(self):
        from .latex import general_text
        return general_text(self, self.relations)


@dataclass(frozen=True)
class ModeTerm:
    """``Σ_{j=lo}^{hi} factor · body``: one block of a part (``factor`` is ½Γ_j for the
    mean parts, k/2 or 1 for the variance)."""

    lo: sp.Expr
    hi: sp.Expr
    factor: sp.Expr
    body: sp.Expr

    @property
    def term(self):
        return self.factor * self.body

    def sum(self):
        return sp.Sum(self.term, (nt.j, self.lo, self.hi))


def general_form(dec) -> GeneralDecomposition:
    """Build the :class:`GeneralDecomposition` of an :class:`AlignedDecomposition`."""
    S = dec._S
    gen = dec._data["generic"]
    Gamma = nt.metric(dec.kind, dec.direction)
    metric = _to_notation(gen["metric"], S, 1)
    if not _same(metric, Gamma.definition(nt.j)):  # pragma: no cover - internal consistency
        raise RuntimeError(f"derived metric {metric} differs from the notation's Γ_j")
    rho = nt.variance_ratio(dec.kind, dec.direction)
    one, d, r = sp.Integer(1), nt.d, nt.r
    per_mode: dict[str, tuple[ModeTerm, ...]]
    if rho is None:
        var = _to_notation(gen["variance"], S)
        per_mode = {"variance": (ModeTerm(one, d, one, var),)}
    else:
        ratio = _to_notation(gen["ratio"], S)
        if not _same(ratio, rho.definition(nt.j)):  # pragma: no cover - internal consistency
            raise RuntimeError(f"derived variance ratio {ratio} differs from the notation's ρ_j")
        x = rho(nt.j)
        per_mode = {"variance": (ModeTerm(one, d, S.k / 2, x - 1 - sp.log(x)),)}
    half_gamma = sp.Rational(1, 2) * Gamma(nt.j)
    brackets = {"bias": gen["norm"] - gen["rank_norm"], "rank": gen["rank_norm"]}
    ranges = ((one, d, 1),) if dec.full_rank else ((one, r, 1), (r + 1, d, 0))
    for part, br in brackets.items():
        blocks = []
        for lo, hi, kappa in ranges:
            body = _to_notation(br, S, kappa)
            if body != 0:
                blocks.append(ModeTerm(lo, hi, half_gamma, body))
        per_mode[part] = tuple(blocks)
    parts = {p: sp.Add(*(b.sum() for b in per_mode[p])) for p in ("variance", "bias", "rank")}
    total = parts["variance"] + parts["bias"] + parts["rank"]
    return GeneralDecomposition(
        kind=dec.kind, direction=dec.direction, student=dec.student,
        expectation=dec.expectation, full_rank=dec.full_rank,
        per_mode=MappingProxyType(per_mode), definitions=nt.definitions(dec.kind, dec.direction),
        total=total, relations=dec.relations, **parts)
