r"""Symbolic engine (sympy) for the aligned linear-Gaussian distillation model.

The engine *derives* the closed forms of docs/MATH.md 2.3-2.5 in the aligned spectral
model ``X Xᵀ = V diag(s) Vᵀ``, ``W⋆ = U diag(w) Vᵀ`` (k >= d), starting from the matrix
definitions of MATH 2.1-2.2 and reducing each to one scalar per mode in the shared
eigenbasis (:mod:`._spectral`); it never uses sympy's matrix calculus, which is silently
wrong for log-determinants (docs/REFERENCES.md 2.1).  Importing :mod:`gaussdistill` does
not import sympy; ``gaussdistill.symbolic`` does, on first access.

Public API
----------
aligned_decomposition(kind, direction, expectation, student, *, d, rank)
    -> AlignedDecomposition with sympy ``total, bias, variance, rank``, ``symbols``,
    ``evaluate(**values)``, ``lambdify("numpy" | "mpmath")``, ``latex()``, ``diff(name)``,
    ``derivation()``, ``assumptions``.
generalization_gaps(d, rank, student)
    -> GapExpressions with ``gen_T, gen_S, risk_T, risk_S`` (MATH 2.5, fixed design).
optimal_student_ridge, optimal_teacher_ridge, optimal_shrinkage, optimal_soft_noise,
minimize_parameter -> Optimum (argmin, the condition ∂f/∂x = 0, closed form or numeric);
optimal_rank -> RankChoice (per-mode rule: keep mode j while its gain beats its cost);
sensitivity(decomposition, name, values) -> (∂part/∂name, sympy derivative).
paper_latex, PaperLatexPrinter, export_latex(decompositions, path) -> .tex snippet and a
standalone document; derivation_latex(decomposition).

Example
-------
>>> from gaussdistill.symbolic import aligned_decomposition
>>> dec = aligned_decomposition("convexity", expectation=False, d=2, rank=1)
>>> vals = dict(k=3, nu=0.5, tau=1.0, lambda_T=0.0, lambda_S=0.0, t_T=0.0, t_S=0.0,
...             s=[4.0, 1.0], w=[2.0, 1.0])
>>> parts = dec.evaluate(**vals)  # rank = s_2 w_2^2 / (2 tau^2) when lambda_T = 0
>>> round(parts["rank"], 12), round(parts["bias"], 12), round(parts["variance"], 12)
(0.5, 0.0, 0.0)
"""
from ._symbols import ModelSymbols, model_symbols
from .decomposition import (DIRECTIONS, KINDS, STUDENTS, AlignedDecomposition,
                            aligned_decomposition)
from .design import (Optimum, RankChoice, minimize_parameter, optimal_rank, optimal_shrinkage,
                     optimal_soft_noise, optimal_student_ridge, optimal_teacher_ridge,
                     sensitivity)
from .gaps import GapExpressions, generalization_gaps
from .latex import PaperLatexPrinter, derivation_latex, export_latex, paper_latex

__all__ = [
    "aligned_decomposition", "AlignedDecomposition", "KINDS", "DIRECTIONS", "STUDENTS",
    "generalization_gaps", "GapExpressions",
    "optimal_student_ridge", "optimal_teacher_ridge", "optimal_shrinkage",
    "optimal_soft_noise", "optimal_rank", "minimize_parameter", "sensitivity",
    "Optimum", "RankChoice",
    "paper_latex", "PaperLatexPrinter", "export_latex", "derivation_latex",
    "model_symbols", "ModelSymbols",
]

from .bounds import SymbolicBounds, TeacherGapCGF, symbolic_bounds, teacher_gap_cgf  # noqa: E402
__all__ += ["teacher_gap_cgf", "symbolic_bounds", "TeacherGapCGF", "SymbolicBounds"]
