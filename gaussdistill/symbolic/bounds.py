r"""The teacher-gap CGF and the Theorem 1/2 bounds as sympy expressions (aligned model).

Fixed design, aligned spectral model ``X Xᵀ = V diag(s) Vᵀ``, ``W⋆ = U diag(w) Vᵀ``
(d modes, s_j > 0, k >= d, n >= d). The teacher gap (docs/mathematics.md §2.5, §4.1)

    g(W_T, D) = [ν²(kn − ‖E‖²_F) + 2ν⟨E, (W_T − W⋆)X⟩]/n,
    (W_T − W⋆)X = −W⋆X(I − S) + νES + ΞΣ_T^{1/2}X,

is a Gaussian quadratic form. Rotating E by (U, Ṽ) and Ξ by (U, V) (which keeps them
standard normal) splits it into independent cells (output row i, sample-space mode j), each
a quadratic form in z = (e, ζ) ~ N(0, I₂):

    g_ij = (ν²/n)(1 − e²) + (2ν/n) e (−m_ij + ν h_j e + ν sqrt(t_T h_j) ζ),

with h_j = s_j/(s_j + λ_T), m_jj = w_j sqrt(s_j)(1 − h_j) on the diagonal cell of mode j and 0
elsewhere (k − 1 cells per mode), and k(n − d) null cells (h = 0, m = 0). The engine builds
each cell from this definition, reads off A (half the Hessian), b (the gradient at 0) and c,
and applies the Gaussian-integral formula (docs/mathematics.md §3.5)

    log E e^{zᵀAz + bᵀz + c} = −½ ln det(I − 2A) + ½ bᵀ(I − 2A)⁻¹b + c   (I − 2A ≻ 0)

to A_λ = λA (ψ) or λA + (2λ²τ²ν²/n²) e₁e₁ᵀ (ψ_Y of docs/mathematics.md §4.2), b_λ = λb,
c_λ = λ(c − E g_ij). The Theorem 1/2 bounds are then expressions in λ (or η), K, c, σ²; the
λ-minimisation is numeric (:func:`gaussdistill.bounds.cgf_bound`).

Every user value is converted to a float before sympy sees it (sympy parses strings with eval).
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import sympy as sp

from ..errors import GaussDistillError
from ._frozen import Frozen
from ._symbols import ModelSymbols, model_symbols

#: scalar parameters the teacher-gap CGF depends on, in lambdify order
CGF_PARAMS = ("k", "n", "nu", "tau", "lambda_T", "t_T")

LAM = sp.Symbol("lambda", real=True)
ETA = sp.Symbol("eta", positive=True)
K_SYM = sp.Symbol("K", nonnegative=True)
C_SYM = sp.Symbol("c", real=True)
SIGMA2 = sp.Symbol("sigma2", positive=True)


def _cell_form(nu, n, h, m, tT):
    """(A, b, c) of one cell g = zᵀAz + bᵀz + c, read off the definition of the gap."""
    e, zeta = sp.symbols("e zeta", real=True)
    g = nu**2 / n * (1 - e**2) + 2 * nu / n * e * (-m + nu * h * e + nu * sp.sqrt(tT * h) * zeta)
    z = (e, zeta)
    A = sp.Matrix(2, 2, lambda i, j: sp.diff(g, z[i], z[j]) / 2)
    b = sp.Matrix([sp.diff(g, v).subs({e: 0, zeta: 0}) for v in z])
    c = g.subs({e: 0, zeta: 0})
    # the reconstruction is exact (g is a polynomial of degree 2)
    zv = sp.Matrix(z)
    assert sp.expand((zv.T * A * zv)[0] + (b.T * zv)[0] + c - g) == 0
    return A, b, sp.simplify(c)


def _log_mgf(A, b, c):
    """log E exp(zᵀAz + bᵀz + c), z ~ N(0, I): the Gaussian integral (finite iff I − 2A ≻ 0).

    Returns (expression, det(I − 2A)); for these 2×2 cells the (ζ, ζ) entry of I − 2A is 1,
    so det(I − 2A) > 0 is the whole domain condition.
    """
    M = sp.eye(A.shape[0]) - 2 * A
    D = sp.factor(M.det())
    quad = sp.simplify((b.T * M.adjugate() * b)[0] / D)
    return -sp.log(D) / 2 + quad / 2 + c, D


_H = sp.Symbol("h", nonnegative=True)
_M = sp.Symbol("m", real=True)


@functools.lru_cache(maxsize=8)
def _generic_cell(d: int, predictive: bool):
    """(log-MGF of λ(g_cell − E g_cell) [+ the ψ_Y term], det(I − 2A_λ), E g_cell, Var g_cell)
    for a cell with generic hat factor h and mean m (derived once, substituted per mode)."""
    S = model_symbols(d)
    n, nu, tau, tT = S.n, S.nu, S.tau, S.t_T
    lam = LAM
    extra = 2 * lam**2 * tau**2 * nu**2 / n**2 if predictive else sp.S.Zero
    A, b, c = _cell_form(nu, n, _H, _M, tT)
    e_g = sp.simplify(A.trace() + c)
    expr, D = _log_mgf(lam * A + sp.diag(extra, 0), lam * b, lam * (c - e_g))
    return expr, D, e_g, sp.simplify(2 * (A * A).trace() + (b.T * b)[0])


class TeacherGapCGF(Frozen):
    """ψ(λ) (or ψ_Y) of the aligned fixed-design model with ``d`` modes, as sympy expressions.

    Attributes
    ----------
    psi : sympy.Expr
        ψ(λ) = log E exp(λ(g − gen_T)) (``predictive=False``) or
        ψ_Y(λ) = log E exp(λ(g − gen_T) + 2λ²τ²ν²‖E‖²/n²), in ``lam`` and the model symbols.
    mode_terms : tuple of sympy.Expr
        The contribution of mode j (its k cells); ``null_term`` that of the k(n − d) null cells.
    domain_factors : tuple of sympy.Expr
        det(I − 2A_λ) per mode, then for the null cells: ψ is finite iff all are > 0.
    gen_T, variance : sympy.Expr
        E g = Σ (tr A + c) over cells, and Var g = Σ (2 tr A² + ‖b‖²) (= ψ''(0)).
    lam : sympy.Symbol
    """

    # Set once in __init__ by _freeze (the class is immutable); declared
    # here for type checkers. sympy expressions are typed Any (sympy has no stubs).
    d: int
    predictive: bool
    lam: Any
    _S: ModelSymbols
    _null_cell: Any
    null_term: Any
    mode_terms: tuple[Any, ...]
    domain_factors: tuple[Any, ...]
    psi: Any
    gen_T: Any
    variance: Any
    _cache: dict[str, Any]

    def __init__(self, d: int, predictive: bool):
        S = model_symbols(d)
        values = dict(d=d, predictive=predictive, lam=LAM, _S=S)
        k, n, lT = S.k, S.n, S.lambda_T
        terms, factors, mean, var = [], [], sp.S.Zero, sp.S.Zero

        generic = _generic_cell(d, predictive)

        def cell(h, m):
            sub = {_H: h, _M: m}
            return tuple(x.subs(sub) for x in generic)

        for s, w in zip(S.s, S.w):
            h = s / (s + lT)
            diag_expr, D, e_g, v_diag = cell(h, w * sp.sqrt(s) * (1 - h))
            off_expr, _, _, v_off = cell(h, sp.S.Zero)
            terms.append(diag_expr + (k - 1) * off_expr)
            factors.append(D)
            mean += k * e_g
            var += v_diag + (k - 1) * v_off
        null_expr, D0, e0, v0 = cell(sp.S.Zero, sp.S.Zero)
        factors.append(D0)
        null_term = k * (n - d) * null_expr
        values.update(_null_cell=null_expr, null_term=null_term, mode_terms=tuple(terms),
                      domain_factors=tuple(factors), psi=sp.Add(*terms) + null_term,
                      gen_T=mean + k * (n - d) * e0, variance=var + k * (n - d) * v0, _cache={})
        # Immutable: teacher_gap_cgf caches one object per (d, predictive) for every caller.
        self._freeze(values)

    def __repr__(self):
        return f"TeacherGapCGF(d={self.d}, predictive={self.predictive})"

    @property
    def args(self) -> tuple:
        """Argument order of the lambdified functions: λ, then k, n, ν, τ, λ_T, t_T, s, w."""
        S = self._S
        return (LAM,) + tuple(getattr(S, p) for p in CGF_PARAMS) + tuple(S.s) + tuple(S.w)

    def _compiled(self):
        if "fn" not in self._cache:
            args = self.args
            poly = [sp.Poly(sp.expand(D), LAM).all_coeffs()[::-1] for D in self.domain_factors]
            coeffs = [sp.lambdify(args[1:], [c for c in p] + [0] * (3 - len(p)), modules="numpy") for p in poly]
            modes = sp.lambdify(args, sp.Add(*self.mode_terms), modules="numpy", cse=True)
            null = sp.lambdify(args, self._null_cell, modules="numpy")

            def psi(lam, *vec):
                out = modes(lam, *vec)
                n_null = vec[0] * (vec[1] - self.d)  # k (n − d) null cells, none when n = d
                return out + n_null * null(lam, *vec) if n_null else out

            self._cache["fn"] = (psi, coeffs,
                                 sp.lambdify(args[1:], [self.gen_T, self.variance], modules="numpy"))
        return self._cache["fn"]

    def values(self, **values) -> tuple:
        """The validated parameter vector (k, n, ν, τ, λ_T, t_T, s_1..s_d, w_1..w_d) as floats."""
        return _clean(self.d, values)

    @staticmethod
    def _vec(vec):
        # numpy scalars: Python floats raise OverflowError in x**2; numpy gives inf (checked).
        return tuple(np.float64(v) for v in vec)

    def domain(self, **values) -> tuple[float, float]:
        """Open interval of λ where every domain factor 1 + a₁λ + a₂λ² is > 0 (a₀ = 1).

        The null-cell factor counts only when n > d (there are no null cells when n = d)."""
        vec = self.values(**values)
        _, coeffs, _ = self._compiled()
        lo, hi = -math.inf, math.inf
        for f in (coeffs if vec[1] > self.d else coeffs[:-1]):
            with np.errstate(all="ignore"):
                a0, a1, a2 = (float(x) for x in f(*self._vec(vec)))
            if not all(map(math.isfinite, (a0, a1, a2))):
                raise GaussDistillError(_OVERFLOW)
            r_lo, r_hi = _positive_interval(a0, a1, a2)
            lo, hi = max(lo, r_lo), min(hi, r_hi)
        return lo, hi

    def evaluate(self, lam, **values):
        """ψ(λ) (numpy, vectorised over ``lam``), +inf outside the domain."""
        vec = self.values(**values)
        lam_arr = _lam_array(lam)
        lo, hi = self.domain(**values)
        fn, _, _ = self._compiled()
        out = np.full(lam_arr.shape, np.inf)
        inside = (lam_arr > lo) & (lam_arr < hi)
        if vec[2] == 0.0:  # nu = 0: the gap is identically 0 (every cell is), so ψ ≡ 0
            out[inside] = 0.0
        elif inside.any():
            with np.errstate(all="ignore"):
                out[inside] = np.asarray(fn(lam_arr[inside], *self._vec(vec)), dtype=float)
            if np.isnan(out).any():
                bad = lam_arr[np.isnan(out)].ravel()[0]
                raise GaussDistillError(f"ψ(λ = {bad:.3g}) is not representable in float64 at these "
                                        "values (overflow); use a smaller |λ| or rescale the data")
        return float(out[0]) if np.ndim(lam) == 0 else out

    def moments(self, **values) -> dict:
        """gen_T (= E g) and Var g at the given values."""
        vec = self.values(**values)
        _, _, mom = self._compiled()
        with np.errstate(all="ignore"):
            g, v = (float(x) for x in mom(*self._vec(vec)))
        if not (math.isfinite(g) and math.isfinite(v)):
            raise GaussDistillError(_OVERFLOW)
        return {"gen_T": g, "variance": v}

    def numeric(self, **values):
        """A numeric ψ for :mod:`gaussdistill.bounds` (vectorised, with ``.domain``)."""
        vec = self.values(**values)  # validate once, now
        dom = self.domain(**values)
        outer = self

        class _Psi:
            domain = dom

            def __call__(self, lam):
                return outer.evaluate(lam, **dict(zip(("k", "n", "nu", "tau", "lambda_T", "t_T"), vec[:6]),
                                                  s=list(vec[6:6 + outer.d]), w=list(vec[6 + outer.d:])))

        return _Psi()

    def latex(self) -> str:
        return sp.latex(self.psi)


@functools.lru_cache(maxsize=32)
def teacher_gap_cgf(d: int = 2, predictive: bool = False) -> TeacherGapCGF:
    """ψ (or ψ_Y with ``predictive=True``) of the aligned model with ``d`` modes, derived from the
    quadratic form of the teacher gap (docs/mathematics.md §4.1, §4.2). Cached per (d, predictive)."""
    model_symbols(d)  # validates d
    if not isinstance(predictive, bool):
        raise GaussDistillError(f"predictive must be True or False; got {predictive!r}")
    return TeacherGapCGF(int(d), predictive)


class SymbolicBounds:
    """Theorems 1–2 as sympy expressions in λ/η, K, c, σ² and the model symbols.

    Attributes (sympy.Expr)
    ----------
    upper_cgf, lower_cgf
        gen_T + (K + ψ(λ))/λ and gen_T − (K + ψ(−λ))/λ: for every λ > 0 in the domain a bound
        (docs/mathematics.md §1.1); the numeric infimum is :meth:`cgf_bound`.
    dv
        gen_T − (K + ψ(−η))/η (docs/mathematics.md §1.2).
    central, largest_c
        c·gen_T − K/η and (η gen_T − ψ(−η))/(η gen_T).
    subgaussian_upper, subgaussian_lower
        gen_T ± sqrt(2σ²K).
    """

    def __init__(self, cgf: TeacherGapCGF):
        self.cgf = cgf
        psi, gT = cgf.psi, cgf.gen_T
        self.gen_T = gT
        self.upper_cgf = gT + (K_SYM + psi) / LAM
        self.lower_cgf = gT - (K_SYM + psi.subs(LAM, -LAM)) / LAM
        self.dv = gT - (K_SYM + psi.subs(LAM, -ETA)) / ETA
        self.central = C_SYM * gT - K_SYM / ETA
        self.largest_c = (ETA * gT - psi.subs(LAM, -ETA)) / (ETA * gT)
        self.subgaussian_upper = gT + sp.sqrt(2 * SIGMA2 * K_SYM)
        self.subgaussian_lower = gT - sp.sqrt(2 * SIGMA2 * K_SYM)
        self.symbols = {"lambda": LAM, "eta": ETA, "K": K_SYM, "c": C_SYM, "sigma2": SIGMA2}

    def evaluate(self, name: str, *, K=None, lam=None, eta=None, c=None, sigma2=None, **values) -> float:
        """One expression at numbers (all validated as floats first)."""
        if name not in ("upper_cgf", "lower_cgf", "dv", "central", "largest_c",
                        "subgaussian_upper", "subgaussian_lower"):
            raise GaussDistillError(f"name must be one of the bound expressions; got {name!r}")
        vec = self.cgf.values(**values)
        subs = dict(zip(self.cgf.args[1:], vec))
        # (symbol, value, domain): λ and η are > 0 (the bounds of docs/mathematics.md §1.1–1.2
        # hold for positive λ, η only), K, σ² >= 0, c any real.
        extra = {"K": (K_SYM, K, ">= 0"), "lam": (LAM, lam, "> 0"), "eta": (ETA, eta, "> 0"),
                 "c": (C_SYM, c, "real"), "sigma2": (SIGMA2, sigma2, ">= 0")}
        expr = getattr(self, name)
        nums = {}
        for label, (sym, val, dom) in extra.items():
            if sym in expr.free_symbols:
                if val is None:
                    raise GaussDistillError(f"{label} is needed by {name}")
                x = _num(label, val, nonnegative=dom == ">= 0")
                if dom == "> 0" and not x > 0:
                    raise GaussDistillError(f"{label}={val!r}: must be > 0 (the bounds hold for "
                                            f"{label} > 0 and divide by it)")
                subs[sym] = nums[label] = x
        # Outside the CGF's domain ψ = +inf: the bound is vacuous (+inf above, -inf below).
        lo, hi = self.cgf.domain(**values)
        arg = {"upper_cgf": nums.get("lam"), "lower_cgf": -nums.get("lam", 0.0),
               "dv": -nums.get("eta", 0.0), "largest_c": -nums.get("eta", 0.0)}.get(name)
        if arg is not None and not lo < arg < hi:
            return math.inf if name == "upper_cgf" else -math.inf
        if name == "largest_c" and self.cgf.moments(**values)["gen_T"] == 0.0:
            raise GaussDistillError("largest_c divides by gen_T = 0 (nu = 0: the teacher has "
                                    "no generalization gap); it is undefined here")
        value = expr.subs(subs).evalf(30)
        if not value.is_real:  # pragma: no cover - every case above is in the domain
            raise GaussDistillError(f"{name} is not real at these values ({value})")
        return float(value)

    def cgf_bound(self, K, side: str = "upper", **values):
        """The exact-CGF Theorem 1 bound with the λ-minimisation done numerically
        (:func:`gaussdistill.bounds.cgf_bound` on the lambdified ψ)."""
        from ..bounds import cgf_bound
        mom = self.cgf.moments(**values)
        return cgf_bound(_num("K", K, nonnegative=True), self.cgf.numeric(**values), mom["gen_T"], side=side,
                         divergence="predictive" if self.cgf.predictive else "weight")


def symbolic_bounds(d: int = 2, predictive: bool = False) -> SymbolicBounds:
    """Theorem 1/2 bound expressions for the aligned model with ``d`` modes (see :class:`SymbolicBounds`)."""
    return SymbolicBounds(teacher_gap_cgf(d, predictive))


# ----------------------------------------------------------------------------- numbers only
_OVERFLOW = ("the teacher-gap CGF overflows float64 at these values (e.g. w_j^2 s_j or nu^2 "
             "beyond 1e308); rescale the data")


def _num(name, x, nonnegative=False):
    from ._values import as_number
    v = as_number(name, x, allow_array=False)
    if nonnegative and v < 0:
        raise GaussDistillError(f"{name}={x!r}: must be >= 0")
    return v


def _clean(d, values) -> tuple:
    allowed = set(CGF_PARAMS) | {"s", "w"}
    unknown = set(values) - allowed
    if unknown:
        raise GaussDistillError(f"unknown parameter(s) {sorted(unknown)}; the teacher-gap CGF takes {sorted(allowed)}")
    missing = [p for p in CGF_PARAMS + ("s", "w") if p not in values]
    if missing:
        raise GaussDistillError(f"missing values for {', '.join(missing)}")
    vals = {p: _num(p, values[p]) for p in CGF_PARAMS}
    for p in ("k", "n"):
        if vals[p] != int(vals[p]) or vals[p] < 1:
            raise GaussDistillError(f"{p}={values[p]!r}: must be a positive integer")
    if vals["k"] < d:
        raise GaussDistillError(f"k={values['k']!r}: the aligned model needs k >= d = {d}")
    if vals["n"] < d:
        raise GaussDistillError(f"n={values['n']!r}: the aligned model with s_j > 0 needs n >= d = {d}")
    for p in ("nu", "lambda_T", "t_T"):
        if vals[p] < 0:
            raise GaussDistillError(f"{p}={values[p]!r}: must be >= 0")
    if vals["tau"] <= 0:
        raise GaussDistillError(f"tau={values['tau']!r}: must be > 0")
    spec = {}
    for p in ("s", "w"):
        seq = values[p]
        if not isinstance(seq, (list, tuple, np.ndarray)) or np.ndim(seq) != 1 or len(seq) != d:
            raise GaussDistillError(f"{p} must be a sequence (list, tuple or 1-d array) of {d} real "
                                    f"numbers, one per mode; got {type(seq).__name__} {seq!r:.60}")
        spec[p] = [_num(f"{p}_{j + 1}", x) for j, x in enumerate(seq)]
    if any(x <= 0 for x in spec["s"]):
        raise GaussDistillError(f"s must be > 0 (eigenvalues of X Xᵀ in the aligned model); got {spec['s']}")
    return tuple(vals[p] for p in CGF_PARAMS) + tuple(spec["s"]) + tuple(spec["w"])


def _lam_array(lam) -> np.ndarray:
    if isinstance(lam, (str, bytes, bool, np.bool_)):
        raise GaussDistillError(f"lam must be a real number or array; got {lam!r:.60}")
    try:
        raw = np.asarray(lam)
        if raw.dtype.kind not in "iuf":  # strings are never parsed, booleans are not numbers
            if raw.dtype.kind != "O":
                raise TypeError
            from ._values import _scalar
            raw = np.array([_scalar("lam", x, False) if x is not None else np.nan
                            for x in raw.ravel()], dtype=float).reshape(raw.shape)
        arr = raw.astype(float)
    except (TypeError, ValueError, OverflowError):
        raise GaussDistillError(f"lam must be a real number or array; got {lam!r:.60}") from None
    if np.isnan(arr).any():
        raise GaussDistillError("lam must not be NaN")
    return np.atleast_1d(arr)


def _positive_interval(a0: float, a1: float, a2: float) -> tuple[float, float]:
    """The connected interval around 0 where a0 + a1 λ + a2 λ² > 0 (a0 > 0), without cancellation."""
    if a2 == 0.0:
        if a1 == 0.0:
            return -math.inf, math.inf
        root = -a0 / a1
        return (root, math.inf) if root < 0 else (-math.inf, root)
    disc = a1 * a1 - 4.0 * a2 * a0
    if disc < 0:  # no real root: a2 > 0 since the value at 0 is positive
        return -math.inf, math.inf
    q = -0.5 * (a1 + math.copysign(math.sqrt(disc), a1))
    roots = sorted([q / a2, a0 / q] if q != 0 else [math.sqrt(-a0 / a2), -math.sqrt(-a0 / a2)])
    neg = [r for r in roots if r < 0]
    pos = [r for r in roots if r > 0]
    return (max(neg) if neg else -math.inf), (min(pos) if pos else math.inf)


__all__ = ["TeacherGapCGF", "teacher_gap_cgf", "SymbolicBounds", "symbolic_bounds"]
