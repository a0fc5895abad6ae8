r"""The report's closed forms: general-d decompositions of the aligned model, as LaTeX.

Derived by :mod:`gaussdistill.symbolic` (``aligned_decomposition(...).general()``, whose
``latex()`` defines every symbol it uses and states each relation, ``=`` or ``\le`` with its
condition, docs/mathematics.md §2.4); nothing is typed in here. The general forms are sums
over symbolic ``d`` (and ``r``), so they do not depend on the setting's numbers, only on
its student and whether its rank truncates.
"""
from __future__ import annotations

from ..vocabulary import KINDS, term

__all__ = ["closed_forms_latex", "closed_forms"]


def closed_forms(setting, kinds=KINDS, direction="student||teacher"):
    """``(kind, GeneralDecomposition)`` pairs for the setting's student, E over the label noise.

    A rank-truncating student (``rank < min(k, d)``) gets the forms with sums over
    ``j ≤ r`` and ``j > r``; a full-rank one the single sum over ``j ≤ d``.
    """
    from .. import symbolic

    truncates = setting.rank < min(setting.k, setting.d)
    out = []
    for kind in kinds:
        dec = symbolic.aligned_decomposition(kind, direction, expectation=True,
                                             student=setting.student, d=2,
                                             rank=1 if truncates else None)
        out.append((kind, dec.general()))
    return out


def closed_forms_latex(setting, kinds=KINDS, direction="student||teacher") -> str:
    r"""A LaTeX snippet (for ``\input``) with one subsection per divergence."""
    truncates = setting.rank < min(setting.k, setting.d)
    parts = [r"Closed forms of each divergence ($\mathrm{KL}$ student $\|$ teacher) over the label "
             r"noise in the aligned spectral model "
             r"$XX^\top = V\operatorname{diag}(s)V^\top$, $W_\star = U\operatorname{diag}(w)V^\top$, "
             f"for the {setting.student} student"
             + (r" of rank $r$" if truncates else " of full rank")
             + r", derived by \texttt{gaussdistill.symbolic}."
             + (r" For a rank-$r$ student the parts are those of the oracle-subspace student "
                r"(marked ``oracle''), which projects onto the top-$r$ singular subspace of the "
                r"noiseless teacher's predictions; they are not the expectation for the student "
                r"trained on noisy data."
                if truncates else "")]
    for kind, general in closed_forms(setting, kinds, direction):
        parts.append(r"\subsection*{" + term(kind).display.replace("K^Y", "$K^Y$")
                     .replace("K^W", "$K^W$").replace("K-bar", r"$\bar K$") + "}")
        parts.append(general.latex())
    return "\n\n".join(parts) + "\n"
