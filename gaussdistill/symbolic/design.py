"""Design optima of the distillation set-up, derived from the symbolic expressions.

Every optimum is reported with the condition it satisfies (the stationarity equation
∂f/∂x = 0 as a sympy ``Eq``, or the boundary/KKT condition when the minimum sits on a
bound) and how it was found:

* ``"closed form"``: sympy solved ∂f/∂x = 0 (only attempted when the numerator of the
  derivative is a polynomial of degree <= 2 in x, where ``solve`` is exact and fast;
  general ``solve`` on these rational/log expressions can hang);
* ``"numeric"``: a dense grid over the bounds (global: the objective need not be convex)
  refined by bounded Brent (``scipy.optimize.minimize_scalar``) in the best grid cell.

Objectives: ``"risk"`` (the student's fixed-design risk E L(W_S) vs the truth),
``"gen_S"``, or a divergence kind (its expected total, :func:`aligned_decomposition`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.optimize import minimize_scalar

from ._functions import numeric_modules, u_minus_log1p
from ._symbols import SCALAR_NAMES, ModelSymbols
from ._values import clean_bounds, clean_choice, clean_int, clean_values
from .decomposition import KINDS, _Error, aligned_decomposition
from .gaps import generalization_gaps

OBJECTIVES = ("risk", "gen_S") + KINDS
_MAX_OPS_SOLVE = 150  # beyond this, together/factor_list take seconds to minutes: go numeric


@dataclass(frozen=True)
class Optimum:
    """Minimiser of ``objective`` over one parameter.

    Attributes
    ----------
    parameter : str
    value : float            argmin
    objective_value : float  the minimum
    condition : sympy.Eq     ∂f/∂x = 0 (symbolic, all other parameters free)
    closed_form : sympy.Expr or None   x* as a formula, when sympy could solve
    method : str             "closed form" or "numeric (grid + bounded Brent)"
    derivative : float       ∂f/∂x at the optimum (≈ 0 unless on a bound)
    on_boundary : bool       the minimum is at a bound (then the condition is KKT:
                             ∂f/∂x >= 0 at the lower bound, <= 0 at the upper bound)
    objective : sympy.Expr
    """

    parameter: str
    value: float
    objective_value: float
    condition: sp.Eq
    closed_form: sp.Expr | None
    method: str
    derivative: float
    on_boundary: bool
    objective: sp.Expr = field(repr=False)

    def __str__(self):
        where = " (on a bound: KKT)" if self.on_boundary else ""
        return (f"{self.parameter}* = {self.value:.10g}{where}, objective = "
                f"{self.objective_value:.10g}, d/d{self.parameter} = {self.derivative:.3g} "
                f"[{self.method}]")


def _objective(objective, d, rank, student, direction):
    clean_choice("objective", objective, OBJECTIVES)
    if objective in ("risk", "gen_S"):
        g = generalization_gaps(d=d, rank=rank, student=student)
        return (g.risk_S if objective == "risk" else g.gen_S), g
    dec = aligned_decomposition(objective, direction, True, student, d=d, rank=rank)
    return dec.total, dec


def _fixed_values(S, values, name):
    """sympy substitution of the (already validated, float) values of every other parameter."""
    subs = {}
    for nm in SCALAR_NAMES:
        if nm != name and values.get(nm) is not None:
            subs[getattr(S, nm)] = sp.Float(values[nm], 17)
    for key, syms in (("s", S.s), ("w", S.w)):
        for sym, x in zip(syms, values.get(key) or ()):
            subs[sym] = sp.Float(x, 17)
    return subs


def minimize_parameter(expr, name, values, bounds, symbols, grid=400, try_closed_form=True):
    """Minimise the sympy expression ``expr`` over parameter ``name`` in ``bounds``.

    Parameters
    ----------
    expr : sympy.Expr
    name : str
        A scalar parameter name (``"lambda_S"``, ``"c"``, ``"tau"``, ...).
    values : dict
        Numbers for every other parameter (spectra as sequences ``s``, ``w``).  Each is
        converted to a float before sympy sees it (strings are never parsed); a value that
        is not a finite real number in its domain raises a ``GaussDistillError`` naming it.
    bounds : (float, float)
        Inside the parameter's domain (e.g. ``tau`` > 0, ``lambda_S`` >= 0).
    symbols : ModelSymbols
    grid : int
        Grid size for the global search (3..100000).
    """
    if not isinstance(name, str) or name not in SCALAR_NAMES:
        raise _Error(f"name={name!r}; valid: {', '.join(SCALAR_NAMES)}")
    if not isinstance(symbols, ModelSymbols):
        raise _Error("symbols: expected the ModelSymbols of the expression "
                     "(gaussdistill.symbolic.model_symbols(d))")
    if not isinstance(expr, sp.Expr):
        raise _Error(f"expr: expected a sympy expression, got {type(expr).__name__}")
    values = clean_values(values, symbols.d, SCALAR_NAMES, allow_array=False)
    lo, hi = clean_bounds(name, bounds)
    grid = clean_int("grid", grid, 3, 100_000)
    x = getattr(symbols, name)
    deriv = sp.diff(expr, x)
    condition = sp.Eq(deriv, 0)
    subs = _fixed_values(symbols, values, name)
    missing = (expr.free_symbols - set(subs)) - {x}
    if missing:
        raise _Error("missing values for " + ", ".join(sorted(str(m) for m in missing)))
    f = sp.lambdify(x, expr.subs(subs), modules=numeric_modules("numpy"))
    fp = sp.lambdify(x, deriv.subs(subs), modules=numeric_modules("numpy"))

    def F(t):
        t = np.asarray(t, dtype=float)
        with np.errstate(all="ignore"):
            v = np.asarray(f(t), dtype=float)
        # An objective free of x lambdifies to a constant: give it the shape of t.
        v = np.broadcast_to(v, t.shape)
        return np.where(np.isfinite(v), v, np.inf)

    # Closed form, two cheap routes (general ``solve`` on these expressions can hang):
    # (1) f quadratic in x (∂²f/∂x² free of x): x* = -f'(0)/f''; (2) small rational f:
    # solve each factor of the numerator of f' of degree <= 2 in x (d = 1 only: for d >= 2
    # factor_list of the common numerator takes about a minute).
    closed, candidates = None, []
    if try_closed_form:
        roots = []
        second = sp.diff(deriv, x)
        if x not in second.free_symbols and second != 0:
            roots = [-deriv.subs(x, 0) / second]
        elif (symbols.d == 1 and not deriv.has(sp.log, u_minus_log1p)
              and sp.count_ops(deriv) <= _MAX_OPS_SOLVE):
            num = sp.numer(sp.together(deriv))
            for fac, _mult in sp.factor_list(num)[1]:
                if x in fac.free_symbols and fac.is_polynomial(x) and sp.degree(fac, x) <= 2:
                    roots.extend(sp.solve(fac, x))
        for root in roots:
            val = complex(sp.lambdify([], root.subs(subs), modules=numeric_modules("mpmath"))())
            if abs(val.imag) <= 1e-12 * (1 + abs(val.real)) and lo <= val.real <= hi:
                candidates.append((float(val.real), root))
    # Global numeric search (also validates the closed form).
    if lo > 0 and hi / lo > 100:
        ts = np.unique(np.concatenate([np.geomspace(lo, hi, grid), np.linspace(lo, hi, grid)]))
    else:
        ts = np.linspace(lo, hi, grid)
    vals = F(ts)
    if not np.any(np.isfinite(vals)):
        raise _Error(f"the objective is not finite (or not defined) at any {name} in "
                     f"bounds=({lo:g}, {hi:g}) at these values of the other parameters")
    i = int(np.argmin(vals))
    a, b = ts[max(i - 1, 0)], ts[min(i + 1, len(ts) - 1)]
    res = minimize_scalar(lambda t: float(F(t)), bounds=(a, b), method="bounded",
                          options=dict(xatol=1e-12 * max(1.0, abs(ts[i]))))
    best_x, best_f, method = float(res.x), float(res.fun), "numeric (grid + bounded Brent)"
    for t, fv in ((lo, float(F(lo))), (hi, float(F(hi))), (ts[i], float(vals[i]))):
        if fv < best_f:
            best_x, best_f = float(t), fv
    for t, root in candidates:
        ft = float(F(t))
        if ft <= best_f + 1e-12 * (1 + abs(best_f)):
            best_x, best_f, closed, method = t, ft, root, "closed form"
    scale = max(hi - lo, 1e-300)
    on_boundary = min(best_x - lo, hi - best_x) <= 1e-9 * scale
    with np.errstate(all="ignore"):
        dval = float(fp(best_x))
    return Optimum(name, best_x, best_f, condition, closed, method, dval, on_boundary, expr)


def _prepare(values, d, rank):
    """Validate the user's values (numbers only, before any sympy call) and find d."""
    if not hasattr(values, "keys"):
        raise _Error(f"values: expected a dict of parameter values, got {type(values).__name__}")
    if "s" not in values or "w" not in values:
        raise _Error("values must include the spectra 's' and 'w' (sequences)")
    if d is None:
        spec = values["s"]
        if not isinstance(spec, (list, tuple, np.ndarray)) or np.ndim(spec) == 0:
            raise _Error(f"s: expected a sequence (one eigenvalue per mode), got {type(spec).__name__}")
        d = len(spec)
    d = clean_int("d", d, 1, 12)
    out = clean_values(values, d, SCALAR_NAMES, allow_array=False)
    for key in ("s", "w"):
        if out[key] is None:
            raise _Error(f"values[{key!r}]: expected a sequence of length d={d}, got None")
    return out, d


