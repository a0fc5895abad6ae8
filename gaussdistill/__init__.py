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
    divergence, DivergenceResult, from_samples_as_rows (data with samples as rows),
    symbolic (lazy: imports sympy on first use)
"""
from __future__ import annotations

from .errors import ConditioningWarning, GaussDistillError, GaussDistillWarning
from .gaussian import KLValue, MatrixNormal, kl_matrix_normal
from .linear_gaussian import examples
from .linear_gaussian.decomposition import DivergenceResult
from .linear_gaussian.divergence import divergence
from .linear_gaussian.examples import example_problem
from .linear_gaussian.kernels import from_samples_as_rows, rank_student, ridge_teacher, soft_labels
from .vocabulary import DIRECTIONS, KINDS

__version__ = "0.1.0"

__all__ = [
    "MatrixNormal", "kl_matrix_normal", "ridge_teacher", "soft_labels", "rank_student",
    "divergence", "DivergenceResult", "KLValue", "KINDS", "DIRECTIONS", "example_problem",
    "from_samples_as_rows",
    "GaussDistillError", "GaussDistillWarning", "ConditioningWarning", "symbolic",
    "CaseStudy", "simulate", "simulate_pipeline", "sweep", "estimate_kl", "bounds",
    "LogisticSetting", "report", "plotting",
]

# Heavy or optional parts are imported on first use (sympy, pandas, matplotlib, dask):
# ``import gaussdistill`` stays light. name -> (module, attribute or None for the module).
_LAZY = {
    "symbolic": (".symbolic", None),
    "bounds": (".bounds", None),
    "report": (".report", None),
    "plotting": (".report.plots", None),
    "CaseStudy": (".linear_gaussian.case_study", "CaseStudy"),
    "simulate": (".simulation", "simulate"),
    "simulate_pipeline": (".simulation", "simulate_pipeline"),
    "sweep": (".simulation.sweep", "sweep"),
    "estimate_kl": (".estimators", "estimate_kl"),
    "LogisticSetting": (".logistic", "LogisticSetting"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        module = importlib.import_module(module_name, __name__)
        value = module if attribute is None else getattr(module, attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaussdistill' has no attribute {name!r}")
