r"""One setting of the linear-Gaussian case study, exactly: gaps, E_D K_n, the teacher-gap CGF, bounds.

Model (docs/mathematics.md §2.1): X (d×n) fixed, Y = W⋆X + νE; teacher
q_T = MN(M_T, I_k, Σ_T), M_T = Y Xᵀ A_T⁻¹, Σ_T = t_T ν² A_T⁻¹, A_T = X Xᵀ + λ_T I; soft labels
MN(M_T X, I_k, τ² I + Xᵀ Σ_T X); student M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2}, Σ_S = t_S τ² A_S⁻¹.

This module holds the frozen :class:`CaseStudy` (its arguments, validation and public
accessors). The mathematics lives next to it, one module per part:

* :mod:`.case_moments`: exact expectations over the label noise in the eigenbasis of X Xᵀ
  (gen_T, gen_S, the risks, E_D K^W / K^Y / K̄, ρ²; docs/mathematics.md §2.4–2.5, §4.3–4.4);
* :mod:`.teacher_gap`: the teacher gap as a Gaussian quadratic form, its CGFs ψ and ψ_Y
  (docs/mathematics.md §4.1–4.2);
* :mod:`.case_bounds`: the bound ingredients and the bound table (docs/mathematics.md §4).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import GaussDistillError
from . import case_moments as _moments
from .case_bounds import PROXY_GRID, bound_ingredients_for, bound_table_for
from .case_moments import DIRECTIONS, KINDS, kl_modes
from .teacher_gap import SumOfQuadraticForms, gap_cgf, gap_form

STUDENTS = ("population", "sampled", "shrinkage")
#: Largest integer argument (draws): beyond 2^53 float64 cannot tell m from m + 1.
MAX_INT = 2**53
#: Largest condition number of Σ_x in the random design (beyond it X Xᵀ rounds to singular).
MAX_COND = 1e12
#: Range of |ν|, |τ|, |c|: their squares must stay normal float64 numbers.
SQUARE_RANGE = (1e-150, 1e150)
DESIGNS = ("fixed", "random")


# ----------------------------------------------------------------------------- validation
def _real(name, value, *, positive=False, nonnegative=False, bound=None):
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise GaussDistillError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:   # a Python int beyond float64 (e.g. 10**400)
        raise GaussDistillError(f"{name} must be finite in float64; got an integer of {len(str(abs(int(value))))} "
                                "digits") from None
    if not math.isfinite(value):
        raise GaussDistillError(f"{name} must be finite; got {value}")
    if bound is not None and value != 0 and not bound[0] <= abs(value) <= bound[1]:
        raise GaussDistillError(f"{name} = {value:g} is outside [{bound[0]:g}, {bound[1]:g}]: its square "
                                "would underflow or overflow float64")
    if positive and value <= 0:
        raise GaussDistillError(f"{name} must be > 0; got {value}")
    if nonnegative and value < 0:
        raise GaussDistillError(f"{name} must be >= 0; got {value}")
    return value


def _int(name, value, lo, hi=None):
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if hi is None:
        hi = MAX_INT
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < lo \
            or (hi is not None and value > hi):
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise GaussDistillError(f"{name} must be an integer {rng}; got {value!r}")
    return int(value)


def _matrix(name, value, shape=None):
    if isinstance(value, (str, bytes)):
        raise GaussDistillError(f"{name} must be a real numeric matrix; got a string")
    try:
        raw = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise GaussDistillError(f"{name} must be a real numeric matrix ({exc})") from None
    if raw.dtype.kind not in "iuf":
        raise GaussDistillError(f"{name} must be a real numeric matrix; got dtype {raw.dtype}")
    arr = np.array(raw, dtype=float)
    if arr.ndim != 2:
        raise GaussDistillError(f"{name} must be a 2-D matrix; got shape {arr.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape)):
            if want is not None and want != got:
                raise GaussDistillError(f"{name} has shape {arr.shape}; axis {axis} must have length {want}")
    if not np.all(np.isfinite(arr)):
        raise GaussDistillError(f"{name} contains NaN or inf entries; all entries must be finite")
    if 0 in arr.shape:
        raise GaussDistillError(f"{name} must not be empty; got shape {arr.shape}")
    arr.setflags(write=False)
    return arr


def _choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise GaussDistillError(f"unknown {name} {value!r}; valid values are " + ", ".join(map(repr, choices)))
    return value


# ----------------------------------------------------------------------------- the setting
@dataclass(frozen=True, eq=False)
class CaseStudy:
    r"""One setting of the linear-Gaussian teacher/student model, with its exact expectations.

    Parameters
    ----------
    X : (d, n) design (columns are samples). In the random design only its shape is used:
        each data set draws its own X with columns x ~ N(0, Σ_x).
    W_star : (k, d) ground truth W⋆.
    noise : label noise ν > 0.  soft_noise : soft-label noise τ > 0 (default ν).
    teacher_lam, student_lam : ridges λ_T, λ_S ≥ 0.
    teacher_temperature, student_temperature : t_T, t_S ≥ 0 (0: deterministic kernel).
    rank : student rank r (None: full rank).
    student : "population" (fits E[Ŷ] = M_T X), "sampled" (fits the mean of ``draws`` soft-label
        draws; soft labels integrated out in its kernel), "shrinkage" (the population student
        times ``shrinkage`` = c, as in :mod:`gaussdistill.symbolic`: M_S = c[Ŵ A_S^{1/2}]_r A_S^{-1/2}).
    draws : m ≥ 1 (sampled student).  shrinkage : c (shrinkage student).
    shared_teacher_draw : sampled student only: True (default) when the m draws share one teacher
        draw W_T (the pipeline D → W_T → Ŷ → W_S); False for m independent draws of the mixture.
    design : "fixed" or "random".  design_cov : Σ_x (d×d, positive definite; default I).

    Exact values (``gen_teacher``, ``gen_student``, ``expected_divergence``, ...) are the
    expectations over the label noise E (and the kernels' randomness) in the fixed design; in the
    random design they exist in closed form only for λ_T = λ_S = 0, n > d + 1 and a linear student
    (then by E(XXᵀ)⁻¹ = Σ_x⁻¹/(n − d − 1)); elsewhere a GaussDistillError says to use
    :func:`gaussdistill.simulate`.
    """

    X: np.ndarray
    W_star: np.ndarray
    noise: float
    soft_noise: float | None = None
    teacher_lam: float = 1.0
    student_lam: float = 1.0
    teacher_temperature: float = 1.0
    student_temperature: float = 1.0
    rank: int | None = None
    student: str = "population"
    draws: int = 1
    shrinkage: float = 1.0
    design: str = "fixed"
    design_cov: np.ndarray | None = None
    shared_teacher_draw: bool = True

    def __post_init__(self):
        set_ = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731
        X = _matrix("X", self.X)
        d, n = X.shape
        W = _matrix("W_star", self.W_star, (None, d))
        set_("X", X)
        set_("W_star", W)
        set_("noise", _real("noise", self.noise, positive=True, bound=SQUARE_RANGE))
        set_("soft_noise", self.noise if self.soft_noise is None
             else _real("soft_noise", self.soft_noise, positive=True, bound=SQUARE_RANGE))
        for name in ("teacher_lam", "student_lam", "teacher_temperature", "student_temperature"):
            set_(name, _real(name, getattr(self, name), nonnegative=True))
        k = W.shape[0]
        if self.rank is not None:
            set_("rank", _int("rank", self.rank, 0, min(k, d)))
        set_("student", _choice("student", self.student, STUDENTS))
        set_("draws", _int("draws", self.draws, 1))
        set_("shrinkage", _real("shrinkage", self.shrinkage, bound=(0.0, SQUARE_RANGE[1])))
        set_("design", _choice("design", self.design, DESIGNS))
        if not isinstance(self.shared_teacher_draw, (bool, np.bool_)):
            raise GaussDistillError(f"shared_teacher_draw must be True or False; got {self.shared_teacher_draw!r}")
        cov = np.eye(d) if self.design_cov is None else _matrix("design_cov", self.design_cov, (d, d))
        # checked in either design: a Σ_x that is not a covariance is a mistake even where it is unused
        if np.max(np.abs(cov - cov.T)) > 1e-10 * np.max(np.abs(cov)):
            raise GaussDistillError("design_cov must be symmetric")
        ev = np.linalg.eigvalsh(cov)
        if not ev[0] > 0:
            raise GaussDistillError("design_cov must be positive definite")
        if self.design == "random" and ev[-1] > MAX_COND * ev[0]:
            raise GaussDistillError(f"design_cov has condition number {ev[-1] / ev[0]:.3g} > {MAX_COND:g}: the drawn "
                                    "X Xᵀ would be numerically singular; rescale the inputs")
        cov.setflags(write=False)       # the default identity too: a frozen setting has read-only arrays
        set_("design_cov", cov)
        rank_x = self._rank_x
        if self.teacher_lam == 0 and rank_x < d:
            raise GaussDistillError(f"teacher_lam=0 but X X^T is singular (rank {rank_x} < d = {d}, e.g. n < d); "
                                    "pass teacher_lam > 0")
        if self.student_lam == 0 and self.student_temperature > 0 and rank_x < d:
            raise GaussDistillError(f"student_temperature > 0 with student_lam=0 needs X X^T invertible (rank "
                                    f"{rank_x} < d = {d}); pass student_lam > 0 or student_temperature=0")

    # ---- shapes and small helpers
    @property
    def k(self) -> int:
        return self.W_star.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[0]

    @property
    def n(self) -> int:
        return self.X.shape[1]

    def __repr__(self) -> str:
        return (f"CaseStudy(k={self.k}, d={self.d}, n={self.n}, design={self.design!r}, student={self.student!r}, "
                f"rank={self.rank}, nu={self.noise:g}, tau={self.soft_noise:g}, lam_T={self.teacher_lam:g}, "
                f"lam_S={self.student_lam:g}, t_T={self.teacher_temperature:g}, t_S={self.student_temperature:g}"
                + (f", m={self.draws}" if self.student == "sampled" else "")
                + (f", c={self.shrinkage:g}" if self.student == "shrinkage" else "") + ")")

    def replace(self, **overrides) -> CaseStudy:
        """A new CaseStudy with some arguments changed (validated again)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise GaussDistillError(f"unknown CaseStudy argument(s) {unknown}; valid: {sorted(names)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return {f.name: (getattr(self, f.name).tolist() if isinstance(getattr(self, f.name), np.ndarray)
                         else getattr(self, f.name)) for f in dataclasses.fields(self)}

    @cached_property
    def _modes(self):
        """(s, U, rank, ‖W⋆u_j‖²) of X Xᵀ = U diag(s) Uᵀ (fixed design)."""
        return _moments.design_modes(self.X, self.W_star)

    @cached_property
    def _rank_x(self) -> int:
        """rank X (fixed design); min(n, d), its value with probability 1, in the random design."""
        return min(self.n, self.d) if self.design == "random" else self._modes[2]

    @property
    def linear_student(self) -> bool:
        """True when M_S is linear in the labels (full rank or r = 0): then exact closed forms exist."""
        return self.rank is None or self.rank == 0 or self.rank >= min(self.k, self._rank_x)

    @property
    def _c(self) -> float:
        """Effective factor c of M_S u_j = c g_j M_T u_j for a linear student."""
        if self.rank == 0:
            return 0.0
        return self.shrinkage if self.student == "shrinkage" else 1.0

    def exact_available(self) -> tuple[bool, str]:
        """(available, reason): whether gen_S and E_D K have closed forms in this setting."""
        if not self.linear_student:
            return False, (f"the rank-{self.rank} student truncates a noisy SVD (not linear in the labels): "
                           "no closed form; estimate it with gaussdistill.simulate(case_study, ...)")
        if self.design == "random" and not (self.teacher_lam == 0 and self.student_lam == 0
                                             and self.n > self.d + 1):
            return False, ("the random design has closed forms only for teacher_lam = student_lam = 0 and "
                           "n > d + 1; estimate it with gaussdistill.simulate(case_study, ...)")
        return True, ""

    def _require_exact(self, what):
        ok, reason = self.exact_available()
        if not ok:
            raise GaussDistillError(f"{what}: {reason}")

    # ---- per-mode ingredients (fixed design) and λ = 0 random-design moments: see case_moments
    _fixed = cached_property(_moments.fixed_modes)
    _random = cached_property(_moments.random_moments)

    # ---- gaps and risks
    @property
    def gen_teacher(self) -> float:
        r"""gen_T = E g(W_T, D). Fixed design: 2ν²k Σ_j h_j / n (docs/mathematics.md §2.5).
        Random design, λ_T = 0: kν²d[(1 + t_T)/(n − d − 1) + (1 − t_T)/n]."""
        if self.design != "fixed" and not (self.teacher_lam == 0 and self.n > self.d + 1):
            raise GaussDistillError("gen_teacher: the random design has a closed form only for teacher_lam = 0 "
                                    "and n > d + 1; estimate it with gaussdistill.simulate(case_study, ...)")
        return _moments.gen_teacher(self)

    @property
    def gen_student(self) -> float:
        r"""gen_S = E g(W_S, D). Fixed design, linear student: 2ν²k c Σ_j g_j h_j / n. Random design
        (λ = 0): ν²kd/n + c²ν²kd/(n−d−1) − (1−c)²ν²kd/n + σ̃kd[1/(n−d−1) − 1/n], with σ̃A⁻¹ the
        student's column covariance given D (soft labels integrated out)."""
        self._require_exact("gen_student")
        return _moments.gen_student(self)

    def risks(self) -> dict:
        r"""Expected population risks E L(W_T), E L(W_S) (and empirical E L_D = E L − gen).

        Fixed design: L(W) = ‖(W − W⋆)X‖²_F/n + kν²; random design: ‖(W − W⋆)Σ_x^{1/2}‖²_F + kν².
        Fixed design: E L(W_T) = kν² + [Σ_j s_j(1 − h_j)²‖a_j‖² + ν²k Σ_j h_j² + k Σ_j s_jσ_T,j]/n and
        E L(W_S) = kν² + [Σ_j (s_j(c g_j h_j − 1)²‖a_j‖² + c²g_j²h_j²ν²k) + k Σ_j s_jσ_S,j]/n
        (σ_S,j the student's marginal column covariance; docs/mathematics.md §2.5).
        """
        self._require_exact("risks")
        rT, rS = _moments.risks(self)
        gT, gS = self.gen_teacher, self.gen_student
        return {"risk_T": rT, "risk_S": rS, "emp_risk_T": rT - gT, "emp_risk_S": rS - gS}

    # ---- divergences
    def expected_divergence(self, kind: str = "predictive", direction: str = "student||teacher") -> float:
        r"""E_D of K^W ("weight"), K^Y ("predictive") or K̄ ("convexity"), in closed form.

        The student's law given D is the one of docs/mathematics.md §4.3: population/shrinkage
        MN(M_S, I_k, Σ_S); sampled (full rank) MN(g M_T, I_k, Σ_S + sampling covariance), the
        soft-label draws integrated out (exact). The covariance parts do not depend on Y; the mean
        parts are E‖(M_S − M_T)u_j‖² = (c g_j − 1)² E‖M_T u_j‖² (see :func:`kl_modes`). +inf for K^W
        when Σ_T or Σ_S is singular. Rank-r students: no closed form (GaussDistillError).
        """
        kind = _choice("kind", kind, KINDS)
        direction = _choice("direction", direction, DIRECTIONS)
        self._require_exact("expected_divergence")
        return _moments.expected_divergence(self, kind, direction)

    def theorem3_terms(self) -> dict:
        r"""Fixed design: κ = 0 (g is affine in W), first-order term E⟨∇g(W_T, D), W_S − W_T⟩ =
        gen_S − gen_T exactly, and ρ² = E‖W_S − W_T‖²_F under the pipeline coupling
        (docs/mathematics.md §4.4)."""
        self._require_exact("theorem3_terms")
        if self.design != "fixed":
            raise GaussDistillError("theorem3_terms: the random design has no closed form for κ(D) and ρ²; "
                                    "use gaussdistill.simulate(case_study, ...)")
        return {"kappa": 0.0, "first_order": self.gen_student - self.gen_teacher, "rho2": _moments.rho2(self)}

    # ---- the teacher-gap CGF (docs/mathematics.md §4.1–4.2; see teacher_gap)
    _gap_form = cached_property(gap_form)
    _psi = cached_property(lambda self: gap_cgf(self, False))
    _psi_y = cached_property(lambda self: gap_cgf(self, True))

    def teacher_gap_cgf(self, lam, predictive: bool = False):
        r"""ψ(λ) = log E exp(λ(g(W_T, D) − gen_T)) (or ψ_Y with ``predictive=True``), exact.

        Fixed design only (docs/mathematics.md §4.1–4.2): a Gaussian quadratic form whose
        eigen-data come from per-mode 2×2 blocks (:mod:`gaussdistill.linear_gaussian.teacher_gap`;
        k copies per mode, the linear part carried by one). +inf outside the domain
        (:meth:`teacher_gap_cgf_domain`). Vectorised over ``lam``.
        """
        cgf = self.teacher_gap_cgf_callable(predictive)
        if lam is None or isinstance(lam, (str, bytes, bool, np.bool_)):
            raise GaussDistillError(f"lam must be a real number or array; got {lam!r}")
        try:
            raw = np.asarray(lam)
            if raw.dtype.kind not in "iuf":
                raise TypeError
            lam_arr = raw.astype(float)
        except (TypeError, ValueError, OverflowError):
            raise GaussDistillError(f"lam must be a real number or array of real numbers; got {lam!r}"[:200]) from None
        if np.isnan(lam_arr).any():
            raise GaussDistillError("lam must not be NaN")
        return cgf(lam_arr)

    def teacher_gap_cgf_callable(self, predictive: bool = False):
        """The callable ψ (or ψ_Y) with a ``domain`` attribute (open interval), for the bound evaluators."""
        if not isinstance(predictive, (bool, np.bool_)):
            raise GaussDistillError(f"predictive must be True or False; got {predictive!r}")
        return self._psi_y if predictive else self._psi

    def teacher_gap_cgf_domain(self, predictive: bool = False) -> tuple:
        return self.teacher_gap_cgf_callable(predictive).domain

    # ---- bounds
    def exact_ingredients(self) -> dict:
        """The exact bound ingredients available in this setting (keys missing where no closed form)."""
        out = {}
        try:
            out["gen_T"] = self.gen_teacher
        except GaussDistillError:
            pass
        ok, _ = self.exact_available()
        if ok:
            out["gen_S"] = self.gen_student
            out.update({f"K_{kd}": self.expected_divergence(kd) for kd in KINDS})
        if self.design == "fixed":
            out["psi"] = self.teacher_gap_cgf_callable(False)
            out["psi_Y"] = self.teacher_gap_cgf_callable(True)
            out["kappa"] = 0.0
            if ok:
                out.update({k: v for k, v in self.theorem3_terms().items() if k != "kappa"})
        return out

    def bounds(self, *, replicates: int = 2000, seed: int | None = 0, etas=()):
        r"""Every bound on gen_S for this setting, from exact ingredients, as a pandas DataFrame.

        Built by :func:`gaussdistill.bounds.bound_table` (one row per bound and divergence: theorem,
        form, divergence, side, value, valid, failed_assumptions, gen_student, slack, holds,
        tighter, ...), plus ``ingredients``: "exact", or "exact+monte carlo" where some ingredient
        has no closed form (rank-r students: E_D K, gen_S, ρ² and the first-order term; random
        design: ψ, κ(D)) and was estimated with :func:`gaussdistill.simulate_pipeline`
        (``replicates``, ``seed``). Divergences: K^W pairs with ψ, K^Y and K̄ with ψ_Y
        (docs/mathematics.md §4.2); a sampled rank-r student's K is the convexity upper bound
        E_Ŷ KL (docs/mathematics.md §4.3), which keeps every bound valid (each is monotone in K).
        Where gen_S itself is estimated, ``gen_student_stderr`` is its standard error and ``holds``
        means slack ≥ −4·stderr (else ``gen_student_stderr`` is 0 and ``holds`` is exact up to rounding).
        """
        exact = self.exact_ingredients()
        need = ("gen_T", "gen_S", "K_weight", "K_predictive", "K_convexity", "psi", "first_order", "rho2", "kappa")
        gS_se = 0.0
        if all(key in exact for key in need):
            values, mixed = exact, False
        else:
            from ..simulation import simulate_pipeline
            sim = simulate_pipeline(self, replicates=replicates, seed=seed)
            values = dict(sim.estimated_ingredients())
            values.update(exact)
            values["estimated"] = set(values["estimated"]) - set(exact)
            mixed = True
            if "gen_S" not in exact:
                gS_se = sim.estimate("gen_S")[1]
        table = bound_table_for(self, values, etas=etas)
        table["ingredients"] = "exact+monte carlo" if mixed else "exact"
        # gen_student is a Monte Carlo estimate where it has no closed form: holds within 4 standard errors
        table["gen_student_stderr"] = gS_se
        if gS_se > 0:
            table["holds"] = ~(table["slack"] < -4.0 * gS_se)
        return table

    def run(self, replicates: int = 1000, seed: int | None = 0):
        """What a sweep records for this setting: a long DataFrame (quantity, value, stderr, exact, ...)
        with the simulation's estimates and one row per bound (from estimated and from exact
        ingredients), see :func:`gaussdistill.simulate_pipeline`."""
        from ..simulation import simulate_pipeline
        return simulate_pipeline(self, replicates=replicates, seed=seed).long_table()


__all__ = ["CaseStudy", "bound_ingredients_for", "bound_table_for", "kl_modes", "SumOfQuadraticForms",
           "STUDENTS", "DESIGNS", "KINDS", "DIRECTIONS", "PROXY_GRID"]
