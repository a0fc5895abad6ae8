"""Derivation of the bias / variance / rank decomposition in the aligned spectral model.

Model (docs/mathematics.md §2.1, §2.4): X Xᵀ = V diag(s) Vᵀ, W⋆ = U diag(w) Vᵀ (U: k×d with orthonormal
columns, so k >= d), Y = W⋆X + νE.  Teacher MN(M_T, I_k, Σ_T) with A_T = X Xᵀ + λ_T I,
M_T = Y Xᵀ A_T⁻¹, Σ_T = t_T ν² A_T⁻¹; population student fitted to E[Ŷ] = M_T X with
A_S = X Xᵀ + λ_S I, Ŵ = M_T X Xᵀ A_S⁻¹, M_S = [Ŵ A_S^{1/2}]_r A_S^{-1/2},
Σ_S = t_S τ² A_S⁻¹.

With ``h_j = s_j/(s_j+λ_T)``, ``g_j = s_j/(s_j+λ_S)`` and the divergence's weight-space
metric ``Γ_j`` (``s_j/(τ² + t_T ν² h_j)`` for K^Y, ``s_j/τ²`` for K̄,
``(s_j+λ_T)/(t_T ν²)`` for K^W; student's metric for the reverse direction), the engine
derives (it does not store these; they are what it finds)::

    variance = (k/2) Σ_j (ρ_j − 1 − ln ρ_j)          (K^Y, K^W; ρ_j: covariance ratio)
             = k Σ_j (t_S τ² g_j + t_T ν² h_j) / (2τ²) (K̄)
    mean     = ½ Σ_j Γ_j E‖(M_S − M_T) v_j‖²
    rank     = ½ Σ_{j>r} Γ_j w_j² h_j²                 (noiseless labels)
    bias     = mean − rank.

With ``expectation=True`` the label noise adds ``ν² h_j²/s_j`` per output direction of
each mode: exact for full-rank students; for rank-r students the truncation is replaced
by the projection on the *oracle subspace* span(u_1..u_r) (docs/mathematics.md §2.4), and
the expressions are that student's values.  What they are to the data-driven student is
recorded, part by part, in ``AlignedDecomposition.relations`` (:mod:`.relations`):
variance ``=``; ``E[rank] ≤`` the expression (Eckart–Young–Mirsky per realisation,
equality at ν = 0); total ``≤`` (and bias ``=`` or ``≥``) only for the population and
shrinkage students with λ_S = 0 and a metric proportional to s_j (shrinkage: 0 ≤ c ≤ 2);
no proved relation otherwise, in particular for the 'sampled' rank-r student, whose
truncation is of a random fit even at ν = 0 (Monte Carlo exceeds the expression there).
"""

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import sympy as sp

from ..errors import GaussDistillError as _Error
from ..vocabulary import DIRECTIONS, KINDS, PARTS, STUDENTS  # noqa: F401 (re-exported)
from ._frozen import Frozen
from ._functions import numeric_modules
from ._symbols import DESCRIPTIONS, SCALAR_NAMES, ModelSymbols
from ._values import MAX_DPS, clean_choice, clean_int, clean_values
from .derivation import Block, _check_options, _derive, _fail, _kernels  # noqa: F401 (re-exported)
from .relations import relations


