"""LaTeX output that reads like a paper: ``\\det``, ``\\operatorname{tr}``, ``\\ln``, ν, τ,
λ_T, underbraced bias/variance/rank parts, and a standalone-document exporter."""
from __future__ import annotations

import os
from pathlib import Path

import sympy as sp
from sympy.printing.latex import LatexPrinter

_PART_TEXT = {"variance": "variance", "bias": "bias", "rank": "rank bottleneck"}
_KIND = {"predictive": "K^{Y}", "convexity": r"\bar{K}", "weight": "K^{W}"}


class PaperLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with the conventions of papers.

    * ``Determinant(A)`` prints ``\\det A`` (sympy writes ``\\left|A\\right|``);
    * ``log`` prints ``\\ln``;
    * ``Trace`` keeps sympy's ``\\operatorname{tr}``.
    """

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings.setdefault("ln_notation", True)
        super().__init__(settings)

    def _print_Determinant(self, expr):
        return r"\det\left(%s\right)" % self._print(expr.arg)


def paper_latex(expr, **settings) -> str:
    """LaTeX of a sympy expression (or matrix expression) with :class:`PaperLatexPrinter`."""
    return PaperLatexPrinter(settings).doprint(expr)


def _sum_latex(block, printer) -> str:
    lo = printer._print(block.lo)
    hi = printer._print(block.hi)
    term = printer._print(block.term)
    if isinstance(block.term, sp.Add):
        term = r"\left(" + term + r"\right)"
    return rf"\sum_{{j={lo}}}^{{{hi}}} {term}"


def _part_latex(dec, name, printer) -> str:
    blocks = dec.blocks.get(name) if dec.blocks else None
    if blocks is None:
        return printer._print(getattr(dec, name))
    if not blocks:
        return "0"
    return " + ".join(_sum_latex(b, printer) for b in blocks)


def decomposition_latex(dec, **settings) -> str:
    """An ``align*`` environment: the divergence as underbraced variance + bias + rank.

    Per-mode sums are printed as ``\\sum_j`` of the generic-mode term the engine derived;
    the subscript range shows which modes a rank-r student keeps.
    """
    p = PaperLatexPrinter(settings)
    arrow = r"S \,\|\, T" if dec.direction == "student||teacher" else r"T \,\|\, S"
    lhs = _KIND[dec.kind] + "_{" + arrow + "}"
    over = [r"E"] if dec.expectation else []
    if dec.student == "sampled":
        over.append(r"\bar{Z}")
    if over:
        lhs = r"\mathbb{E}_{" + ",".join(over) + r"}\bigl[" + lhs + r"\bigr]"
    if dec.label:
        var = p._print(dec.symbols.get(dec.label[3:], sp.Symbol(dec.label[3:])))
        lhs = r"\frac{\partial}{\partial " + var + "}" + lhs
    rel = "=" if dec.exact else r"\le"  # oracle rank part is an upper bound on E[rank]
    rows = []
    for i, name in enumerate(("variance", "bias", "rank")):
        body = _part_latex(dec, name, p)
        lead = (lhs + " &" + rel + " ") if i == 0 else "&\\quad + "
        rows.append(lead + r"\underbrace{" + body + r"}_{\text{" + _PART_TEXT[name] + "}}")
    notes = [r"h_j = \frac{s_j}{s_j+\lambda_T}"]
    if not dec.full_rank:
        notes.append(rf"r = {dec.rank_r}")
    if not dec.exact:
        notes.append(r"\text{rank part: oracle-subspace bound, equality at } \nu = 0")
    body = " \\\\\n".join(rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def derivation_latex(dec) -> str:
    """The recorded derivation as an ``enumerate`` list of matrix statements and the
    per-mode scalars they reduce to."""
    lines = [r"\begin{enumerate}"]
    for st in dec.steps:
        item = r"\item " + st.title.replace("_", r"\_").replace("&", r"\&")
        if st.matrix:
            item += rf": $ {st.matrix} $"
        if st.mode is not None:
            item += rf" \\ per mode: $ {st.mode_label} = {paper_latex(st.mode)} $"
        lines.append(item)
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


_PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\begin{document}
"""


def export_latex(decompositions, path, standalone: bool = True, derivation: bool = True):
    """Write a ``.tex`` snippet (and a compilable standalone document next to it).

    Parameters
    ----------
    decompositions : AlignedDecomposition or sequence of them
    path : str or Path
        The snippet's path; the standalone document is ``<stem>_standalone.tex``.
    standalone : bool
        Also write the standalone document.
    derivation : bool
        Include the recorded derivation steps.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..errors import GaussDistillError
    from .decomposition import AlignedDecomposition
    if not isinstance(decompositions, (list, tuple)):
        decompositions = [decompositions]
    for i, dec in enumerate(decompositions):
        if not isinstance(dec, AlignedDecomposition):
            raise GaussDistillError(f"decompositions[{i}]: expected an AlignedDecomposition "
                                    f"(from aligned_decomposition), got {type(dec).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise GaussDistillError(f"path: expected a file path, got {type(path).__name__}")
    path = Path(path)
    chunks = []
    for dec in decompositions:
        chunks.append("% " + repr(dec))
        chunks.append("% assumptions: " + dec.assumptions.replace("\n", "; "))
        chunks.append(dec.latex())
        if derivation and dec.steps:
            chunks.append(derivation_latex(dec))
    snippet = "\n".join(chunks) + "\n"
    path.write_text(snippet)
    written = [path]
    if standalone:
        doc = path.with_name(path.stem + "_standalone.tex")
        doc.write_text(_PREAMBLE + snippet + "\\end{document}\n")
        written.append(doc)
    return written
