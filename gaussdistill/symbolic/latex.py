r"""Output a researcher pastes: LaTeX and plain text in the paper's notation.

* :class:`PaperLatexPrinter` / :class:`PaperStrPrinter`: sympy's printers with the
  conventions of papers (``\ln``, ``\det``, positive terms first so that ``k − r`` and
  ``1 − c g_j`` print as written by hand, ``s_j`` for ``s[j]``).
* :func:`decomposition_latex`: the parts of a decomposition as sums over modes in the
  notation of :mod:`.notation`, one part per line (long sums broken across lines), each
  with its relation to the data-driven quantity (``=``, ``\le``, ``\ge`` or the
  oracle-subspace value), followed by the definitions of every symbol and the notes.
* :func:`export_latex`: a ``.tex`` snippet and a standalone document that fits the page.
"""
from __future__ import annotations

import os
from pathlib import Path

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from .. import vocabulary
from . import notation as nt


def _paper_order(terms):
    """Positive terms first (those with a per-mode spectrum first: ``s_j + λ_T``), then
    negative numbers, then the other negative terms."""
    pos = [t for t in terms if not t.could_extract_minus_sign()]
    def spectral(t):
        return t.has(sp.Indexed) or any(str(x).startswith(("s_", "w_")) for x in t.free_symbols)

    pos = [t for t in pos if spectral(t)] + [t for t in pos if not spectral(t)]
    neg_num = [t for t in terms if t.could_extract_minus_sign() and t.is_number]
    neg = [t for t in terms if t.could_extract_minus_sign() and not t.is_number]
    return pos + neg_num + neg


class PaperLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with the conventions of papers.

    * ``Determinant(A)`` prints ``\\det A`` (sympy writes ``\\left|A\\right|``);
    * ``log`` prints ``\\ln``;
    * sums print positive terms first (``k - r``, not ``-r + k``).
    """

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings.setdefault("ln_notation", True)
        super().__init__(settings)

    def _print_Determinant(self, expr):
        return rf"\det\left({self._print(expr.arg)}\right)"

    def _as_ordered_terms(self, expr, order=None):
        return _paper_order(list(super()._as_ordered_terms(expr, order=order)))


class PaperStrPrinter(StrPrinter):
    """Plain-text printer: ``s_j`` for ``s[j]``, positive terms first."""

    def _as_ordered_terms(self, expr, order=None):
        return _paper_order(list(super()._as_ordered_terms(expr, order=order)))


def paper_latex(expr, **settings) -> str:
    """LaTeX of a sympy expression (or matrix expression) with :class:`PaperLatexPrinter`."""
    return PaperLatexPrinter(settings).doprint(expr)


def paper_str(expr) -> str:
    """Plain text of a sympy expression with :class:`PaperStrPrinter` (``s_j`` for ``s[j]``)."""
    if isinstance(expr, sp.Basic):
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed),
                            lambda e: sp.Symbol(f"{e.base}_{'_'.join(map(str, e.indices))}"))
    return PaperStrPrinter().doprint(expr)


_PLAIN = (("$1,\\dots,r$", "1..r"), ("$X X^{\\top}$", "X X^T"), ("$W^{\\star}$", "W*"), ("$W$", "W"))


def plain(text: str) -> str:
    """A LaTeX-inline description as plain text."""
    for a, b in _PLAIN:
        text = text.replace(a, b)
    return text.replace("$", "")


# ------------------------------------------------------------------ the general form
_PART_LHS = {"variance": r"\mathrm{variance}", "bias": r"\mathrm{bias}", "rank": r"\mathrm{rank}"}
#: A printed block longer than this (LaTeX characters) is put on a line of its own.
_LINE = 70


def _factor_latex(factor, p) -> str:
    if factor == 1:
        return ""
    if factor == nt.k / 2:
        return r"\tfrac{k}{2}"
    return r"\tfrac{1}{2}" + p._print(2 * factor)  # ½ Γ_j


def _block_latex(b, p) -> str:
    factor = _factor_latex(b.factor, p)
    body = p._print(b.body)
    if isinstance(b.body, sp.Add) and factor:
        body = r"\left(" + body + r"\right)"
    return rf"\sum_{{j={p._print(b.lo)}}}^{{{p._print(b.hi)}}} {factor} {body}".replace("  ", " ")


def _block_text(b) -> str:
    factor = "" if b.factor == 1 else paper_str(b.factor) + " * "
    body = paper_str(b.body)
    if isinstance(b.body, sp.Add) and factor:
        body = f"({body})"
    return f"sum_{{j={paper_str(b.lo)}..{paper_str(b.hi)}}} {factor}{body}"


def _random(G):
    return G.expectation or G.student == "sampled"


def _lhs(rel, part, random):
    """Left-hand side and relation symbol of one printed line."""
    name = _PART_LHS.get(part, part)
    if rel is None or rel.symbol is None:
        return name + r"^{\text{oracle}}", "="
    if random and part != "variance":
        name = r"\mathbb{E}[" + name + "]"
    sym = rel.latex()
    if rel.condition is not sp.true:
        sym = r"\overset{(\ast)}{" + sym + "}"
    return name, sym


def _rows(G, rels, p):
    rows = []
    for part in ("variance", "bias", "rank"):
        blocks = [_block_latex(b, p) for b in G.per_mode[part]] or ["0"]
        lhs, rel = _lhs(rels.get(part) if rels else None, part, _random(G))
        first = True
        line = ""
        for blk in blocks:
            if line and len(line) + len(blk) > _LINE:
                rows.append(((lhs + " &" + rel + " ") if first else "&\\quad ") + line)
                first, line = False, "+ " + blk
            else:
                line = (line + " + " + blk) if line else blk
        rows.append(((lhs + " &" + rel + " ") if first else "&\\quad ") + line)
    return rows


def general_latex(G, relations=None, title=None) -> str:
    """``align*`` of a :class:`GeneralDecomposition`: the total, then one part per line."""
    p = PaperLatexPrinter()
    rel_total = relations.get("total") if relations else None
    lhs, sym = _lhs(rel_total, "total", False)
    lhs = (title or "K") + lhs[len("total"):]
    head = lhs + " &" + sym + " "
    rows = [head + r"\mathrm{variance} + \mathrm{bias} + \mathrm{rank},"]
    rows += _rows(G, relations, p)
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def definitions_latex(G) -> str:
    """``align*`` with the definition of every per-mode quantity the form uses."""
    p = PaperLatexPrinter()
    rows = [p._print(eq.lhs) + " &= " + p._print(eq.rhs) + r" &&\text{(" + type(eq.lhs).meaning + ")}"
            for eq in G.definitions]
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def symbols_used(G) -> list:
    """Names (keys of :data:`notation.SYMBOLS`) of the symbols the form and its definitions use."""
    exprs = [b.term for blocks in G.per_mode.values() for b in blocks]
    exprs += [eq.rhs for eq in G.definitions]
    free = set()
    for e in exprs:
        free |= {str(x) for x in nt.unfold(e).free_symbols}
    names = ["d"] + (["r"] if not G.full_rank else []) + ["s", "w"]
    return names + [nm for nm in nt.SYMBOLS if nm not in names and nm in free]


def symbols_latex(G) -> str:
    items = [rf"${nt.SYMBOLS[nm][0]}$: {nt.SYMBOLS[nm][1]}" for nm in symbols_used(G)]
    return r"\noindent where " + "; ".join(items) + "."


def _pretty_block(b) -> str:
    term = b.term.replace(lambda e: isinstance(e, sp.Indexed),
                          lambda e: sp.Symbol(f"{e.base}_{'_'.join(map(str, e.indices))}"))
    head = f"  sum over j = {paper_str(b.lo)}..{paper_str(b.hi)} of"
    body = sp.pretty(term, use_unicode=True)
    return head + "\n" + "\n".join("    " + line for line in body.splitlines())


def general_text(G, relations=None, pretty=False) -> str:
    """Plain text of a :class:`GeneralDecomposition` (what ``gaussdistill derive`` prints);
    ``pretty=True`` draws each per-mode term with sympy's 2-D pretty printer."""
    out = []
    for part in ("variance", "bias", "rank"):
        rel = relations.get(part) if relations else None
        if rel is None or rel.symbol is None:
            name, sym = (f"{part} (oracle-subspace value)" if rel is not None else part), "="
        else:
            random = (G.expectation or G.student == "sampled") and part != "variance"
            name = f"E[{part}]" if random else part
            sym = rel.symbol + (" (*)" if rel.condition is not sp.true else "")
        if pretty:
            blocks = [_pretty_block(b) for b in G.per_mode[part]] or ["  0"]
            out.append(f"{name} {sym}\n" + "\n  +\n".join(blocks))
            continue
        blocks = [_block_text(b) for b in G.per_mode[part]] or ["0"]
        out.append(f"{name} {sym} " + "\n    + ".join(blocks))
    out.append("where")
    for eq in G.definitions:
        if pretty:
            rhs = eq.rhs.replace(lambda e: isinstance(e, sp.Indexed),
                                 lambda e: sp.Symbol(f"{e.base}_{'_'.join(map(str, e.indices))}"))
            out.append(f"  {paper_str(eq.lhs)} ({type(eq.lhs).meaning}) =\n"
                       + "\n".join("    " + ln for ln in sp.pretty(rhs, use_unicode=True).splitlines()))
        else:
            out.append(f"  {paper_str(eq.lhs)} = {paper_str(eq.rhs)}   ({type(eq.lhs).meaning})")
    return "\n".join(out)


