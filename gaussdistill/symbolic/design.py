"""Design optima of the distillation set-up, derived from the symbolic expressions.

Every optimum is reported with the condition it satisfies (the stationarity equation
∂f/∂x = 0 as a sympy ``Eq``, or the boundary/KKT condition when the minimum sits on a
bound) and how it was found:

* ``"closed form"``: sympy solved ∂f/∂x = 0 (only attempted when the numerator of the
  derivative is a polynomial of degree <= 2 in x, where ``solve`` is exact and fast;
  general ``solve`` on these rational/log expressions can hang, sympy#11252);
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
from ._values import as_number, clean_bounds, clean_int, clean_values
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
    if objective not in OBJECTIVES:
        raise _Error(f"objective={objective!r}; valid options: "
                     + ", ".join(repr(o) for o in OBJECTIVES))
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
        with np.errstate(all="ignore"):
            v = np.asarray(f(np.asarray(t, dtype=float)), dtype=float)
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
    return clean_values(values, d, SCALAR_NAMES, allow_array=False), d


def _validate_point(kind_obj, values):
    kind_obj.evaluate(**values)  # domain + ordering checks (raises a clear ValueError)


def optimal_student_ridge(values, objective="risk", *, rank=None, direction="student||teacher",
                          bounds=(0.0, 1e3), student="population", d=None) -> Optimum:
    """λ_S minimising the student's risk or an expected divergence (expectation=True).

    For d = 1 and objective="risk" sympy finds λ_S* = h(s w² + kν²)/w² − s in closed form
    (h = s/(s+λ_T)); otherwise the optimum is numeric.  See :func:`minimize_parameter`.
    """
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    out = minimize_parameter(expr, "lambda_S", values, bounds, obj._S)
    _validate_point(obj, dict(values, lambda_S=out.value))
    return out


def optimal_shrinkage(values, objective="risk", *, rank=None, direction="student||teacher",
                      bounds=(0.0, 2.0), d=None) -> Optimum:
    """Uniform shrinkage c of the student M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2} minimising
    the objective.  For the risk and for K̄ the objective is quadratic in c: closed form."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, "shrinkage", direction)
    out = minimize_parameter(expr, "c", values, bounds, obj._S)
    _validate_point(obj, dict(values, c=out.value))
    return out


def optimal_teacher_ridge(values, objective="risk", *, rank=None, direction="student||teacher",
                          bounds=(0.0, 1e3), student="population", d=None) -> Optimum:
    """λ_T minimising the student's risk (or an expected divergence): the effect of the
    teacher's regularisation on what the student inherits."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    out = minimize_parameter(expr, "lambda_T", values, bounds, obj._S)
    _validate_point(obj, dict(values, lambda_T=out.value))
    return out


def optimal_soft_noise(values, objective="predictive", *, rank=None,
                       direction="student||teacher", bounds=(1e-3, 1e2), student="population",
                       d=None) -> Optimum:
    """τ minimising an expected divergence.  In the population mode τ only spreads the
    predictive laws, so K^Y and K̄ decrease in τ: expect a bound optimum (on_boundary)
    unless the student is stochastic (t_S > 0 makes Σ_S scale with τ²)."""
    values, d = _prepare(values, d, rank)
    expr, obj = _objective(objective, d, rank, student, direction)
    out = minimize_parameter(expr, "tau", values, bounds, obj._S)
    _validate_point(obj, dict(values, tau=out.value))
    return out


@dataclass(frozen=True)
class RankChoice:
    """Best student rank by the per-mode rule, with the numbers that justify it.

    ``gain[j-1]``/``cost[j-1]`` are the reduction/increase of the objective when mode j is
    added (going from rank j-1 to j); the rule keeps mode j while gain > cost.  ``by_rule``
    is the rank the rule gives (first failure stops), ``argmin`` the brute-force minimiser
    of objective(r) + price·r over r = 0..d; ``consistent`` says whether they agree (they
    do when the net gains are non-increasing in j).
    """

    by_rule: int
    argmin: int
    consistent: bool
    gain: tuple
    cost: tuple
    objective_by_rank: tuple
    marginal: tuple  # sympy: objective(j-1) - objective(j)
    rule: str


def optimal_rank(values, objective="risk", *, price=0.0, direction="student||teacher",
                 student="population", d=None) -> RankChoice:
    """Best rank r in 0..d: keep mode j while its marginal gain beats its cost.

    objective="risk": gain_j = risk(j-1) − risk(j) at ν = 0 (signal captured by mode j:
    s_j w_j² [1 − (1 − c g_j h_j)²]/n), cost_j = gain_j − (risk(j-1) − risk(j)) (noise
    admitted by one more output dimension of the oracle subspace: ν² Σ_i g_i² h_i²/n)
    plus ``price``.  For a divergence objective, gain_j = total(j-1) − total(j) and
    cost_j = ``price`` (a cost per unit of rank, e.g. parameters).  Rank-r expressions
    use the oracle subspace when ν > 0 (see :func:`aligned_decomposition`), and the
    spectra must be ordered (checked).  The step r = d − 1 → d also switches from the
    oracle projection (noise in r output directions) to the exact full-rank student
    (noise in all k directions), so its cost includes (k − d + 1) noise directions.
    """
    values, d = _prepare(values, d, None)
    price = as_number("price", price, allow_array=False)
    exprs, objs = [], []
    for r in range(d + 1):
        e, o = _objective(objective, d, r, student, direction)
        exprs.append(e)
        objs.append(o)
    key = {"risk": "risk_S", "gen_S": "gen_S"}.get(objective, "total")
    num = [float(o.evaluate(**values)[key]) for o in objs]  # also checks the ordering
    marginal = tuple(exprs[j - 1] - exprs[j] for j in range(1, d + 1))
    if objective == "risk":
        at0 = [float(o.evaluate(**dict(values, nu=0.0))[key]) for o in objs]
        gain = tuple(at0[j] - at0[j + 1] for j in range(d))
        cost = tuple(g - (num[j] - num[j + 1]) + price for j, g in enumerate(gain))
        rule = "keep mode j while s_j w_j^2 [1-(1-c g_j h_j)^2]/n > nu^2 sum_i g_i^2 h_i^2/n + price"
    else:
        gain = tuple(num[j] - num[j + 1] for j in range(d))
        cost = (float(price),) * d
        rule = "keep mode j while total(j-1) - total(j) > price"
    by_rule = 0
    for g, c in zip(gain, cost):
        if g > c:
            by_rule += 1
        else:
            break
    penalised = [v + price * r for r, v in enumerate(num)]
    argmin = int(np.argmin(penalised))
    return RankChoice(by_rule, argmin, by_rule == argmin, gain, cost, tuple(num),
                      marginal, rule)


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
