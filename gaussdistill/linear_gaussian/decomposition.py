r"""The bias / variance / rank-bottleneck decomposition of a distillation divergence (docs/mathematics.md §2.3).

Every divergence offered is *variance + mean part*, where the mean part is a squared
Frobenius norm of the mean misfit in the divergence's metric G:

.. math::
    \text{mean} = \tfrac12 \|(\tilde M_S - \tilde M_T)\|_F^2,\qquad
    \tilde M = M\,G^{1/2} \text{ (the mean in the metric)}.

It splits into

* **rank bottleneck** :math:`\tfrac12\sum_{i>r}\sigma_i^2(\tilde M_T)`: by Eckart–Young–Mirsky
  the least mean cost any student of rank ≤ r can pay;
* **bias** = mean − rank bottleneck ≥ 0: the student's avoidable misfit. It is computed
  without subtracting the two large numbers: with :math:`[\tilde M_T]_r` the truncated
  SVD and :math:`T_\perp = \tilde M_T - [\tilde M_T]_r`,

  .. math::
      \text{bias} = \tfrac12\|\tilde M_S - [\tilde M_T]_r\|_F^2
      - \langle \tilde M_S - [\tilde M_T]_r, T_\perp\rangle,

  which is exact (expand :math:`\tfrac12\|(\tilde M_S - [\tilde M_T]_r) - T_\perp\|_F^2`) and
  has no cancellation when the student is close to :math:`[\tilde M_T]_r`: the inner product
  is then a product of two small factors (writing it as :math:`\langle\tilde M_S, T_\perp\rangle`
  instead leaves a rounding error of order eps·‖T̃‖², which made the bias negative).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .._numerics.backends import FLOAT64
from .._numerics.psd import numerical_rank
from ..errors import GaussDistillError


@dataclass(frozen=True)
class DivergenceResult:
    r"""A distillation divergence and its exact decomposition (docs/mathematics.md §2.2–2.3).

    Attributes
    ----------
    total : float (or mpmath.mpf when ``precision`` was given)
        The divergence: K^Y (predictive), K̄ (convexity) or K^W (weight); ``inf`` when
        the KL is infinite (see ``reason``).
    bias : avoidable mean misfit, mean part − rank bottleneck (≥ 0).
    variance : covariance part (trace/log-det part; k·tr term for K̄), ≥ 0; it does not
        depend on the means.
    rank : rank-bottleneck cost ½ Σ_{i>r} σ_i²(teacher mean in the metric), ≥ 0.
    kind, direction : which divergence, which argument order.
    rank_used : the r used for the rank bottleneck.
    reason : why the divergence is infinite, else None.
    precision : mpmath digits, or None for float64.

    ``bias + variance + rank == total`` up to rounding.
    """

    total: float
    bias: float
    variance: float
    rank: float
    kind: str
    direction: str
    rank_used: int
    reason: str | None = None
    precision: int | None = None

    @property
    def mean_part(self):
        """bias + rank: the whole mean (Mahalanobis) part of the divergence."""
        return self.bias + self.rank

    @property
    def is_finite(self) -> bool:
        return self.reason is None

    def to_dict(self) -> dict:
        """Plain dict of the fields (numbers stay floats or mpmath numbers)."""
        return asdict(self)

    def __str__(self) -> str:
        width = 10
        rows = [("variance", self.variance), ("bias", self.bias), ("rank", self.rank),
                ("total", self.total)]
        head = f"{self.kind} divergence, {self.direction}, r = {self.rank_used}"
        if self.precision:
            head += f", {self.precision} digits"
        lines = [head]
        for name, value in rows:
            lines.append(f"  {name:<{width}} {_fmt(value)}")
        if self.reason:
            lines.append(f"  infinite: {self.reason}")
        return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    import mpmath

    return mpmath.nstr(value, 15)


def mean_decomposition(student_w, teacher_w, rank, xp=FLOAT64, known_rank=None, raw_rank=None):
    r"""Split the mean part ½‖S̃ − T̃‖² into (rank bottleneck, bias) at rank r.

    Parameters
    ----------
    student_w, teacher_w : (k, m) means already mapped into the divergence's metric.
    rank : int or None. None uses ``known_rank`` (the r a student was built with), else the
        numerical rank of the student's mean. A rank below the student's would make the
        bias negative, so it is refused; the student's rank is the smaller of the numerical
        ranks of ``student_w`` and of the raw mean (``raw_rank``): rounding in the metric
        (on ill-conditioned designs) can lift a singular value of ``student_w`` above the
        threshold, never a real rank.
    known_rank, raw_rank : int or None.

    Returns
    -------
    mean_part, rank_part, bias_part, rank_used
    """
    k, m = teacher_w.shape
    student_sv = xp.svdvals(student_w)
    student_rank = numerical_rank(student_sv, student_w.shape)
    if raw_rank is not None:
        student_rank = min(student_rank, raw_rank)
    if rank is None:
        rank = student_rank if known_rank is None else max(known_rank, student_rank)
    elif rank < student_rank:
        raise GaussDistillError(
            f"rank={rank} is below the rank of the student's mean in this metric ({student_rank}): "
            f"the rank bottleneck would exceed the student's mean cost; pass rank >= {student_rank} or rank=None"
        )
    diff = student_w - teacher_w
    mean_part = _half_sq_norm(diff)
    p = min(k, m)
    if rank >= p:
        return mean_part, 0 * mean_part, mean_part, rank
    left, sv, right = xp.svd(teacher_w)
    top = (left[:, :rank] * sv[None, :rank]) @ right[:rank]
    tail = teacher_w - top
    rank_part = sum((x * 0.5) * x for x in sv[rank:])
    misfit = student_w - top
    bias = _half_sq_norm(misfit) - _inner(misfit, tail)
    # Rounding in T̃ − [T̃]_r is ~eps·‖T̃‖, so the bias is known to ±eps·‖T̃‖·‖S̃ − [T̃]_r‖;
    # e.g. S̃ = T̃ gives −½‖computed tail‖² ≈ −1e-32 instead of 0. The student's singular
    # values below the rank cutoff are float64 rounding noise that the rank rule counts as
    # 0, yet they enter the mean part: they can push the bias below 0 by Σ of their squares
    # (S̃ = T̃ with a 1e-15 σ₂: bias −1e-30). eps is float64's: the inputs are float64.
    eps = FLOAT64.eps
    floor = 8 * eps * float(_half_sq_norm(teacher_w) * 2) ** 0.5 * float(_half_sq_norm(misfit) * 2) ** 0.5
    floor += float(sum(x * x for x in student_sv[rank:]))
    return mean_part, rank_part, _clip_rounding(bias, mean_part, floor), rank


def _half_sq_norm(a):
    return ((a * 0.5) * a).sum() if a.size else 0.0     # halved before the sum (exact)


def _inner(a, b):
    return (a * b).sum() if a.size else 0.0


def _clip_rounding(bias, scale, floor=0.0):
    """Clip a bias that is negative only by rounding (1e-8 of the mean part, or ``floor``) to 0."""
    if bias < 0 and abs(float(bias)) <= max(1e-8 * float(scale), floor, 1e-300):
        return 0 * abs(bias)   # +0.0, not -0.0
    return bias


__all__ = ["DivergenceResult", "mean_decomposition"]