def _inside(name, bounds):
    """A point inside the (validated) bounds, to check the other values before optimising."""
    lo, hi = clean_bounds(name, bounds)
    return lo + (hi - lo) / 2


def _validate_point(kind_obj, values):
    kind_obj.evaluate(**values)  # domain + ordering checks (raises a clear ValueError)


def optimal_student_ridge(values, objective="risk", *, rank=None, direction="student||teacher",
                          bounds=(0.0, 1e3), student="population", d=None) -> Optimum:
    """λ_S minimising the student's risk or an expected divergence (expectation=True).

    For d = 1, objective="risk" and a deterministic student (t_S = 0) sympy finds
    λ_S* = h(s w² + kν²)/w² − s in closed form (h = s/(s+λ_T); the risk is then
    [s w²(gh − 1)² + k g² h² ν²]/n + kν² in g = s/(s+λ_S), docs/mathematics.md §2.5).
    With t_S > 0 the student's own spread adds k t_S τ² g/n and that formula no longer
    holds; the optimum is then found as :func:`minimize_parameter` describes.  Rank-r
    objectives with ν > 0 are those of the oracle-subspace student.
    """
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    _validate_point(obj, dict(values, lambda_S=_inside("lambda_S", bounds)))
    out = minimize_parameter(expr, "lambda_S", values, bounds, obj._S)
    _validate_point(obj, dict(values, lambda_S=out.value))
    return out