class AlignedDecomposition(Frozen):
    """Closed-form decomposition ``total = bias + variance + rank`` (docs/mathematics.md §2.3).

    Do not construct directly: use :func:`aligned_decomposition`.

    Attributes
    ----------
    total, bias, variance, rank : sympy.Expr
        The four parts, explicit sums over the ``d`` modes.
    symbols : dict
        Parameter name -> sympy symbol (``"s"``/``"w"`` map to tuples of mode symbols).
    steps : tuple of Step
        The recorded derivation (see :meth:`derivation`).
    kind, direction, expectation, student, d, rank_r : the options it was derived for.
    exact : bool
        True when every part equals its data-driven quantity (full rank, or noiseless
        labels with a population or shrinkage student).
    relations : mapping
        ``part -> Relation``: ``=``, ``<=``, ``>=`` (with the condition where it is proved)
        or no relation (the oracle-subspace value), see :mod:`.relations`.
    """

    _set_hint = "; derive another one with aligned_decomposition(...)"

    # Set once in __init__ by _freeze (the class is immutable); declared here for type checkers
    # (sympy expressions are typed Any: sympy has no stubs).
    kind: str
    direction: str
    expectation: bool
    student: str
    d: int
    rank_r: int | None
    _data: Mapping[str, Any]
    _S: ModelSymbols
    total: Any
    bias: Any
    variance: Any
    rank: Any
    steps: tuple[Any, ...]
    blocks: Mapping[str, Any]
    full_rank: bool
    exact: bool
    label: str | None
    symbols: Mapping[str, Any]
    relations: Mapping[str, Any]
    _lambdified: dict[str, Any]

    def __init__(self, *, kind, direction, expectation, student, d, rank_r, data,
                 label=None, parts=None, blocks=None):
        # Immutable: results are cached and shared by every caller, so nothing may be
        # changed in place (the mappings are read-only views of private copies).
        data = MappingProxyType(dict(data))
        parts = parts or {p: data[p] for p in PARTS}
        blocks = data["blocks"] if blocks is None else blocks
        full = data["full"]
        values = dict(
            kind=kind, direction=direction, expectation=expectation, student=student, d=d,
            rank_r=rank_r, _data=data, _S=data["S"], total=parts["total"], bias=parts["bias"],
            variance=parts["variance"], rank=parts["rank"], steps=tuple(data["steps"]),
            blocks=MappingProxyType(dict(blocks)), full_rank=full,
            # Rank-r truncation of a random fit is replaced by the oracle subspace.
            exact=full or (not expectation and student != "sampled"),
            label=label, symbols=MappingProxyType(data["S"].mapping()), _lambdified={})
        self._freeze(values)
        self._freeze({"relations": MappingProxyType(relations(self))})

    def general(self):
        """The parts as sums over symbolic ``d`` (and ``r``) in the paper's notation.

        Returns a :class:`~gaussdistill.symbolic.general.GeneralDecomposition`: sums
        over j = 1..d (full rank) or 1..r and r+1..d of per-mode terms written with
        h_j, g_j, Γ_j, ρ_j (:mod:`gaussdistill.symbolic.notation`), ``s[j]``, ``w[j]``.
        ``general().at(d, r)`` (definitions substituted, sums expanded) equals this
        object's concrete expressions.
        """
        if self.label:
            raise _Error("general() is defined for derived decompositions, not for "
                         f"their derivatives ({self.label}); differentiate general() instead")
        if "general" not in self._lambdified:
            from .general import general_form
            self._lambdified["general"] = general_form(self)
        return self._lambdified["general"]

    # ------------------------------------------------------------------ description
    def __repr__(self):
        r = "full" if self.full_rank else self.rank_r
        lab = f", {self.label}" if self.label else ""
        return (f"AlignedDecomposition(kind={self.kind!r}, direction={self.direction!r}, "
                f"expectation={self.expectation}, d={self.d}, rank={r}{lab})")

    @property
    def assumptions(self) -> str:
        """The assumptions under which the expressions hold (plain text)."""
        lines = [
            "aligned model: X X^T = V diag(s) V^T, W* = U diag(w) V^T with U^T U = I (k >= d)",
            "s_j > 0, tau > 0, nu, lambda_T, lambda_S, t_T, t_S >= 0",
        ]
        if self.kind == "weight":
            lines.append("weight divergence: Sigma_S, Sigma_T > 0, i.e. t_S, t_T, nu > 0")
        if not self.full_rank:
            lines.append(f"rank-{self.rank_r} student keeps modes 1..{self.rank_r}: "
                         "w_j^2 s_j^2 h_j^2 / (s_j + lambda_S) and Gamma_j w_j^2 h_j^2 are "
                         "non-increasing across j = r (checked by evaluate)")
            if self.expectation and self.student != "sampled":
                lines.append("expectation=True, rank < d: oracle-subspace student; 'rank' is "
                             "an upper bound on E[rank], equality at nu = 0")
        if not self.expectation:
            lines.append("expectation=False: noiseless labels Y = W* X (E = 0)")
        if self.student == "sampled":
            lines.append("sampled student: expectation over the m soft-label draws")
            if not self.full_rank:
                lines.append("rank < d: oracle subspace (the truncation of a random fit)")
        return "\n".join(lines)

    def derivation(self) -> str:
        """The recorded derivation as plain text (matrix statement -> per-mode scalar)."""
        out = [repr(self)]
        if not self.full_rank:
            out.append("    (kappa_j = 1 if the student keeps mode j, i.e. j <= r, else 0; "
                       "G_j = E q_j ~ N(0, I_k) is the label noise seen by mode j)")
        for i, st in enumerate(self.steps, 1):
            line = f"{i:2d}. {st.title}: {st.matrix}"
            if st.mode is not None:
                line += f"\n      per mode: {st.mode_label} = {sp.sstr(st.mode)}"
            if st.note:
                line += f"\n      note: {st.note}"
            out.append(line)
        return "\n".join(out)

    # ------------------------------------------------------------------ calculus
    def _name_to_symbol(self, name):
        if not isinstance(name, str) or name not in self.symbols or name in ("s", "w"):
            valid = [n for n in self.symbols if n not in ("s", "w")]
            raise _Error(f"name={name!r} is not a scalar parameter of this model; valid: "
                         + ", ".join(valid))
        return self.symbols[name]

    def diff(self, name: str) -> "AlignedDecomposition":
        """Partial derivative of every part with respect to parameter ``name``.

        Differentiates the scalar per-mode expressions (never sympy matrix calculus,
        which is unreliable for log-determinants).  The result evaluates like the original,
        under the same assumptions.
        """
        sym = self._name_to_symbol(name)
        parts = {p: sp.diff(getattr(self, p), sym) for p in PARTS}
        blocks = {}
        if name in SCALAR_NAMES:
            blocks = {p: tuple(Block(b.lo, b.hi, sp.diff(b.term, sym)) for b in bl)
                      for p, bl in self.blocks.items()}
        return AlignedDecomposition(kind=self.kind, direction=self.direction,
                                    expectation=self.expectation, student=self.student,
                                    d=self.d, rank_r=self.rank_r, data=self._data,
                                    label=f"d/d{name}", parts=parts, blocks=blocks or {})

    # ------------------------------------------------------------------ numbers
    def lambdify(self, backend: str = "numpy", dps: int = 30):
        """Compile all four parts into one function of keyword parameters.

        Parameters
        ----------
        backend : {"numpy", "mpmath"}
            ``"numpy"``: vectorised, inputs broadcast against each other (grids).
            ``"mpmath"``: scalars, evaluated inside ``mpmath.workdps(dps)``.
        dps : int
            Decimal digits for the mpmath backend, an integer in 1..1000.

        Returns
        -------
        callable
            ``f(**values) -> dict`` with keys ``total, bias, variance, rank``.  Spectra
            are passed as ``s=[s_1, ..., s_d]`` and ``w=[...]`` (or ``s_1=...``).  Every
            value is converted to a number first (strings are never parsed), must be
            finite and in its domain; the ordering assumption of rank-r students is checked
            (element-wise for grids).  Bad values raise a ``GaussDistillError`` naming the
            parameter; a float64 overflow of the result raises one suggesting ``"mpmath"``.
        """
        clean_choice("backend", backend, ("numpy", "mpmath"))
        dps = clean_int("dps", dps, 1, MAX_DPS)
        key = backend
        if key not in self._lambdified:
            args = list(self._S.scalars()) + list(self._S.s) + list(self._S.w)
            exprs = [getattr(self, p) for p in PARTS]
            fn = sp.lambdify(args, exprs, modules=numeric_modules(backend), cse=True)
            self._lambdified[key] = fn
        fn = self._lambdified[key]
        names = list(SCALAR_NAMES)
        d = self.d

        def compiled(**values):
            vals = self._collect(values, backend)
            self._check_domain(vals, backend)
            argv = [vals.get(nm, np.nan) for nm in names] + list(vals["s"]) + list(vals["w"])
            return evaluate_lambdified(fn, argv, PARTS, backend, dps)

        compiled.__doc__ = (f"Parts of {self!r} as functions of "
                            + ", ".join(names) + f", s (len {d}), w (len {d}).")
        compiled.required = self.required_parameters  # type: ignore[attr-defined]  # an attribute on a function
        return compiled

    @property
    def required_parameters(self) -> tuple:
        """Names that must be given to :meth:`evaluate` (used by some part or check)."""
        free = set()
        for p in PARTS:
            free |= getattr(self, p).free_symbols
        if not self.full_rank:
            for c in self._data["student_criterion"] + self._data["metric_criterion"]:
                free |= c.free_symbols
        names = [nm for nm in SCALAR_NAMES if getattr(self._S, nm) in free]
        if self.kind == "weight":  # Σ_S, Σ_T ≻ 0 is checked on these
            names += [nm for nm in ("nu", "t_T", "t_S") if nm not in names]
        return tuple(names) + ("s", "w")

    def _collect(self, values, backend="numpy"):
        """Validate and convert keyword values (nothing reaches sympy unconverted)."""
        vals = clean_values(values, self.d, SCALAR_NAMES, keep_mpf=backend == "mpmath",
                            allow_array=backend == "numpy")
        missing = [nm for nm in self.required_parameters if vals.get(nm) is None]
        if missing:
            raise _Error("missing values for " + ", ".join(missing) + " ("
                         + "; ".join(f"{m}: {DESCRIPTIONS[m]}" for m in missing) + ")")
        return vals

    def _check_domain(self, vals, backend="numpy"):
        """Model-specific domain checks (the generic ones are done by ``clean_values``)."""
        def arr(x):
            return np.asarray(x, dtype=float) if not _is_mp(x) else np.asarray(float(x))

        if vals.get("k") is not None and np.any(arr(vals["k"]) < self.d):
            raise _Error(f"k: the aligned model needs k >= d = {self.d} "
                         "(W* = U diag(w) V^T with orthonormal columns of U)")
        if self.kind == "weight":
            for nm in ("nu", "t_T", "t_S"):
                if np.any(~(arr(vals[nm]) > 0)):
                    raise _Error(f"{nm}: the weight divergence needs Sigma_S, Sigma_T > 0, "
                                 f"so {nm} > 0; use kind='predictive' for deterministic kernels")
        if not self.full_rank:
            self._check_ordering(vals, backend)

    def _check_ordering(self, vals, backend="numpy"):
        """Rank-r students: modes 1..r must be the top r both for the student's truncation
        and in the divergence's metric, else the expressions describe another student."""
        check_mode_order(self._S, self._lambdified, vals, self.rank_r, backend=backend, criteria=(
            ("the student's truncation (sigma_j^2 of W_hat A_S^{1/2} = "
             "w_j^2 s_j^2 h_j^2/(s_j+lambda_S))", self._data["student_criterion"]),
            ("the divergence metric (Gamma_j w_j^2 h_j^2)", self._data["metric_criterion"])))

    def evaluate(self, **values) -> dict:
        """Evaluate the four parts at numbers; returns ``{"total", "bias", "variance",
        "rank"}`` as floats (arrays if array inputs are given).

        Raises ``ValueError`` for missing/unknown parameters, out-of-domain values, and
        (rank-r students) spectra that violate the ordering assumption.
        """
        return self.lambdify("numpy")(**values)

    # ------------------------------------------------------------------ printing
    def latex(self, **settings) -> str:
        """``align*`` environment of the decomposition with underbraced parts."""
        from .latex import decomposition_latex
        return decomposition_latex(self, **settings)

    def _latex(self, printer):  # sympy printer protocol: latex(decomposition)
        return self.latex()


