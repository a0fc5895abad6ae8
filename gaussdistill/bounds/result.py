"""Result types of the bound evaluators: :class:`Assumption` and :class:`BoundResult`.

Every bound is a bound on the student's expected generalization gap gen_S itself
(side ``"upper"``: gen_S <= value; side ``"lower"``: gen_S >= value), so it already
contains gen_T; see docs/mathematics.md §1.1–§1.3.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import GaussDistillError

HOLDS_RTOL = 1e-12
STATUSES = ("checked", "violated", "assumed")
FORMS = ("subgaussian", "cgf", "dv", "central", "sharpness")
THEOREM_OF_FORM = {"subgaussian": 1, "cgf": 1, "dv": 2, "central": 2, "sharpness": 3}

#: Assumptions each form needs before its value is a proved bound; a BoundResult built by
#: hand without one of them is not ``valid``. The evaluators always record them.
REQUIRED = {
    "subgaussian": ("divergence", "subgaussian"),
    "cgf": ("divergence", "cgf_exact"),
    "dv": ("divergence", "cgf_exact"),
    "central": ("divergence", "central_condition", "c_in_unit_interval"),
    "sharpness": ("hessian_bound", "first_order"),
}


@dataclass(frozen=True)
class Assumption:
    """One hypothesis of a theorem and what is known about it.

    status
        ``"checked"``: verified true here (e.g. ψ finite on the range used, c in (0, 1));
        ``"violated"``: verified false (the bound is then not a proved bound);
        ``"assumed"``: not checkable from the inputs; stated, and taken as true.
    """

    name: str
    status: str
    detail: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise GaussDistillError(f"Assumption name must be a non-empty string; got {self.name!r}")
        if self.status not in STATUSES:
            raise GaussDistillError(f"Assumption status must be one of {STATUSES}; got {self.status!r}")
        if not isinstance(self.detail, str):
            raise GaussDistillError(f"Assumption detail must be a string; got {type(self.detail).__name__}")

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "detail": self.detail}


class FrozenDict(dict):
    """A read-only dict (picklable and deep-copyable, unlike ``MappingProxyType``)."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _readonly

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __hash__(self):  # pragma: no cover - values may be unhashable
        return id(self)


def _freeze(mapping) -> Mapping:
    return FrozenDict(mapping or {})


