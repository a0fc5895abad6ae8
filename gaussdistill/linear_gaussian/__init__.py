"""The linear-Gaussian case study: design, kernels, divergences, decomposition, exact bounds."""
from .case_study import CaseStudy  # noqa: E402,F401  (the exact case study for one setting)