def _is_mp(x):
    return type(x).__module__.startswith("mpmath")


def evaluate_lambdified(fn, argv, names, backend: str, dps: int) -> dict:
    """``{name: value}`` of a lambdified ``fn(*argv)`` returning one value per name.

    ``"numpy"``: float64, the inputs broadcast against each other (each value an array of the
    common shape, a float when all inputs are scalars); a non-finite value (overflow) raises a
    ``GaussDistillError`` naming it and suggesting ``"mpmath"``. ``"mpmath"``: at ``dps`` digits.
    """
    if backend == "numpy":
        argv = [np.asarray(a, dtype=float) for a in argv]
        shape = np.broadcast_shapes(*(np.shape(a) for a in argv))
        with np.errstate(all="ignore"):
            out = fn(*argv)
        res = {p: np.broadcast_to(np.asarray(o, dtype=float), shape).copy() if shape else float(o)
               for p, o in zip(names, out)}
        bad = [p for p, v in res.items() if not np.all(np.isfinite(v))]
        if bad:
            raise _Error(f"{', '.join(bad)}: not finite in float64 at these values "
                         "(overflow); evaluate with lambdify('mpmath')")
        return res
    import mpmath
    with mpmath.workdps(dps):
        argv = [a if _is_mp(a) else mpmath.mpf(a) for a in argv]
        return {p: +mpmath.mpf(o) for p, o in zip(names, fn(*argv))}