# ------------------------------------------------------------------ decompositions
def _title(dec):
    arrow = vocabulary.latex(dec.direction)
    lhs = vocabulary.latex(dec.kind) + "_{" + arrow + "}"
    return lhs


def notes(dec) -> list:
    """The notes printed under a decomposition (plain text; :func:`decomposition_latex`
    typesets them)."""
    out = []
    if dec.full_rank:
        out.append("Full-rank student: every line is exact.")
    else:
        out.append(f"Rank-r student, r = {dec.rank_r}: it keeps modes 1..r, so the spectra must be "
                   "ordered such that these are its top r modes (checked by evaluate).")
    out.append(f"Concrete d = {dec.d} here; the sums hold for every d.")
    if dec.expectation:
        out.append("E is over the label noise E" + (" and the soft-label draws." if dec.student == "sampled"
                                                      else "."))
    else:
        out.append("Noiseless labels Y = W* X" + ("; E is over the soft-label draws."
                                                  if dec.student == "sampled" else "."))
    return out


def _relation_notes(relations, latex=False):
    out = []
    if any(r.condition not in (sp.true, sp.false) for r in relations.values()):
        out.append(r"$(\ast)$: proved under the condition stated below; elsewhere the "
                   "expression is the oracle-subspace student's value." if latex else
                   "(*): proved under the condition stated below; elsewhere the expression is "
                   "the oracle-subspace student's value.")
    for part in ("total", "variance", "bias", "rank"):
        rel = relations[part]
        if rel.symbol == "=" and rel.condition is sp.true:
            continue
        out.append(f"{part}: " + (rel.latex_text() if latex else rel.text) + ".")
    return out


_TEX = [("Y = W* X", r"$Y = W^{\star} X$"), ("modes 1..r", r"modes $1,\dots,r$"),
        ("Rank-r", "Rank-$r$"), ("top r", "top $r$"), ("E is over", r"$\mathbb{E}$ is over"),
        ("label noise E", "label noise $E$"), ("(*)", r"$(\ast)$"),
        ("span(u_1..u_r)", r"$\operatorname{span}(u_1,\dots,u_r)$")]


def _tex_safe(text: str) -> str:
    """Typeset a plain-text note (its few formulas in math mode)."""
    import re
    for a, b in _TEX:
        text = text.replace(a, b)
    return re.sub(r"\b([rd]) = (\d+)", r"$\1 = \2$", text)


def _require_decomposition(dec, where):
    from ..errors import GaussDistillError
    from .decomposition import AlignedDecomposition
    if not isinstance(dec, AlignedDecomposition):
        raise GaussDistillError(f"{where}: expected an AlignedDecomposition (from "
                                f"aligned_decomposition), got {type(dec).__name__}")


def describe(dec, pretty: bool = False) -> str:
    """Plain text of a decomposition in the paper's notation: the parts with their
    relations, the definitions, the symbols and the notes (``gaussdistill derive``;
    ``pretty=True``: 2-D formulas, ``derive --pretty``)."""
    _require_decomposition(dec, "describe")
    if dec.label:
        return "\n".join(f"{part} = {paper_str(getattr(dec, part))}" for part in
                          ("variance", "bias", "rank", "total"))
    G = dec.general()
    rel = dec.relations["total"]
    if rel.symbol is None:
        head = "total (oracle-subspace value) ="
    else:
        random = dec.expectation or dec.student == "sampled"
        head = ("E[total] " if random else "total ") + rel.symbol + (
            " (*)" if rel.condition is not sp.true else "")
    out = [f"{vocabulary.display(dec.kind)}, {dec.direction}, {vocabulary.display(dec.student)}:",
           f"{head} variance + bias + rank", general_text(G, dec.relations, pretty)]
    out.append("symbols: " + "; ".join(f"{nm}{'_j' if nm in ('s', 'w') else ''}: "
                                       f"{plain(nt.SYMBOLS[nm][1])}"
                                       for nm in symbols_used(G)))
    out += ["note: " + n for n in notes(dec) + _relation_notes(dec.relations)]
    return "\n".join(out)