def optimal_shrinkage(values, objective="risk", *, rank=None, direction="student||teacher",
                      bounds=(0.0, 2.0), d=None) -> Optimum:
    """Uniform shrinkage c of the student M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2} minimising
    the objective.  For the risk and for K̄ the objective is quadratic in c: closed form."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, "shrinkage", direction)
    _validate_point(obj, dict(values, c=_inside("c", bounds)))
    out = minimize_parameter(expr, "c", values, bounds, obj._S)
    _validate_point(obj, dict(values, c=out.value))
    return out


def optimal_teacher_ridge(values, objective="risk", *, rank=None, direction="student||teacher",
                          bounds=(0.0, 1e3), student="population", d=None) -> Optimum:
    """λ_T minimising the student's risk (or an expected divergence): the effect of the
    teacher's regularisation on what the student inherits."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    _validate_point(obj, dict(values, lambda_T=_inside("lambda_T", bounds)))
    out = minimize_parameter(expr, "lambda_T", values, bounds, obj._S)
    _validate_point(obj, dict(values, lambda_T=out.value))
    return out


def optimal_soft_noise(values, objective="predictive", *, rank=None,
                       direction="student||teacher", bounds=(1e-3, 1e2), student="population",
                       d=None) -> Optimum:
    """τ minimising an expected divergence (``bounds`` inside τ > 0).

    K̄ decreases in τ for every student (its student term k t_S Σ_j g_j / 2 does not depend
    on τ, every other term is divided by τ²): its optimum is the upper bound
    (``on_boundary``).  K^Y and K^W can have an interior optimum when the student is
    stochastic (t_S > 0: Σ_S = t_S τ² A_S⁻¹ scales with τ²); for t_S = 0 K^Y also decreases
    in τ.  Formulas: docs/mathematics.md §2.2–2.4."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    _validate_point(obj, dict(values, tau=_inside("tau", bounds)))
    out = minimize_parameter(expr, "tau", values, bounds, obj._S)
    _validate_point(obj, dict(values, tau=out.value))
    return out


def sensitivity(expr_or_decomposition, name, values, part="total"):
    """∂(part)/∂(name) at ``values``: the effect of τ, λ_T, ... as a number and its sign.

    Returns ``(derivative_value, sympy_derivative)``.
    """
    obj = expr_or_decomposition
    if part not in ("total", "bias", "variance", "rank"):
        raise _Error(f"part={part!r}; valid options: 'total', 'bias', 'variance', 'rank'")
    if hasattr(obj, "diff") and hasattr(obj, "evaluate") and hasattr(obj, part):
        der = obj.diff(name)
        return float(der.evaluate(**values)[part]), getattr(der, part)
    raise _Error("sensitivity expects an AlignedDecomposition")