def _as_float_array(x):
    if x is None:
        return np.asarray(np.nan)
    return np.asarray(float(x) if _is_mp(x) else x, dtype=float)


def check_mode_order(S: ModelSymbols, cache: dict, vals: dict, r: int, criteria,
                     backend: str = "numpy") -> None:
    """Raise unless, for every ``(what, exprs)`` in ``criteria``, the per-mode values
    ``exprs`` are such that min_{j<=r} >= max_{j>r} (element-wise over grids).

    Ties are accepted (then the truncated SVD is not unique; both choices are optimal).
    ``cache`` stores the compiled criteria.  With ``backend="mpmath"`` (scalars) the
    criteria are compared in mpmath, so values beyond float64's range are ordered too; in
    float64 a criterion that overflows cannot be ordered and is an error suggesting mpmath.
    """
    args = list(S.scalars()) + list(S.s) + list(S.w)
    if backend == "mpmath":
        import mpmath
        names = list(SCALAR_NAMES)
        argv = [mpmath.nan if vals.get(nm) is None else mpmath.mpf(vals[nm]) for nm in names]
        argv += [mpmath.mpf(x) for x in vals["s"]] + [mpmath.mpf(x) for x in vals["w"]]
        for what, exprs in criteria:
            key = ("order-mp", tuple(exprs))
            if key not in cache:
                cache[key] = sp.lambdify(args, list(exprs), modules=numeric_modules("mpmath"))
            c = cache[key](*argv)
            lo = min(c[:r]) if r > 0 else mpmath.inf
            hi = max(c[r:])
            if lo < hi - mpmath.mpf(10) ** -12 * max(abs(lo), abs(hi)):
                _order_error(r, what)
        return
    argv = [_as_float_array(vals.get(nm)) for nm in SCALAR_NAMES]
    argv += [_as_float_array(x) for x in vals["s"]] + [_as_float_array(x) for x in vals["w"]]
    for what, exprs in criteria:
        key = ("order", tuple(exprs))
        if key not in cache:
            cache[key] = sp.lambdify(args, list(exprs), modules=numeric_modules("numpy"))
        with np.errstate(all="ignore"):
            c = [np.asarray(x, dtype=float) for x in cache[key](*argv)]
            lo = np.min(np.stack(np.broadcast_arrays(*c[:r])), axis=0) if r > 0 else np.inf
            hi = np.max(np.stack(np.broadcast_arrays(*c[r:])), axis=0)
            tol = 1e-12 * np.maximum(np.abs(lo), np.abs(hi))
            undecided = ~np.isfinite(hi) | (~np.isfinite(lo) & (r > 0))
            if np.any(undecided):
                raise _Error(f"the ordering assumption of the rank-{r} expressions ({what}) "
                             "cannot be checked in float64 at these values (overflow); "
                             "evaluate with lambdify('mpmath')")
            if np.any(lo < hi - tol):
                _order_error(r, what)


