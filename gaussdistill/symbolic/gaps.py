"""Generalization gaps and risks of the fixed-design case study (docs/mathematics.md §2.5).

Fixed-design risk L(W) = E_{Y'} ‖Y' − W X‖²_F / n, empirical risk L_D(W) = ‖Y − W X‖²_F/n,
and the gap g(W, D) = L(W) − L_D(W) = [ν²(kn − ‖E‖²_F) + 2ν⟨E, (W − W⋆)X⟩]/n, affine in W.

The engine derives, in the aligned model, with the kernels of
:mod:`gaussdistill.symbolic.decomposition` (W ~ q(·|D), expectation over W and E)::

    gen    = (2ν/n) Σ_j sqrt(s_j) E⟨G_j, (M − W⋆) v_j⟩,     G_j = E q_j ~ N(0, I_k)
    risk   = [Σ_j s_j E‖(M − W⋆) v_j‖² + k tr(Xᵀ Σ X)]/n + k ν²

which give gen_T = 2ν²k Σ_j h_j / n (ridge optimism), gen_S = 2ν²k Σ_j g_j h_j / n for
the full-rank student (g_j = s_j/(s_j+λ_S)), and for a rank-r student the
*oracle-subspace* values (the truncation replaced by the projection on span(u_1..u_r);
labelled ``exact=False``): gen_S = 2ν² r Σ_j g_j h_j / n.

Caution (measured, tests/symbolic/test_symbolic_mc.py): the oracle-subspace gap is *not* a bound
on the data-driven rank-r student's gap.  The data-driven truncation picks its subspace
from the noisy fit, so it correlates with the label noise E and overfits: at
k=4, d=3, r=1, ν=0.8 the Monte Carlo gen_S is ≈0.96 against the oracle 0.38.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import sympy as sp

from ._frozen import Frozen
from ._functions import numeric_modules
from ._spectral import Derivation
from ._symbols import SCALAR_NAMES, ModelSymbols, model_symbols
from ._values import MAX_DPS, clean_choice, clean_int, clean_values
from .decomposition import _Error, check_mode_order, evaluate_lambdified
from .derivation import _check_options, _kernels, _stable

GAP_NAMES = ("gen_T", "gen_S", "risk_T", "risk_S")


class GapExpressions(Frozen):
    """Closed forms of gen_T, gen_S and the fixed-design risks L(W_T), L(W_S).

    Attributes
    ----------
    gen_T, gen_S, risk_T, risk_S : sympy.Expr
        Expectations over the label noise E and the kernels' randomness.
    exact : bool
        False for rank-r students (r < d): the student's values are the oracle-subspace
        student's (for the population and shrinkage students equal to the data-driven
        student's at ν = 0; the 'sampled' student truncates a random fit even then).
    symbols, steps, d, rank_r, student

    Immutable (results are cached and shared by every caller).
    """

    # Set once in __init__ by _freeze (the class is immutable); declared here for type checkers
    # (sympy expressions are typed Any: sympy has no stubs).
    d: int
    rank_r: int | None
    student: str
    gen_T: Any
    gen_S: Any
    risk_T: Any
    risk_S: Any
    steps: tuple[Any, ...]
    exact: bool
    full_rank: bool
    _S: ModelSymbols
    symbols: Mapping[str, Any]
    _criterion: tuple[Any, ...]
    _cache: dict[str, Any]

    def __init__(self, d, rank_r, student, exprs, steps, full, student_criterion):
        S = model_symbols(d)
        values = dict(d=d, rank_r=rank_r, student=student, gen_T=exprs["gen_T"],
                      gen_S=exprs["gen_S"], risk_T=exprs["risk_T"], risk_S=exprs["risk_S"],
                      steps=tuple(steps), exact=full, full_rank=full, _S=S,
                      symbols=MappingProxyType(S.mapping()), _criterion=tuple(student_criterion),
                      _cache={})
        self._freeze(values)

    def __repr__(self):
        r = "full" if self.full_rank else self.rank_r
        tag = "" if self.exact else ", oracle subspace"
        return f"GapExpressions(d={self.d}, rank={r}, student={self.student!r}{tag})"

    def lambdify(self, backend="numpy", dps=30):
        """``f(**values) -> dict(gen_T, gen_S, risk_T, risk_S)``; numpy broadcasts.

        Every value is converted to a number first (strings are never parsed) and must be
        finite and in its domain; ``dps`` (mpmath backend) is an integer in 1..1000.
        """
        clean_choice("backend", backend, ("numpy", "mpmath"))
        dps = clean_int("dps", dps, 1, MAX_DPS)
        args = list(self._S.scalars()) + list(self._S.s) + list(self._S.w)
        fn = sp.lambdify(args, [getattr(self, g) for g in GAP_NAMES],
                         modules=numeric_modules(backend), cse=True)
        free = set().union(*(getattr(self, g).free_symbols for g in GAP_NAMES))
        required = [nm for nm in SCALAR_NAMES if getattr(self._S, nm) in free]

        def compiled(**values):
            vals = clean_values(values, self.d, SCALAR_NAMES, keep_mpf=backend == "mpmath",
                                allow_array=backend == "numpy")
            missing = [nm for nm in required + ["s", "w"] if vals.get(nm) is None]
            if missing:
                raise _Error("missing values for " + ", ".join(missing))
            if vals.get("k") is not None and np.any(np.asarray(vals["k"], dtype=float) < self.d):
                raise _Error(f"k: the aligned model needs k >= d = {self.d}")
            if not self.full_rank:
                check_mode_order(self._S, self._cache, vals, self.rank_r, (
                    ("the student's truncation (sigma_j^2 of W_hat A_S^{1/2})",
                     self._criterion),), backend=backend)
            argv = [vals.get(nm, np.nan) for nm in SCALAR_NAMES] + list(vals["s"]) + list(vals["w"])
            return evaluate_lambdified(fn, argv, GAP_NAMES, backend, dps)

        compiled.required = tuple(required) + ("s", "w")
        return compiled

    def evaluate(self, **values) -> dict:
        """Floats (or arrays) of gen_T, gen_S, risk_T, risk_S at the given parameters."""
        if "evaluate" not in self._cache:
            self._cache["evaluate"] = self.lambdify("numpy")
        return self._cache["evaluate"](**values)

    def latex(self) -> str:
        from .latex import paper_latex
        rows = []
        for name, lhs in (("gen_T", r"\mathrm{gen}_T"), ("gen_S", r"\mathrm{gen}_S"),
                          ("risk_T", r"\mathbb{E} L(W_T)"), ("risk_S", r"\mathbb{E} L(W_S)")):
            rel = "=" if (self.exact or name.endswith("_T")) else r"\overset{\text{oracle}}{=}"
            rows.append(lhs + " &" + rel + " " + paper_latex(getattr(self, name)))
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


@functools.lru_cache(maxsize=64)
def _gaps(d, rank, student):
    S = model_symbols(d)
    D = Derivation(S)
    K = _kernels(D, True, student, rank)
    k, n, nu = S.k, S.n, S.nu
    full, r_eff = K["full"], K["r_eff"]
    r_modes = (sp.Integer(r_eff),) * d + (S.r,)
    sqrt_s = K["XXt"].sqrt()
    out = {}
    for who, M, Sigma in (("T", K["M_T"], K["Sigma_T"]), ("S", K["M_S"], K["Sigma_S"])):
        err = M - K["W_star"]
        inner = err.expected_noise_inner(k, r_modes)
        gen_modes = tuple(2 * nu / n * a * b for a, b in zip(sqrt_s.modes, inner))
        D.record(f"gen_{who} per mode",
                 rf"\tfrac{{2\nu}}{{n}} \mathbb{{E}}\langle E, (M_{who} - W^\star) X\rangle",
                 gen_modes[-1], rf"\mathrm{{gen}}_{{{who},j}}",
                 note="the nu^2(kn - ||E||^2) term has mean 0; g is affine in W")
        out["gen_" + who] = sp.Add(*gen_modes[:-1])
        sq = err.expected_sq_norms(k, r_modes)
        cov = D.conj_out(Sigma)
        risk_modes = tuple((s * q + k * c) / n for s, q, c in zip(K["XXt"].modes, sq, cov.modes))
        # 1 - g_j h_j written as a fraction of lambda's: a small risk keeps its digits
        risk_modes = tuple(_stable(x) for x in risk_modes[:-1]) + risk_modes[-1:]
        D.record(f"risk of W_{who} per mode",
                 rf"\mathbb{{E}}\lVert (W_{who} - W^\star) X \rVert_F^2 / n"
                 r" = \tfrac1n\sum_j [s_j \mathbb{E}\lVert (M - W^\star) v_j\rVert^2"
                 r" + k\,\mathrm{eig}_j(X^\top\Sigma X)]",
                 risk_modes[-1], rf"L_{{{who},j}} - k\nu^2")
        out["risk_" + who] = sp.Add(*risk_modes[:-1]) + k * nu**2
    return GapExpressions(d, None if full else rank, student, out, tuple(D.steps), full,
                          K["student_criterion"][:-1])


def generalization_gaps(d: int = 3, rank: int | None = None,
                        student: str = "population") -> GapExpressions:
    """Closed-form generalization gaps and risks of teacher and student (docs/mathematics.md §2.5).

    Parameters
    ----------
    d : int
        Number of modes.
    rank : int or None
        Student rank (None: full rank, exact).  For r < d the values are those of the
        oracle-subspace student (``exact=False``), equal to the data-driven student's at
        ν = 0 for the population and shrinkage students (the 'sampled' student truncates a
        random fit, so not even then).
    student : {"population", "shrinkage", "sampled"}
        As in :func:`aligned_decomposition` ('sampled': fitted to the mean of m soft-label
        draws, expectation over the draws taken).

    Returns
    -------
    GapExpressions
        ``gen_T = 2ν²k Σ_j h_j / n``, ``gen_S``, ``risk_T``, ``risk_S`` (fixed design,
        expectations over the label noise and the kernels).
    """
    _check_options("convexity", "student||teacher", student, d, rank)
    if rank is not None and rank >= d:
        rank = None
    return _gaps(int(d), None if rank is None else int(rank), student)