def general_title(G) -> str:
    """LaTeX name of the divergence, with the expectation it is taken under."""
    over = ([r"E"] if G.expectation else []) + ([r"\bar{Z}"] if G.student == "sampled" else [])
    title = vocabulary.latex(G.kind) + "_{" + vocabulary.latex(G.direction) + "}"
    if over:
        title = r"\mathbb{E}_{" + ",".join(over) + r"}\bigl[" + title + r"\bigr]"
    return title


def general_block_latex(G) -> str:
    """The parts with their relations, the definitions and every symbol (no notes)."""
    out = [general_latex(G, G.relations, general_title(G)), definitions_latex(G), symbols_latex(G)]
    rel = _relation_notes(G.relations, latex=True)
    if rel:
        out.append("\\begin{itemize}\n" + "\n".join(r"\item " + n for n in rel) + "\n\\end{itemize}")
    return "\n".join(out)


def decomposition_latex(dec, **settings) -> str:
    """The decomposition in the paper's notation: an ``align*`` of the parts (with their
    relations), the definitions of h_j, g_j, Γ_j, ρ_j, every symbol, and the notes."""
    if dec.label:  # a derivative: concrete-d parts, one per line
        p = PaperLatexPrinter(settings)
        var = p._print(dec.symbols[dec.label[3:]])
        rows = [rf"\frac{{\partial {_title(dec)}}}{{\partial {var}}}\Big|_{{\text{{{part}}}}} &= "
                + p._print(getattr(dec, part)) for part in ("variance", "bias", "rank")]
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"
    G = dec.general()
    parts = [general_block_latex(G)]
    items = [_tex_safe(n) for n in notes(dec)]
    parts.append("\\begin{itemize}\n" + "\n".join(r"\item " + n for n in items)
                 + "\n\\end{itemize}")
    return "\n".join(parts)


def derivation_latex(dec) -> str:
    """The recorded derivation as an ``enumerate`` list of matrix statements and the
    per-mode scalars they reduce to (displayed, in the notation h_j, g_j of
    :mod:`.notation`; κ_j = 1 for the modes the student keeps, else 0)."""
    from .general import notation_form
    _require_decomposition(dec, "derivation_latex")
    lines = [r"\noindent Derivation, mode by mode ($h_j$, $g_j$ as above; $\kappa_j = 1$ if the "
             r"student keeps mode $j$, i.e.\ $j \le r$, else $\kappa_j = 0$; $G_j = E q_j$ is the "
             r"label noise seen by mode $j$):", r"\begin{enumerate}"]
    for st in dec.steps:
        item = r"\item " + st.title.replace("_", r"\_").replace("&", r"\&")
        if st.matrix:
            item += rf": $ {st.matrix} $"
        if st.mode is not None:
            try:
                mode = notation_form(st.mode, dec._S)
            except Exception:  # pragma: no cover - display only: keep the derived form
                mode = st.mode
            item += rf"\\ per mode: \[ {st.mode_label} = {paper_latex(mode)} \]"
        lines.append(item)
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


_PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
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
    if not isinstance(path, (str, os.PathLike)) or str(path) == "" or Path(path).is_dir():
        raise GaussDistillError(f"path={path!r:.60}: expected the path of a .tex file to write")
    path = Path(path)
    chunks = []
    for dec in decompositions:
        chunks.append("% " + repr(dec))
        chunks.append("% assumptions: " + dec.assumptions.replace("\n", "; "))
        chunks.append(dec.latex())
        if derivation and dec.steps:
            chunks.append(derivation_latex(dec))
    snippet = "\n".join(chunks) + "\n"
    written = [path]
    try:
        path.write_text(snippet)
        if standalone:
            doc = path.with_name(path.stem + "_standalone.tex")
            doc.write_text(_PREAMBLE + snippet + "\\end{document}\n")
            written.append(doc)
    except OSError as exc:
        raise GaussDistillError(f"path={str(path)!r}: cannot write ({exc.strerror})") from None
    return written
