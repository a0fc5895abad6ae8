r"""gaussdistill — a symbolic and analytic calculator for knowledge distillation.

The linear-Gaussian teacher/student model of Li & He, "On the Generalization of
Knowledge Distillation: An Information-Theoretic View" (ISIT 2026, arXiv:2605.13143):
labels :math:`Y \mid X \sim \mathcal{MN}(W_\star X, I_k, \nu^2 I_n)`, a ridge/Gibbs teacher
:math:`q_T = \mathcal{MN}(M_T, I_k, \Sigma_T)`, soft labels
:math:`\mathcal{MN}(M_T X, I_k, \tau^2 I_n + X^T\Sigma_T X)` and a reduced-rank ridge
student :math:`q_S = \mathcal{MN}(M_S, I_k, \Sigma_S)`. The *distillation divergence*
(a KL between the student's and the teacher's kernels) splits exactly into bias,
variance and rank-bottleneck costs.

Public API::

    MatrixNormal, kl_matrix_normal, ridge_teacher, soft_labels, rank_student,
    divergence, DivergenceResult, symbolic (lazy: imports sympy on first use)
"""
from __future__ import annotations

from .decomposition import DivergenceResult
from .divergences import DIRECTIONS, KINDS, KLValue, divergence, kl_matrix_normal
from .errors import ConditioningWarning, GaussDistillError, GaussDistillWarning
from . import examples
from .examples import example_problem
from .kernels import MatrixNormal, rank_student, ridge_teacher, soft_labels

__version__ = "0.1.0"

__all__ = [
    "MatrixNormal", "kl_matrix_normal", "ridge_teacher", "soft_labels", "rank_student",
    "divergence", "DivergenceResult", "KLValue", "KINDS", "DIRECTIONS", "example_problem",
    "GaussDistillError", "GaussDistillWarning", "ConditioningWarning", "symbolic",
]


def __getattr__(name):
    # sympy is heavy: import the symbolic engine only when it is first used.
    if name == "symbolic":
        import importlib

        module = importlib.import_module(".symbolic", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'gaussdistill' has no attribute {name!r}")
