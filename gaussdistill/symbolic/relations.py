r"""What each derived expression is to the quantity it describes: ``=``, a proved bound, or neither.

The engine's expressions are exact for full-rank students and for noiseless labels.  For a
rank-r student averaged over the label noise (``expectation=True``) the data-driven
truncation is replaced by the projection on the *oracle subspace* span(u_1..u_r), and the
expressions are that student's values.  What is proved about the data-driven student
(docs/mathematics.md §2.3–2.4):

* variance: ``=`` (the covariances do not depend on the labels or the draws);
* rank: ``E[rank] ≤`` the expression (Eckart–Young–Mirsky per realisation: the teacher
  mean's tail in the metric is at most its residual off any fixed rank-r subspace), with
  equality at ν = 0;
* total (population and shrinkage students): ``E[total] ≤`` the expression when λ_S = 0
  and the metric Γ_j is proportional to s_j (then the student's truncation *is* the
  Eckart–Young optimum in the divergence's metric; its mean part equals the data-driven
  tail, which is at most the oracle one), and for the shrinkage student when also
  0 ≤ c ≤ 2 (its head term (1 − c)²‖[B]_r‖² exceeds the oracle's (1 − c)²‖P B‖² by
  (1 − c)² times what the tail gains, which is no more than the tail's gain iff
  (1 − c)² ≤ 1);
* bias, under the same condition: ``=`` for the population student (both are 0) and
  ``E[bias] ≥`` the expression for the shrinkage student (any c);
* otherwise, and always for the 'sampled' rank-r student (its truncation is of a random
  fit), no relation is proved: the expression is the oracle-subspace student's value.
  (Measured: the data-driven sampled student exceeds it by 11–65 % at ν = 0.)

The metric is proportional to s_j for K̄ always, for K^Y student‖teacher when t_T ν² = 0
or λ_T = 0 (then h_j = 1),
for K^Y teacher‖student when λ_S = 0, for K^W student‖teacher when λ_T = 0 and for K^W
teacher‖student when λ_S = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import notation as nt

#: Relation symbols: the expression E is to the quantity Q as ``Q <symbol> E``.
SYMBOLS = {"=": "=", "<=": r"\le", ">=": r"\ge"}
_TEXT = {"=": "=", "<=": "<=", ">=": ">="}


@dataclass(frozen=True)
class Relation:
    """How the data-driven quantity Q relates to the expression E of one part.

    Attributes
    ----------
    part : str
    symbol : str or None
        ``"="``, ``"<="`` (Q ≤ E), ``">="`` (Q ≥ E), or None (no proved relation: E is
        the oracle-subspace student's value).
    condition : sympy Boolean
        Where the relation is proved (``sympy.true``: always).  Outside it there is no
        proved relation.
    reason : str
        Why it holds (plain words, no formulas).
    """

    part: str
    symbol: str | None
    condition: sp.Basic
    reason: str

    def at(self, **values):
        """The relation that holds at these parameter values (``symbol`` or None)."""
        # Every value the condition reads is converted to a float and checked against its
        # domain before sympy sees it (``subs`` sympifies, and sympify evaluates strings).
        from ._values import as_number, check_domain
        subs = {}
        for sym in self.condition.free_symbols:
            name = str(sym)
            if name in values:
                x = as_number(name, values[name], allow_array=False)
                check_domain(name, x)
                subs[sym] = sp.Float(x, 17)
        if self.symbol is None or self.condition is sp.true:
            return self.symbol
        held = self.condition.subs(subs)
        return self.symbol if held is sp.true else None

    def latex(self) -> str:
        """LaTeX of the relation symbol (``\\overset{\\text{oracle}}{=}`` when none)."""
        if self.symbol is None:
            return r"\overset{\text{oracle}}{=}"
        return SYMBOLS[self.symbol]

    @property
    def text(self) -> str:
        """The statement in words: relation, condition and reason."""
        if self.symbol is None:
            return f"no proved relation; {self.reason}"
        q = self.part if self.symbol == "=" and self.condition is sp.true else f"E[{self.part}]"
        when = "" if self.condition is sp.true else f" when {_cond_text(self.condition)}"
        return f"{q} {_TEXT[self.symbol]} expression{when}: {self.reason}"

    def latex_text(self) -> str:
        """The statement typeset for a LaTeX document."""
        from .latex import paper_latex
        reason = (self.reason.replace("rank-r", "rank-$r$").replace("(1-c)^2 <= 1", r"$(1-c)^2 \le 1$")
                  .replace("span(u_1..u_r)", r"$\operatorname{span}(u_1,\dots,u_r)$")
                  .replace("Y = W* X", r"$Y = W^{\star} X$").replace("modes 1..r", r"modes $1,\dots,r$"))
        if self.symbol is None:
            return f"no proved relation; {reason}"
        q = rf"\mathrm{{{self.part}}}"
        if not (self.symbol == "=" and self.condition is sp.true):
            q = rf"\mathbb{{E}}[{q}]"
        when = "" if self.condition is sp.true else f" when ${paper_latex(self.condition)}$"
        return f"${q} {SYMBOLS[self.symbol]}$ the expression{when}: {reason}"

    def __str__(self):
        return self.text

    def to_dict(self) -> dict:
        return dict(part=self.part, symbol=self.symbol, condition=str(self.condition),
                    reason=self.reason, text=self.text)


def metric_proportional_to_s(kind: str, direction: str):
    """Condition under which Γ_j ∝ s_j for every j (given λ_S = 0)."""
    if kind == "convexity" or direction == "teacher||student":
        return sp.true
    if kind == "predictive":  # Γ_j = s_j/(τ² + t_T ν² h_j): constant denominator
        return sp.Or(sp.Eq(nt.t_T, 0), sp.Eq(nt.nu, 0), sp.Eq(nt.lambda_T, 0))
    return sp.Eq(nt.lambda_T, 0)


def _cond_text(cond) -> str:
    txt = str(cond).replace("Eq(", "(").replace(", 0)", " = 0)").replace("&", "and").replace("|", "or")
    return txt


_ORACLE = ("the expression is the value of the oracle-subspace student (the truncation of a "
           "random fit is replaced by the projection on span(u_1..u_r))")
_TAIL = "; elsewhere no proved relation (the oracle-subspace value)"


def relations(dec) -> dict:
    """``part -> Relation`` for an :class:`AlignedDecomposition` (see the module docstring)."""
    parts = ("variance", "bias", "rank", "total")
    if dec.label:  # a derivative: exact where the expression is, else no relation
        if dec.exact:
            return {p: Relation(p, "=", sp.true, f"{dec.label} of an exact expression") for p in parts}
        out = {p: Relation(p, None, sp.false, f"{dec.label} of an oracle-subspace value (the "
                           "derivative of a bound is not a bound)") for p in parts}
        out["variance"] = Relation("variance", "=", sp.true, "the covariances do not depend on the labels")
        return out
    if dec.full_rank:
        why = "full-rank student" + (", expectation over the label noise" if dec.expectation
                                     else ", noiseless labels")
        return {p: Relation(p, "=", sp.true, why) for p in parts}
    out = {"variance": Relation("variance", "=", sp.true,
                                "the covariances do not depend on the labels")}
    if not dec.expectation:
        out["rank"] = Relation("rank", "=", sp.true, "noiseless labels Y = W* X")
        if dec.student != "sampled":
            for p in ("bias", "total"):
                out[p] = Relation(p, "=", sp.true, "noiseless labels; the truncation keeps modes "
                                  "1..r (ordering checked by evaluate)")
            return out
    else:
        out["rank"] = Relation("rank", "<=", sp.true,
                               "Eckart-Young-Mirsky per realisation (the oracle subspace is one "
                               "rank-r candidate); equality without label noise")
    if dec.student == "sampled":
        out["bias"] = Relation("bias", None, sp.false, _ORACLE)
        out["total"] = Relation("total", None, sp.false, _ORACLE)
        return out
    cond = sp.And(sp.Eq(nt.lambda_S, 0), metric_proportional_to_s(dec.kind, dec.direction))
    eym = ("the student's truncation is then the Eckart-Young-Mirsky optimum in the "
           "divergence's metric")
    if dec.student == "population":
        out["bias"] = Relation("bias", "=", cond, f"both are 0 ({eym})" + _TAIL)
        out["total"] = Relation("total", "<=", cond, f"{eym}, so the mean part is the data-driven "
                                "tail, at most the oracle one" + _TAIL)
    else:
        c_ok = sp.And(cond, nt.c >= 0, nt.c <= 2)
        out["bias"] = Relation("bias", ">=", cond, f"{eym}, and its shrunk head is at least "
                               "the oracle one" + _TAIL)
        out["total"] = Relation("total", "<=", c_ok, f"{eym}; the head grows by (1-c)^2 <= 1 "
                                "times what the tail gains" + _TAIL)
    return out


def holds(relation: Relation, quantity: float, expression: float, tol: float) -> bool:
    """Whether ``quantity`` (e.g. a Monte Carlo mean) is consistent with the relation
    within ``tol`` (e.g. 5 standard errors); always True when there is no relation."""
    if relation.symbol is None:
        return True
    if relation.symbol == "=":
        return bool(np.abs(quantity - expression) <= tol)
    if relation.symbol == "<=":
        return bool(quantity <= expression + tol)
    return bool(quantity >= expression - tol)