def _order_error(r, what):
    raise _Error(
        f"ordering assumption violated: the rank-{r} expressions assume modes "
        f"1..{r} are the top {r} for {what}, but a mode j > {r} is larger. "
        "Reorder the spectra (s, w) so these are non-increasing across j = r.")


@functools.lru_cache(maxsize=128)
def _cached(kind, direction, expectation, student, d, rank):
    data = _derive(kind, direction, expectation, student, d, rank)
    full = data["full"]
    return AlignedDecomposition(kind=kind, direction=direction, expectation=expectation,
                                student=student, d=d, rank_r=None if full else rank, data=data)


def aligned_decomposition(kind: str, direction: str = "student||teacher",
                          expectation: bool = True, student: str = "population", *,
                          d: int = 3, rank: int | None = None) -> AlignedDecomposition:
    """Derive the bias/variance/rank decomposition of a distillation divergence.

    Parameters
    ----------
    kind : {"predictive", "convexity", "weight"}
        K^Y (predictive KL on the training inputs), K̄ (convexity bound) or K^W
        (weight-space KL), docs/mathematics.md §2.2.
    direction : {"student||teacher", "teacher||student"}
        KL(student ‖ teacher) (the one Theorems 1-3 use) or the reverse.
    expectation : bool
        True: expectation over the label noise E (exact for full-rank students; for
        rank < d the oracle-subspace student's values, see ``relations`` for what is
        proved about the data-driven student).
        False: the per-realisation value at noiseless labels Y = W⋆X.
    student : {"population", "shrinkage"}
        ``"population"``: reduced-rank ridge fitted to the mean soft labels E[Ŷ] = M_T X.
        ``"shrinkage"``: the same, times a uniform factor ``c`` (symbol ``c``):
        M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2}; with λ_S = 0 this is c [M_T]_r.
        ``"sampled"``: fitted to the average of ``m`` soft-label draws (symbol ``m``);
        the expectation over those draws is always taken (also with
        ``expectation=False``, which then means noiseless labels only).
    d : int, keyword-only
        Number of modes (concrete).
    rank : int or None, keyword-only
        Student rank r; None (or r >= d) is the full-rank student.  A rank-r student keeps
        modes 1..r: the spectra must be ordered accordingly (checked by ``evaluate``).

    Returns
    -------
    AlignedDecomposition
        Cached: the same object is returned for the same arguments.

    Notes
    -----
    Derived quantities, with h_j = s_j/(s_j+λ_T), g_j = s_j/(s_j+λ_S), κ_j = [j <= r]
    and Γ_j the metric of the divergence in weight space (see module docstring)::

        mean_j = ½ Γ_j (1 − κ_j g_j)² w_j² h_j²      (+ noise terms if expectation)
        rank   = ½ Σ_{j>r} Γ_j w_j² h_j²,  bias = Σ_j mean_j − rank.

    Examples
    --------
    >>> dec = aligned_decomposition("convexity", d=1, expectation=False)
    >>> vals = dict(k=2, nu=0.5, tau=1.0, lambda_T=1.0, lambda_S=0.0, t_T=0.0, t_S=0.0,
    ...             s=[3.0], w=[2.0])
    >>> round(dec.evaluate(**vals)["total"], 12)   # (λ_S = 0, t = 0): student = teacher
    0.0
    """
    if not isinstance(expectation, bool):
        raise _Error(f"expectation={expectation!r}: must be True or False")
    _check_options(kind, direction, student, d, rank)
    if rank is not None and rank >= d:
        rank = None
    return _cached(kind, direction, expectation, student, int(d), None if rank is None else int(rank))