@dataclass(frozen=True)
class BoundResult:
    """A bound on gen_S (the student's expected generalization gap).

    Attributes
    ----------
    theorem : int
        1 (docs/mathematics.md §1.1, §4.2), 2 (§1.2) or 3 (§1.3, §4.4).
    form : str
        ``"subgaussian"`` gen_T ± sqrt(2σ²K); ``"cgf"`` gen_T ± inf_λ (K + ψ(±λ))/λ;
        ``"dv"`` gen_T − (K + ψ(−η))/η; ``"central"`` c·gen_T − K/η;
        ``"sharpness"`` gen_T + first order + κρ²/2.
    side : str
        ``"upper"`` (gen_S <= value) or ``"lower"`` (gen_S >= value).
    divergence : str or None
        Which K_n was used: ``"weight"`` (K^W), ``"predictive"`` (K^Y), ``"convexity"`` (K̄),
        or None (Theorem 3 without a divergence).
    value : float
        The bound (may be ±inf when vacuous; never NaN).
    assumptions : tuple of Assumption
    details : mapping
        Optimiser output, intermediate quantities (λ*, η, c, ρ, ρ₀, ...), reasons.

    ``valid`` is True iff no assumption has status ``"violated"`` and every assumption in
    ``REQUIRED[form]`` is present (the evaluators always record them, as ``"checked"`` or
    ``"assumed"``). ``valid`` therefore means "a proved bound, given the assumptions
    marked assumed"; a valid bound may still be vacuous (value ±inf, see ``vacuous``).
    """

    theorem: int
    form: str
    side: str
    divergence: str | None
    value: float
    assumptions: tuple = ()
    details: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if self.form not in FORMS:
            raise GaussDistillError(f"form must be one of {FORMS}; got {self.form!r}")
        if self.theorem != THEOREM_OF_FORM[self.form]:
            raise GaussDistillError(
                f"form {self.form!r} belongs to Theorem {THEOREM_OF_FORM[self.form]}, not {self.theorem!r}")
        if self.side not in ("upper", "lower"):
            raise GaussDistillError(f"side must be 'upper' or 'lower'; got {self.side!r}")
        if self.divergence not in (None, "weight", "predictive", "convexity"):
            raise GaussDistillError(
                f"divergence must be 'weight', 'predictive', 'convexity' or None; got {self.divergence!r}")
        v = self.value
        if isinstance(v, (bool, str, bytes)) or v is None:
            raise GaussDistillError(f"a bound value must be a real number; got {v!r}")
        try:
            value = float(v)
        except OverflowError:            # a Python int beyond float64
            value = math.inf if v > 0 else -math.inf
        except (TypeError, ValueError):
            raise GaussDistillError(f"a bound value must be a real number; got {type(v).__name__}") from None
        if math.isnan(value):
            raise GaussDistillError("a bound value must not be NaN")
        object.__setattr__(self, "value", value)
        assumptions = tuple(self.assumptions)
        for a in assumptions:
            if not isinstance(a, Assumption):
                raise GaussDistillError(f"assumptions must be Assumption objects; got {type(a).__name__}")
        object.__setattr__(self, "assumptions", assumptions)
        object.__setattr__(self, "details", _freeze(self.details))

    @property
    def missing(self) -> tuple[str, ...]:
        """Required assumptions (``REQUIRED[form]``) not recorded at all."""
        names = {a.name for a in self.assumptions}
        return tuple(n for n in REQUIRED[self.form] if n not in names)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the violated assumptions (then of the missing required ones)."""
        return tuple(a.name for a in self.assumptions if a.status == "violated") + self.missing

    @property
    def valid(self) -> bool:
        """True iff no assumption is violated and none required is missing."""
        return not self.failed

    @property
    def vacuous(self) -> bool:
        """True when the value is +inf (upper) or -inf (lower): it says nothing."""
        return math.isinf(self.value) and ((self.value > 0) == (self.side == "upper"))

    def assumption(self, name: str) -> Assumption | None:
        for a in self.assumptions:
            if a.name == name:
                return a
        return None

    def holds_for(self, gen_student: float, rtol: float = HOLDS_RTOL) -> bool:
        """Whether the bound holds for gen_S, up to rounding: slack >= −rtol·max(1, |value|, |gen_S|).

        The tolerance (default 1e-12) only absorbs float64 rounding at equality cases (e.g.
        Donsker–Varadhan at the tilted law); statistical error is the caller's business.
        """
        from ._checks import real
        gen_student = real("gen_student", gen_student)
        if math.isinf(self.value):
            return self.slack(gen_student) >= 0
        scale = max(1.0, abs(self.value), abs(gen_student))
        return self.slack(gen_student) >= -rtol * scale

    def slack(self, gen_student: float) -> float:
        """value − gen_S (upper) or gen_S − value (lower): >= 0 iff the bound holds."""
        from ._checks import real
        gen_student = real("gen_student", gen_student)
        return self.value - gen_student if self.side == "upper" else gen_student - self.value

    def to_dict(self) -> dict:
        return {
            "theorem": self.theorem,
            "form": self.form,
            "side": self.side,
            "divergence": self.divergence,
            "value": self.value,
            "valid": self.valid,
            "failed_assumptions": list(self.failed),
            "assumptions": [a.to_dict() for a in self.assumptions],
            "details": dict(self.details),
        }


def merge_assumptions(defaults, extra) -> tuple:
    """Defaults first; an extra assumption with the same name replaces the default."""
    extra = tuple(extra or ())
    for a in extra:
        if not isinstance(a, Assumption):
            raise GaussDistillError(f"assumptions must be Assumption objects; got {type(a).__name__} {a!r}")
    names = {a.name for a in extra}
    return tuple(a for a in defaults if a.name not in names) + extra
