r"""One table of the names the package uses: divergence kinds, directions, students, parts.

The numeric core (:func:`gaussdistill.divergence`), the symbolic engine and the CLI all
take these strings; their display names and LaTeX symbols are defined here once
(docs/mathematics.md §2.2–2.3).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A name the user passes, with how it is shown in text and in LaTeX."""

    name: str
    display: str
    latex: str
    description: str


KIND_TERMS = (
    Term("predictive", "predictive divergence K^Y", r"K^{Y}",
         "KL between the student's and the teacher's predictive (soft-label) laws on X"),
    Term("convexity", "convexity bound K-bar", r"\bar{K}",
         "the paper's convexity upper bound on K^Y (same in both directions)"),
    Term("weight", "weight divergence K^W", r"K^{W}",
         "KL between the student's and the teacher's weight laws"),
)

DIRECTION_TERMS = (
    Term("student||teacher", "KL(student || teacher)", r"S \,\|\, T", "the student's law first"),
    Term("teacher||student", "KL(teacher || student)", r"T \,\|\, S", "the teacher's law first"),
)

STUDENT_TERMS = (
    Term("population", "population student", r"S", "fitted to the mean soft labels M_T X"),
    Term("shrinkage", "shrinkage student", r"S_{\gamma}", "the population student shrunk towards 0"),
    Term("sampled", "sampled student", r"\hat S", "fitted to the mean of m soft-label draws"),
)

PART_TERMS = (
    Term("total", "total", r"K", "the whole divergence"),
    Term("bias", "bias", r"\mathrm{bias}", "avoidable mean misfit"),
    Term("variance", "variance", r"\mathrm{var}", "covariance (trace/log-det) part"),
    Term("rank", "rank bottleneck", r"\mathrm{rank}", "least mean cost of any rank-r student"),
)

KINDS = tuple(t.name for t in KIND_TERMS)
DIRECTIONS = tuple(t.name for t in DIRECTION_TERMS)
STUDENTS = tuple(t.name for t in STUDENT_TERMS)
PARTS = tuple(t.name for t in PART_TERMS)

_ALL = {t.name: t for group in (KIND_TERMS, DIRECTION_TERMS, STUDENT_TERMS, PART_TERMS) for t in group}


def term(name: str) -> Term:
    """The :class:`Term` of a kind, direction, student or part name (KeyError if unknown)."""
    return _ALL[name]


def latex(name: str) -> str:
    """LaTeX symbol of a name, e.g. ``latex("predictive") == "K^{Y}"``."""
    return _ALL[name].latex


def display(name: str) -> str:
    """Display text of a name, e.g. ``display("rank") == "rank bottleneck"``."""
    return _ALL[name].display


__all__ = ["Term", "KINDS", "DIRECTIONS", "STUDENTS", "PARTS", "KIND_TERMS", "DIRECTION_TERMS",
           "STUDENT_TERMS", "PART_TERMS", "term", "latex", "display"]
