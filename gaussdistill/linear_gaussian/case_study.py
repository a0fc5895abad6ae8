r"""One setting of the linear-Gaussian case study, exactly: gaps, E_D K_n, the teacher-gap CGF, bounds.

Model (docs/mathematics.md §2.1): X (d×n) fixed, Y = W⋆X + νE; teacher
q_T = MN(M_T, I_k, Σ_T), M_T = Y Xᵀ A_T⁻¹, Σ_T = t_T ν² A_T⁻¹, A_T = X Xᵀ + λ_T I; soft labels
MN(M_T X, I_k, τ² I + Xᵀ Σ_T X); student M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2}, Σ_S = t_S τ² A_S⁻¹.

Everything is computed in the eigenbasis X Xᵀ = U diag(s) Uᵀ and splits over the k output
rows; nothing of size n×n or (kd)² is formed. With h_j = s_j/(s_j+λ_T), g_j = s_j/(s_j+λ_S),
a_j = W⋆u_j and G_j = E Xᵀu_j/√s_j ~ N(0, I_k) (independent over j):

* M_T u_j = (s_j a_j + ν √s_j G_j)/(s_j + λ_T), so E‖M_T u_j‖² = (s_j²‖a_j‖² + ν² k s_j)/(s_j+λ_T)².
* A *linear* student (full rank or r = 0; population, shrinkage c, or sampled) has
  M_S u_j = c g_j M_T u_j (c = 0 for r = 0, c = 1 unless "shrinkage"): it is linear in E, so
  gen_S = 2ν²k c Σ_j g_j h_j / n and E‖(M_S − M_T)u_j‖² = (c g_j − 1)² E‖M_T u_j‖² exactly.
  A rank-r student (0 < r < rank) truncates a noisy SVD: not linear in E, no closed form
  (estimate with :func:`gaussdistill.simulate`).
* Column covariances are diagonal in U: σ_T,j = t_T ν²/(s_j+λ_T), σ_S,j = t_S τ²/(s_j+λ_S),
  plus, for the sampled student (mean Ȳ of m soft-label draws, soft labels integrated out,
  docs/mathematics.md §4.3), g_j² σ_T,j + τ² s_j/(m (s_j+λ_S)²) when the m draws share one
  teacher draw (the pipeline D → W_T → Ŷ → W_S, the default) or g_j² σ_T,j/m + τ² s_j/(m (s_j+λ_S)²)
  when each draw has its own teacher draw (``shared_teacher_draw=False``).

The teacher gap g(W_T, D) = [ν²(kn − ‖E‖²) + 2ν⟨E, (W_T − W⋆)X⟩]/n is a Gaussian quadratic
form in (E, Ξ) (docs/mathematics.md §4.1): per mode and output row the 2×2 block
(ν²/n)[[2h_j − 1, √(t_T h_j)], [√(t_T h_j), 0]] with linear part −(2ν/n)(1 − h_j)√s_j a_ij on G_ij,
and k(n − ρ) coordinates of E outside the row space of X with eigenvalue −ν²/n (ρ = rank X).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._numerics.special import u_minus_log1p
from ..errors import GaussDistillError

STUDENTS = ("population", "sampled", "shrinkage")
DESIGNS = ("fixed", "random")
KINDS = ("weight", "predictive", "convexity")
#: λ-grid size of the sub-Gaussian proxy fitted to ψ on half its domain (then refined by H3's maximiser).
PROXY_GRID = 100
DIRECTIONS = ("student||teacher", "teacher||student")


# ----------------------------------------------------------------------------- validation
def _real(name, value, *, positive=False, nonnegative=False):
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise GaussDistillError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise GaussDistillError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise GaussDistillError(f"{name} must be > 0; got {value}")
    if nonnegative and value < 0:
        raise GaussDistillError(f"{name} must be >= 0; got {value}")
    return value


def _int(name, value, lo, hi=None):
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
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


# ----------------------------------------------------------------------------- per-mode KL
def kl_modes(s, sig_s, sig_t, mean2, k, tau, kind, direction="student||teacher"):
    r"""E_D-ready KL of two case-study laws that share the eigenbasis U of X Xᵀ (batched).

    Arrays broadcast over leading axes; the last axis runs over the d modes. ``sig_s``,
    ``sig_t``: column-covariance eigenvalues σ_S,j, σ_T,j; ``mean2``: ‖(M_S − M_T)u_j‖² (or
    its expectation: every formula is linear in it). With φ(u) = u − ln(1+u)
    (docs/mathematics.md §2.2):

    * weight:     K^W = (k/2) Σ_j φ(σ_S/σ_T − 1) + ½ Σ_j mean2_j/σ_T,j   (+inf if Σ_T is singular)
    * predictive: K^Y = (k/2) Σ_{s_j>0} φ(s_j(σ_S − σ_T)/(τ² + s_jσ_T)) + ½ Σ_j s_j mean2_j/(τ² + s_jσ_T)
    * convexity:  K̄ = [Σ_j s_j mean2_j + k Σ_j s_j(σ_S + σ_T)]/(2τ²)

    ``direction="teacher||student"`` swaps σ_S and σ_T (K̄ is symmetric).
    """
    s, sig_s, sig_t, mean2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (s, sig_s, sig_t, mean2)))
    if direction == "teacher||student" and kind != "convexity":
        sig_s, sig_t = sig_t, sig_s
    if kind == "convexity":
        return (np.sum(s * mean2, -1) + k * np.sum(s * (sig_s + sig_t), -1)) / (2.0 * tau**2)
    if kind == "weight":
        bad = np.any(sig_t <= 0, -1) | np.any(sig_s <= 0, -1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            safe_t = np.where(sig_t > 0, sig_t, 1.0)
            ratio = np.where(sig_t > 0, sig_s / safe_t, 1.0)
            cov = 0.5 * k * np.sum(u_minus_log1p(ratio - 1.0, ratio), -1)
            mean = 0.5 * np.sum(mean2 / safe_t, -1)
        return np.where(bad, np.inf, cov + mean)
    den = tau**2 + s * sig_t
    u = s * (sig_s - sig_t) / den
    cov = 0.5 * k * np.sum(u_minus_log1p(u, (tau**2 + s * sig_s) / den), -1)
    return cov + 0.5 * np.sum(s * mean2 / den, -1)


def _block_eigs(P, Qo):
    r"""Eigenvalues α± of [[P, Qo], [Qo, 0]] and the shares w± of a vector (1, 0) on them."""
    r = np.hypot(P, 2.0 * Qo)
    big = np.where(P >= 0, (P + r) / 2.0, (P - r) / 2.0)          # the larger-|·| root, no cancellation
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.where(big != 0, -Qo * Qo / np.where(big != 0, big, 1.0), 0.0)
        share_big = np.where(r > 0, 0.5 * (1.0 + np.abs(P) / np.where(r > 0, r, 1.0)), 1.0)
    return big, small, share_big, 1.0 - share_big


@dataclass(frozen=True, eq=False)
class SumOfQuadraticForms:
    r"""ψ(λ) = Σ_i w_i ψ_i(λ): a sum of w_i independent copies of centred Gaussian quadratic forms.

    ``parts`` is a tuple of (:class:`gaussdistill.bounds.QuadraticFormCGF`, integer weight);
    the domain is the intersection of the parts' domains. Lets an eigenvalue of multiplicity
    k(n − ρ) cost O(1) instead of O(kn).
    """

    parts: tuple

    @property
    def domain(self):
        lo = max(f.domain[0] for f, _ in self.parts)
        hi = min(f.domain[1] for f, _ in self.parts)
        return (lo, hi)

    def __call__(self, lam):
        lam_arr = np.asarray(lam, dtype=float)
        total = sum(w * np.asarray(f(lam_arr), dtype=float) for f, w in self.parts if w)
        return float(total) if lam_arr.ndim == 0 else np.asarray(total, dtype=float)

    @property
    def variance(self):
        return float(sum(w * f.variance for f, w in self.parts))


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
        set_("noise", _real("noise", self.noise, positive=True))
        set_("soft_noise", self.noise if self.soft_noise is None
             else _real("soft_noise", self.soft_noise, positive=True))
        for name in ("teacher_lam", "student_lam", "teacher_temperature", "student_temperature"):
            set_(name, _real(name, getattr(self, name), nonnegative=True))
        k = W.shape[0]
        if self.rank is not None:
            set_("rank", _int("rank", self.rank, 0, min(k, d)))
        set_("student", _choice("student", self.student, STUDENTS))
        set_("draws", _int("draws", self.draws, 1))
        set_("shrinkage", _real("shrinkage", self.shrinkage))
        set_("design", _choice("design", self.design, DESIGNS))
        if not isinstance(self.shared_teacher_draw, (bool, np.bool_)):
            raise GaussDistillError(f"shared_teacher_draw must be True or False; got {self.shared_teacher_draw!r}")
        cov = np.eye(d) if self.design_cov is None else _matrix("design_cov", self.design_cov, (d, d))
        if self.design == "random":
            if np.max(np.abs(cov - cov.T)) > 1e-10 * np.max(np.abs(cov)):
                raise GaussDistillError("design_cov must be symmetric")
            if np.linalg.eigvalsh(cov)[0] <= 0:
                raise GaussDistillError("design_cov must be positive definite")
        set_("design_cov", cov)
        rank_x = d if self.design == "random" and n >= d else (n if self.design == "random" else self._modes[2])
        if self.teacher_lam == 0 and rank_x < d:
            raise GaussDistillError(f"teacher_lam=0 but X X^T is singular (rank {rank_x} < d = {d}, e.g. n < d); "
                                    "pass teacher_lam > 0")
        if self.student_lam == 0 and self.student_temperature > 0 and rank_x < d:
            raise GaussDistillError(f"student_temperature > 0 with student_lam=0 needs X X^T invertible (rank "
                                    f"{rank_x} < d = {d}); pass student_lam > 0 or student_temperature=0")
        object.__setattr__(self, "_rank_x", rank_x)

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
        X = self.X
        s, U = np.linalg.eigh(X @ X.T)
        s = np.where(s > max(X.shape) * np.finfo(float).eps * max(s[-1], 0.0), s, 0.0)
        wsq = np.sum((self.W_star @ U) ** 2, axis=0)
        return s, U, int(np.count_nonzero(s)), wsq

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

    # ---- per-mode ingredients (fixed design)
    @cached_property
    def _fixed(self) -> dict:
        s, U, rho, wsq = self._modes
        k, n = self.k, self.n
        nu2, tau2 = self.noise**2, self.soft_noise**2
        lT, lS, tT, tS, m = self.teacher_lam, self.student_lam, self.teacher_temperature, \
            self.student_temperature, self.draws
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(s > 0, s / (s + lT), 0.0)
            g = np.where(s > 0, s / np.where(s + lS > 0, s + lS, 1.0), 0.0)
            sig_t = tT * nu2 / (s + lT) if tT > 0 else np.zeros_like(s)
            sig_s = tS * tau2 / (s + lS) if tS > 0 else np.zeros_like(s)
            sampling = np.where(s > 0, tau2 * s / (m * np.where(s + lS > 0, s + lS, 1.0) ** 2), 0.0)
            Em = np.where(s > 0, (s * s * wsq + nu2 * k * s) / (s + lT) ** 2, 0.0)
        c = self._c
        sig_s_marg = sig_s.copy()
        if self.student == "sampled" and c != 0:
            sig_s_marg = sig_s + g * g * sig_t / (1 if self.shared_teacher_draw else m) + sampling
        mean2 = (c * g - 1.0) ** 2 * Em
        return dict(s=s, U=U, rho=rho, wsq=wsq, h=h, g=g, sig_t=sig_t, sig_s=sig_s, sig_s_marg=sig_s_marg,
                    sampling=sampling, Em=Em, mean2=mean2, c=c, nu2=nu2, tau2=tau2, k=k, n=n)

    @cached_property
    def _random(self) -> dict:
        """λ = 0 random design: everything is a multiple of A⁻¹; E tr(Σ_x A⁻¹) = d/(n − d − 1)."""
        k, d, n = self.k, self.d, self.n
        nu2, tau2, tT, tS, m = self.noise**2, self.soft_noise**2, self.teacher_temperature, \
            self.student_temperature, self.draws
        c = self._c
        sw = float(np.trace(self.W_star @ self.design_cov @ self.W_star.T))
        sig_t = tT * nu2
        sig_s = tS * tau2
        if self.student == "sampled" and c != 0:
            sig_s = sig_s + (tT * nu2 + tau2) / m if not self.shared_teacher_draw else sig_s + tT * nu2 + tau2 / m
        inv_w = d / (n - d - 1)            # E tr(Σ_x A⁻¹)
        return dict(c=c, sw=sw, sig_t=sig_t, sig_s=sig_s, inv_w=inv_w, Em=n * sw + nu2 * k * d, nu2=nu2,
                    tau2=tau2, k=k, d=d, n=n)

    # ---- gaps and risks
    @property
    def gen_teacher(self) -> float:
        r"""gen_T = E g(W_T, D). Fixed design: 2ν²k Σ_j h_j / n (docs/mathematics.md §2.5).
        Random design, λ_T = 0: kν²d[(1 + t_T)/(n − d − 1) + (1 − t_T)/n]."""
        if self.design == "fixed":
            f = self._fixed
            return float(2.0 * f["nu2"] * f["k"] * np.sum(f["h"]) / f["n"])
        if not (self.teacher_lam == 0 and self.n > self.d + 1):
            raise GaussDistillError("gen_teacher: the random design has a closed form only for teacher_lam = 0 "
                                    "and n > d + 1; estimate it with gaussdistill.simulate(case_study, ...)")
        r = self._random
        tT = self.teacher_temperature
        return float(r["k"] * r["nu2"] * r["d"] * ((1 + tT) / (r["n"] - r["d"] - 1) + (1 - tT) / r["n"]))

    @property
    def gen_student(self) -> float:
        r"""gen_S = E g(W_S, D). Fixed design, linear student: 2ν²k c Σ_j g_j h_j / n. Random design
        (λ = 0): ν²kd/n + c²ν²kd/(n−d−1) − (1−c)²ν²kd/n + σ̃kd[1/(n−d−1) − 1/n], with σ̃A⁻¹ the
        student's column covariance given D (soft labels integrated out)."""
        self._require_exact("gen_student")
        if self.design == "fixed":
            f = self._fixed
            return float(2.0 * f["nu2"] * f["k"] * f["c"] * np.sum(f["g"] * f["h"]) / f["n"])
        r = self._random
        kd, n, c, nu2 = r["k"] * r["d"], r["n"], r["c"], r["nu2"]
        return float(nu2 * kd / n + c * c * nu2 * kd / (n - r["d"] - 1) - (1 - c) ** 2 * nu2 * kd / n
                     + r["sig_s"] * kd * (1 / (n - r["d"] - 1) - 1 / n))

    def risks(self) -> dict:
        r"""Expected population risks E L(W_T), E L(W_S) (and empirical E L_D = E L − gen).

        Fixed design: L(W) = ‖(W − W⋆)X‖²_F/n + kν²; random design: ‖(W − W⋆)Σ_x^{1/2}‖²_F + kν².
        """
        self._require_exact("risks")
        if self.design == "fixed":
            f = self._fixed
            s, h, g, c, k, n, nu2 = f["s"], f["h"], f["g"], f["c"], f["k"], f["n"], f["nu2"]
            rT = (np.sum(s * (1 - h) ** 2 * f["wsq"]) + nu2 * k * np.sum(h * h) + k * np.sum(s * f["sig_t"])) / n
            rS = (np.sum(s * (c * g * h - 1) ** 2 * f["wsq"] + c * c * g * g * h * h * nu2 * k)
                  + k * np.sum(s * f["sig_s_marg"])) / n
            rT, rS = float(rT + k * nu2), float(rS + k * nu2)
        else:
            r = self._random
            k, kd, c, nu2, w = r["k"], r["k"] * r["d"], r["c"], r["nu2"], 1.0 / (r["n"] - r["d"] - 1)
            rT = float(k * nu2 + nu2 * kd * w + r["sig_t"] * kd * w)
            rS = float(k * nu2 + (c - 1) ** 2 * r["sw"] + c * c * nu2 * kd * w + r["sig_s"] * kd * w)
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
        if self.design == "fixed":
            f = self._fixed
            return float(kl_modes(f["s"], f["sig_s_marg"], f["sig_t"], f["mean2"], f["k"], self.soft_noise,
                                  kind, direction))
        r = self._random
        d = r["d"]
        # A⁻¹ = U diag(1/s) Uᵀ: σ_•,j = σ̃_•/s_j, s_j·mean2_j summed is (c − 1)² E‖M_T X‖².
        # Use one unit mode per dimension with s_j = 1 after rescaling: every formula in
        # kl_modes depends on (s_j σ_•,j, s_j mean2_j) only, except the weight mean part, which
        # is Σ mean2_j (s_j + λ)/σ̃ = (c−1)² E‖M_T X‖²/σ̃ (λ = 0) as well.
        ones = np.ones(d)
        mean2 = (r["c"] - 1) ** 2 * r["Em"] / d * ones
        return float(kl_modes(ones, r["sig_s"] * ones, r["sig_t"] * ones, mean2, r["k"], self.soft_noise,
                              kind, direction))

    def theorem3_terms(self) -> dict:
        r"""Fixed design: κ = 0 (g is affine in W), first-order term E⟨∇g(W_T, D), W_S − W_T⟩ =
        gen_S − gen_T exactly, and ρ² = E‖W_S − W_T‖²_F under the pipeline coupling."""
        self._require_exact("theorem3_terms")
        if self.design != "fixed":
            raise GaussDistillError("theorem3_terms: the random design has no closed form for κ(D) and ρ²; "
                                    "use gaussdistill.simulate(case_study, ...)")
        f = self._fixed
        k, c, g = f["k"], f["c"], f["g"]
        if self.student == "sampled" and c != 0:
            teacher_share = f["sig_t"] * (g - 1) ** 2 if self.shared_teacher_draw \
                else f["sig_t"] * (1 + g * g / self.draws)
            rho2 = np.sum((g - 1) ** 2 * f["Em"] + k * teacher_share + k * f["sampling"] + k * f["sig_s"])
        else:
            rho2 = np.sum(f["mean2"] + k * (f["sig_s"] + f["sig_t"]))
        return {"kappa": 0.0, "first_order": self.gen_student - self.gen_teacher, "rho2": float(rho2)}

    # ---- the teacher-gap CGF
    @cached_property
    def _gap_form(self):
        if self.design != "fixed":
            raise GaussDistillError("teacher_gap_cgf: in the random design the teacher gap is not a Gaussian "
                                    "quadratic form (X is random); use gaussdistill.simulate for its empirical CGF")
        f = self._fixed
        pos = f["s"] > 0
        h, s, wsq = f["h"][pos], f["s"][pos], f["wsq"][pos]
        nu2, n = f["nu2"], f["n"]
        p = nu2 * (2 * h - 1) / n
        q = nu2 * np.sqrt(self.teacher_temperature * h) / n
        b2 = (2.0 / n) ** 2 * nu2 * (1 - h) ** 2 * s * wsq
        return p, q, b2, f["k"] * (n - f["rho"])

    def _gap_cgf(self, predictive: bool) -> SumOfQuadraticForms:
        r"""ψ or ψ_Y as a sum of independent Gaussian quadratic forms (docs/mathematics.md §4.1–4.2).

        ψ_Y is the CGF of h = g(W_T, D) + τ⟨B, E′⟩ with B = 2νE/n and E′ the soft-label channel
        noise (integrating E′ out gives the extra 2λ²τ²ν²‖E‖²/n² of §4.2). Per mode and row the
        coupling of G_ij to (ξ_ij, G′_ij) is (ν²√(t_T h_j)/n, ντ/n); rotating that plane leaves the
        2×2 block [[p_j, q̃_j], [q̃_j, 0]] with q̃_j² = q_j² + τ²ν²/n² (and a zero eigenvalue), and
        outside the row space of X the block (1/n)[[−ν², ντ], [ντ, 0]]. So ψ_Y is ψ with q_j²
        raised by τ²ν²/n² and the complement coupled to E′.
        """
        from ..bounds import QuadraticFormCGF
        p, q, b2, n_out = self._gap_form
        n, nu, tau = self.n, self.noise, self.soft_noise
        if predictive:
            q = np.sqrt(q * q + (tau * nu / n) ** 2)
        big, small, wb, ws = _block_eigs(p, q)
        alpha = np.concatenate([big, small])
        beta = np.sqrt(np.concatenate([wb, ws]) * np.concatenate([b2, b2]))
        parts = [(QuadraticFormCGF(alpha, beta), 1), (QuadraticFormCGF(alpha, np.zeros_like(alpha)), self.k - 1)]
        if n_out:
            if predictive:
                cb, cs_, _, _ = _block_eigs(np.array([-nu**2 / n]), np.array([nu * tau / n]))
                comp = QuadraticFormCGF(np.concatenate([cb, cs_]), [0.0, 0.0])
            else:
                comp = QuadraticFormCGF([-nu**2 / n], [0.0])
            parts.append((comp, n_out))
        return SumOfQuadraticForms(tuple(parts))

    @cached_property
    def _psi(self) -> SumOfQuadraticForms:
        return self._gap_cgf(False)

    @cached_property
    def _psi_y(self) -> SumOfQuadraticForms:
        return self._gap_cgf(True)

    def teacher_gap_cgf(self, lam, predictive: bool = False):
        r"""ψ(λ) = log E exp(λ(g(W_T, D) − gen_T)) (or ψ_Y with ``predictive=True``), exact.

        Fixed design only (docs/mathematics.md §4.1–4.2): a Gaussian quadratic form whose
        eigen-data come from the 2×2 blocks of the module docstring (k copies per mode, the linear
        part carried by one). +inf outside the domain (:meth:`teacher_gap_cgf_domain`).
        Vectorised over ``lam``.
        """
        cgf = self.teacher_gap_cgf_callable(predictive)
        if isinstance(lam, (str, bytes, bool)):
            raise GaussDistillError(f"lam must be a real number or array; got {lam!r}")
        try:
            lam_arr = np.asarray(lam, dtype=float)
        except (TypeError, ValueError):
            raise GaussDistillError(f"lam must be a real number or array; got {lam!r}") from None
        if np.isnan(lam_arr).any():
            raise GaussDistillError("lam must not be NaN")
        return cgf(lam_arr)

    def teacher_gap_cgf_callable(self, predictive: bool = False):
        """The callable ψ (or ψ_Y) with a ``domain`` attribute (open interval), for the bound evaluators."""
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
        """
        exact = self.exact_ingredients()
        need = ("gen_T", "gen_S", "K_weight", "K_predictive", "K_convexity", "psi", "first_order", "rho2", "kappa")
        if all(key in exact for key in need):
            values, mixed = exact, False
        else:
            from ..simulate import simulate_pipeline
            sim = simulate_pipeline(self, replicates=replicates, seed=seed)
            values = dict(sim.estimated_ingredients())
            values.update(exact)
            mixed = True
        table = bound_table_for(self, values, etas=etas)
        table["ingredients"] = "exact+monte carlo" if mixed else "exact"
        return table

    def run(self, replicates: int = 1000, seed: int | None = 0):
        """What a sweep records for this setting: a long DataFrame (quantity, value, stderr, exact, ...)
        with the simulation's estimates and one row per bound (from estimated and from exact
        ingredients), see :func:`gaussdistill.simulate_pipeline`."""
        from ..simulate import simulate_pipeline
        return simulate_pipeline(self, replicates=replicates, seed=seed).long_table()


def bound_ingredients_for(cs: CaseStudy, values: dict, etas=()):
    """:class:`gaussdistill.bounds.BoundIngredients` from a dict of values (exact or estimated).

    ``values`` keys: gen_T, K_weight, K_predictive, K_convexity, psi, psi_Y (optional), kappa,
    rho2, first_order, and ``estimated`` (a set of the keys that are Monte Carlo estimates).
    """
    from ..bounds import Assumption, BoundIngredients, subgaussian_proxy
    est = set(values.get("estimated", ()))
    psi, psi_y = values.get("psi"), values.get("psi_Y")
    divs = {kd: values[f"K_{kd}"] for kd in KINDS if f"K_{kd}" in values}
    assumptions = []
    if "psi" in est:
        assumptions.append(Assumption("cgf_exact", "assumed",
                                      "ψ is the empirical CGF of the simulated teacher gaps (a Monte Carlo estimate, "
                                      "trusted only where the exponential weights keep an effective sample size)"))
    if cs.design == "random" and psi_y is None:
        psi_y = psi               # the predictive form is not proved here: the rows are kept, marked violated
        assumptions_pred = Assumption("predictive_form", "violated",
                                      "random design: g(W, D) is not a function of the predictions W X on the "
                                      "training inputs, so the predictive form of Theorem 1 does not apply")
    else:
        assumptions_pred = None
    sharp = []
    if cs.design == "fixed":
        sharp.append(Assumption("hessian_bound", "checked", "fixed design: g(·, D) is affine in W, κ = 0"))
    elif "kappa" in values:
        sharp.append(Assumption("hessian_bound", "checked",
                                "random design: ‖∇²g(·, D)‖_op = κ(D) = 2‖Σ_x − XXᵀ/n‖_op per data set; κ given is "
                                "E[κ(D)‖W_S − W_T‖²]/E‖W_S − W_T‖², so κρ²/2 = E[κ(D)‖W_S − W_T‖²]/2"))

    def proxy(f):
        if f is None:
            return None
        lo, hi = f.domain
        return subgaussian_proxy(f, (max(lo / 2, -1e6), min(hi / 2, 1e6)), grid=PROXY_GRID)

    upper = {kd: True for kd in divs} if (cs.student == "sampled" and not cs.linear_student) else {}
    ing = BoundIngredients(
        gen_teacher=values["gen_T"], divergences=divs, cgf=psi, cgf_predictive=psi_y,
        sigma2=proxy(psi), sigma2_predictive=proxy(psi_y),
        kappa=values.get("kappa"), rho2=values.get("rho2"), first_order=values.get("first_order"),
        divergence_is_upper_bound=upper,
        divergence_is_estimate={kd: True for kd in divs if f"K_{kd}" in est},
        etas=tuple(etas), assumptions=tuple(assumptions), sharpness_assumptions=tuple(sharp))
    return ing, assumptions_pred


def bound_table_for(cs: CaseStudy, values: dict, gen_student=None, etas=()):
    """:func:`gaussdistill.bounds.bound_table` for this setting (see :func:`bound_ingredients_for`)."""
    from ..bounds import bound_table
    ing, pred_violation = bound_ingredients_for(cs, values, etas)
    gS = values.get("gen_S") if gen_student is None else gen_student
    table = bound_table(ing, gen_student=gS)
    if pred_violation is not None and len(table):
        rows = table["divergence"].isin(["predictive", "convexity"]) & (table["form"] != "sharpness")
        table.loc[rows, "valid"] = False
        table.loc[rows, "failed_assumptions"] = table.loc[rows, "failed_assumptions"].map(
            lambda s: "predictive_form" + (", " + s if s else ""))
        table.loc[rows, "assumptions"] = table.loc[rows, "assumptions"].str.replace(
            "predictive_form:assumed", "predictive_form:violated")
    return table


__all__ = ["CaseStudy", "bound_ingredients_for", "bound_table_for", "kl_modes", "SumOfQuadraticForms",
           "STUDENTS", "DESIGNS", "KINDS", "DIRECTIONS"]
