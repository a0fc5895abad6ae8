r"""``report.tex``: a standalone LaTeX document with the report's tables, equations and figures.

The document ``\input``\ s the booktabs tables and equation snippets written beside it and
includes the PDF figures, so each piece can also be pasted into a paper on its own.
:func:`compile_pdf` runs ``pdflatex`` when one is on the ``PATH`` (``shutil.which``) and
otherwise says how to compile.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["PREAMBLE", "Figure", "build_document", "compile_pdf", "CompileResult"]

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb,mathtools}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{float}
\allowdisplaybreaks
\setlength{\emergencystretch}{2em}
"""


@dataclass(frozen=True)
class Figure:
    """A figure of the document: its PDF path relative to the document, caption, label."""

    path: str
    caption: str
    label: str


def _escape(text: str) -> str:
    return re.sub(r"([_&%#$])", r"\\\1", text)


def build_document(*, title, setting_rows, sections) -> str:
    r"""The text of ``report.tex``.

    Parameters
    ----------
    title : str
        Plain text (escaped).
    setting_rows : list of (symbol LaTeX, value text)
        The setting, printed as a two-column booktabs table.
    sections : list of (heading, list of blocks)
        A block is a LaTeX string (e.g. ``\input{tables/x.tex}`` or a paragraph) or a
        :class:`Figure`.
    """
    lines = [PREAMBLE, r"\title{" + _escape(title) + "}", r"\date{}", r"\begin{document}",
             r"\maketitle", r"\section*{Setting}",
             r"\begin{table}[H]", r"\centering", r"\begin{tabular}{ll}", r"\toprule",
             r"quantity & value \\", r"\midrule"]
    lines += [f"{symbol} & {value} \\\\" for symbol, value in setting_rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    for heading, blocks in sections:
        lines.append(r"\section{" + heading + "}")
        for block in blocks:
            if isinstance(block, Figure):
                lines += [r"\begin{figure}[H]", r"\centering",
                          r"\includegraphics[width=\linewidth]{" + block.path + "}",
                          r"\caption{" + block.caption + "}", r"\label{" + block.label + "}",
                          r"\end{figure}"]
            else:
                lines.append(block)
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CompileResult:
    """What :func:`compile_pdf` did: the PDF path (or None) and a one-line message."""

    pdf: str | None
    message: str
    log: str | None = None


def how_to_compile(folder) -> str:
    """The one line telling a user how to compile the document themselves."""
    return (f"no LaTeX engine found (pdflatex): compile with `cd {folder} && pdflatex report.tex` "
            f"(Debian/Ubuntu: apt-get install texlive-latex-base texlive-latex-recommended "
            f"texlive-latex-extra)")


def compile_pdf(folder, tex="report.tex", *, final_folder=None, timeout=120) -> CompileResult:
    """Run ``pdflatex`` on ``folder/tex`` (one pass: the document has no cross-references)
    when it is installed.

    ``final_folder`` is where the folder will be moved to (used in the messages). A failed
    compilation is not an error of the report: the message names the log to read.
    """
    shown = final_folder or folder
    engine = shutil.which("pdflatex")
    if engine is None:
        return CompileResult(None, how_to_compile(shown))
    stem = os.path.splitext(tex)[0]
    cmd = [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex]
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    for _ in range(1):
        try:
            proc = subprocess.run(cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return CompileResult(None, f"pdflatex did not finish in {timeout} s; compile with "
                                       f"`cd {shown} && pdflatex report.tex`")
        if proc.returncode != 0:
            return CompileResult(None, f"pdflatex failed (exit {proc.returncode}); see "
                                       f"{os.path.join(shown, stem + '.log')}",
                                 os.path.join(folder, stem + ".log"))
    for ext in (".aux", ".out"):
        path = os.path.join(folder, stem + ext)
        if os.path.exists(path):
            os.remove(path)
    pdf = os.path.join(folder, stem + ".pdf")
    return CompileResult(pdf, f"compiled {os.path.join(shown, stem + '.pdf')} with pdflatex",
                         os.path.join(folder, stem + ".log"))
