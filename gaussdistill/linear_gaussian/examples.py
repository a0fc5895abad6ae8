"""Built-in example problems (reproducible from a seed)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_generator, as_rank, as_scalar, read_only, restore_frozen
from ..errors import GaussDistillError
from .kernels import StudentKernel, TeacherKernel, rank_student, ridge_teacher


@dataclass(frozen=True)
class ExampleProblem:
    """A teacher/student pair on a synthetic design, with everything that made it."""

    X: np.ndarray
    Y: np.ndarray
    w_star: np.ndarray
    teacher: TeacherKernel
    student: StudentKernel
    noise: float
    soft_noise: float

    def __setstate__(self, state):
        """Unpickling (and deepcopy): arrays read-only again."""
        restore_frozen(self, state)


def _check_sizes(k, d, n) -> None:
    for name, value in (("k", k), ("d", d), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise GaussDistillError(f"{name} must be a positive integer; got {value!r}")


def example_data(k, d, n, noise, seed):
    r"""(X, Y, W⋆) of the example: W⋆ = L diag(1/j) Rᵀ with random orthonormal L, R;
    X with i.i.d. N(0, 1) entries; Y = W⋆X + νE."""
    _check_sizes(k, d, n)
    noise = as_scalar("noise", noise, positive=True)
    rng = as_generator(seed, "seed")
    p = min(k, d)
    left = np.linalg.qr(rng.standard_normal((k, p)))[0]
    right = np.linalg.qr(rng.standard_normal((d, p)))[0]
    w_star = (left * (1.0 / np.arange(1, p + 1))) @ right.T
    X = rng.standard_normal((d, n))
    with np.errstate(over="ignore", invalid="ignore"):
        Y = w_star @ X + noise * rng.standard_normal((k, n))
    if not np.all(np.isfinite(Y)):
        raise GaussDistillError(f"noise = {noise:.3g} makes the labels Y = W⋆X + noise·E overflow float64; "
                                f"pass a smaller noise")
    return X, Y, w_star


def example_problem(k=6, d=8, n=200, rank=2, noise=0.5, soft_noise=None, teacher_lam=1.0,
                    student_lam=0.5, teacher_temperature=1.0, student_temperature=1.0,
                    seed=0) -> ExampleProblem:
    r"""A decaying-spectrum linear-Gaussian problem: W⋆ with singular values 1/j, X with
    i.i.d. N(0, 1) entries, Y = W⋆X + νE, a ridge teacher and a rank-r ridge student
    trained on the population soft labels.
    """
    _check_sizes(k, d, n)
    rank = as_rank("rank", rank, min(k, d))
    noise = as_scalar("noise", noise, positive=True)
    soft_noise = noise if soft_noise is None else as_scalar("soft_noise", soft_noise, positive=True)
    try:
        X, Y, w_star = example_data(k, d, n, noise, seed)
    except GaussDistillError:
        raise
    except (MemoryError, ValueError):   # numpy: "Maximum allowed dimension exceeded"
        raise GaussDistillError(f"k={k}, d={d}, n={n}: the example's arrays do not fit in memory; "
                                f"pass smaller sizes") from None
    teacher = ridge_teacher(X, Y, teacher_lam, noise, teacher_temperature)
    student = rank_student(teacher, X, rank, lam=student_lam, soft_noise=soft_noise,
                           temperature=student_temperature)
    return ExampleProblem(read_only(X), read_only(Y), read_only(w_star), teacher, student, noise, soft_noise)
