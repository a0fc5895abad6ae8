"""Symbolic engine (sympy) for the aligned linear-Gaussian distillation model."""
from .decomposition import AlignedDecomposition, aligned_decomposition
from .gaps import GapExpressions, generalization_gaps
from .latex import export_latex, paper_latex, PaperLatexPrinter
from ._symbols import model_symbols
from .design import (Optimum, RankChoice, minimize_parameter, optimal_rank, optimal_shrinkage,
                     optimal_soft_noise, optimal_student_ridge, optimal_teacher_ridge, sensitivity)
