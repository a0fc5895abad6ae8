"""The linear-Gaussian case study: design, kernels, divergences, decomposition, exact bounds."""
from .case_study import CaseStudy  # (the exact case study for one setting)
from .decomposition import DivergenceResult
from .divergence import divergence
from .examples import example_problem
from .kernels import from_samples_as_rows, rank_student, ridge_teacher, soft_labels
