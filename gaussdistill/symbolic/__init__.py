r"""Symbolic engine (sympy) for the aligned linear-Gaussian distillation model.

The engine *derives* the closed forms of docs/mathematics.md §2.3–2.5 in the aligned spectral
model ``X Xᵀ = V diag(s) Vᵀ``, ``W⋆ = U diag(w) Vᵀ`` (k >= d), starting from the matrix
definitions of docs/mathematics.md §2.1–2.2 and reducing each to one scalar per mode in the shared
eigenbasis (:mod:`._spectral`); it never uses sympy's matrix calculus, which is silently
wrong for log-determinants (``log(det(X)).diff(X)`` returns 0).  Importing :mod:`gaussdistill` does
not import sympy; ``gaussdistill.symbolic`` does, on first access.

Public API
----------
aligned_decomposition(kind, direction, expectation, student, *, d, rank)
    -> AlignedDecomposition (immutable) with sympy ``total, bias, variance, rank``,
    ``relations`` (what each part is to the data-driven quantity: =, <=, >= with the
    condition where proved, or none: the oracle-subspace value), ``general()`` (sums over
    symbolic d and r in the notation h_j, g_j, Γ_j, ρ_j of :mod:`.notation`),
    ``evaluate(**values)``, ``lambdify("numpy" | "mpmath")``, ``latex()``, ``diff(name)``,
    ``derivation()``, ``assumptions``; ``describe(dec)`` prints it as plain text.
generalization_gaps(d, rank, student)
    -> GapExpressions with ``gen_T, gen_S, risk_T, risk_S`` (docs/mathematics.md §2.5).
optimal_student_ridge, optimal_teacher_ridge, optimal_shrinkage, optimal_soft_noise,
minimize_parameter -> Optimum (argmin, the condition ∂f/∂x = 0, closed form or numeric);
oracle_optimal_rank -> RankChoice (per-mode rule for the oracle-subspace student;
``optimal_rank`` is its deprecated name); monte_carlo_rank -> RankEstimate (the student
gaussdistill.rank_student trains, by simulation, with standard errors);
sensitivity(decomposition, name, values) -> (∂part/∂name, sympy derivative).
paper_latex, PaperLatexPrinter, export_latex(decompositions, path) -> .tex snippet and a
standalone document; derivation_latex(decomposition).

Every user value is converted to a number before sympy sees it (strings are never
parsed); a bad value raises a GaussDistillError naming the parameter.

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
from . import notation
from ._symbols import ModelSymbols, model_symbols
from .decomposition import DIRECTIONS, KINDS, STUDENTS, AlignedDecomposition, aligned_decomposition
from .design import (
                            Optimum,
                            minimize_parameter,
                            optimal_shrinkage,
                            optimal_soft_noise,
                            optimal_student_ridge,
                            optimal_teacher_ridge,
                            sensitivity,
)
from .gaps import GapExpressions, generalization_gaps
from .general import GeneralDecomposition
from .latex import PaperLatexPrinter, derivation_latex, describe, export_latex, paper_latex, paper_str
from .rank import RankChoice, RankEstimate, monte_carlo_rank, optimal_rank, oracle_optimal_rank
from .relations import Relation

__all__ = [
    "aligned_decomposition", "AlignedDecomposition", "KINDS", "DIRECTIONS", "STUDENTS",
    "GeneralDecomposition", "Relation", "notation", "describe",
    "generalization_gaps", "GapExpressions",
    "optimal_student_ridge", "optimal_teacher_ridge", "optimal_shrinkage",
    "optimal_soft_noise", "oracle_optimal_rank", "optimal_rank", "monte_carlo_rank",
    "minimize_parameter", "sensitivity",
    "Optimum", "RankChoice", "RankEstimate",
    "paper_latex", "paper_str", "PaperLatexPrinter", "export_latex", "derivation_latex",
    "model_symbols", "ModelSymbols",
]
