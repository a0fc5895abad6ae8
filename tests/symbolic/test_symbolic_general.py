"""General-d forms in the paper's notation, relations as data, and output a researcher pastes.

* ``dec.general().at(d, r)`` equals the concrete-d expression for every kind, direction,
  student, expectation and rank (exactly for the rational parts, to 1e-12 at random points
  for those with a logarithm);
* the per-mode terms are the ones a paper writes (checked against hand-written forms);
* ``latex()``/``describe()`` print no helper names, define every symbol, print the notes,
  write ``(k - r)``, and the standalone document compiles without overfull lines.
"""
from __future__ import annotations

import itertools
import re
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from gaussdistill import vocabulary
from gaussdistill.symbolic import aligned_decomposition, export_latex, model_symbols
from gaussdistill.symbolic import notation as nt
from gaussdistill.symbolic._functions import numeric_modules
from gaussdistill.symbolic._symbols import SCALAR_NAMES
from gaussdistill.symbolic.latex import describe

PARTS = ("total", "bias", "variance", "rank")
COMBOS = list(itertools.product(vocabulary.KINDS, vocabulary.DIRECTIONS, vocabulary.STUDENTS,
                                (True, False), (None, 0, 1)))


def _point(d, rng):
    vals = dict(k=d + 2, n=20, nu=rng.uniform(0.3, 1.0), tau=rng.uniform(0.5, 1.2),
                lambda_T=rng.uniform(0.1, 1.0), lambda_S=rng.uniform(0.1, 1.0),
                t_T=rng.uniform(0.3, 1.0), t_S=rng.uniform(0.3, 1.0), c=rng.uniform(0.2, 1.5),
                m=3)
    s = np.sort(rng.uniform(0.5, 4.0, d))[::-1]
    w = np.sort(rng.uniform(0.5, 3.0, d))[::-1]
    return vals, s, w


def _numbers(expr, S, vals, s, w):
    args = list(S.scalars()) + list(S.s) + list(S.w)
    f = sp.lambdify(args, expr, modules=numeric_modules("numpy"))
    return float(f(*[vals[nm] for nm in SCALAR_NAMES], *s, *w))


@pytest.mark.parametrize("kind,direction,student,expectation,rank", COMBOS)
def test_general_form_at_concrete_d_equals_the_concrete_expression(kind, direction, student,
                                                                   expectation, rank):
    d = 2
    dec = aligned_decomposition(kind, direction, expectation, student, d=d, rank=rank)
    at = dec.general().at(d, rank)
    S = model_symbols(d)
    vals, s, w = _point(d, np.random.default_rng(hash((kind, direction, student)) % 2**32))
    for part in PARTS:
        concrete = getattr(dec, part)
        if not concrete.has(sp.log) and not at[part].has(sp.log) and kind == "convexity":
            assert sp.cancel(sp.together(at[part] - concrete)) == 0, part
        a, b = _numbers(at[part], S, vals, s, w), _numbers(concrete, S, vals, s, w)
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14), part


@pytest.mark.parametrize("student", vocabulary.STUDENTS)
def test_general_form_at_d3_rank2(student):
    dec = aligned_decomposition("predictive", "teacher||student", True, student, d=3, rank=2)
    at = dec.general().at(3, 2)
    vals, s, w = _point(3, np.random.default_rng(5))
    for part in PARTS:
        a = _numbers(at[part], model_symbols(3), vals, s, w)
        b = _numbers(getattr(dec, part), model_symbols(3), vals, s, w)
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


def test_kept_mode_bias_is_the_papers_factored_form():
    """Convexity, rank 1: kept-mode bias ½ Γ_j (1 − g_j)² h_j² (w_j² + r ν²/s_j) (by hand:
    (M_S − M_T) v_j = (g_j − 1) h_j w_j u_j + ν h_j/√s_j (g_j P − I) G_j)."""
    dec = aligned_decomposition("convexity", d=3, rank=1)
    G = dec.general()
    j, h, g, Gam = nt.j, nt.h(nt.j), nt.g(nt.j), nt.metric("convexity", "student||teacher")(nt.j)
    kept, dropped = G.per_mode["bias"]
    assert (kept.lo, kept.hi, dropped.lo, dropped.hi) == (1, nt.r, nt.r + 1, nt.d)
    hand = sp.Rational(1, 2) * Gam * (1 - g) ** 2 * h**2 * (nt.w[j] ** 2 + nt.r * nt.nu**2 / nt.s[j])
    assert sp.simplify(kept.term - hand) == 0
    hand_rank = sp.Rational(1, 2) * Gam * h**2 * (nt.w[j] ** 2 + (nt.k - nt.r) * nt.nu**2 / nt.s[j])
    assert sp.simplify(G.per_mode["rank"][1].term - hand_rank) == 0
    # The per-mode terms are no longer than the concrete d = 3 sum, and that sum is itself
    # cancelled per mode (it was "mean minus rank", 156 operations; now 47).
    per_mode_ops = sum(sp.count_ops(b.term) for b in G.per_mode["bias"])
    assert per_mode_ops < sp.count_ops(dec.bias) <= 60


def test_notation_definitions_and_doit():
    assert nt.h(3).doit() == nt.s[3] / (nt.s[3] + nt.lambda_T)
    Gam = nt.metric("predictive", "student||teacher")
    assert sp.simplify(Gam(1).doit() - nt.s[1] / (nt.tau**2 + nt.t_T * nt.nu**2 * nt.s[1]
                                                   / (nt.s[1] + nt.lambda_T))) == 0
    # Derivatives go through the definitions (h_j is not a constant in lambda_T).
    assert sp.simplify(sp.diff(nt.h(nt.j), nt.lambda_T) + nt.s[nt.j] / (nt.s[nt.j] + nt.lambda_T) ** 2) == 0
    assert nt.variance_ratio("convexity", "student||teacher") is None
    expr = sp.Sum(nt.h(nt.j), (nt.j, 1, nt.d)).subs(nt.d, 2).doit()
    assert sp.simplify(expr - (nt.s[1] / (nt.s[1] + nt.lambda_T) + nt.s[2] / (nt.s[2] + nt.lambda_T))) == 0


# ----------------------------------------------------------------------------- printing
@pytest.mark.parametrize("kind,student", [(k, s) for k in vocabulary.KINDS for s in vocabulary.STUDENTS])
def test_printed_output_uses_the_papers_notation(kind, student):
    dec = aligned_decomposition(kind, "student||teacher", True, student, d=3, rank=1)
    tex, text = dec.latex(), describe(dec)
    for out in (tex, text, dec.derivation()):
        assert "u_minus_log1p" not in out
        assert "-k + r" not in out.replace(" ", "") and "-(-k" not in out.replace(" ", "")
    assert r"\left(k - r\right)" in tex and "(k - r)" in text
    assert r"h_{j} &= " in tex and r"\Gamma_{j} &= " in tex       # defined once, printed
    assert r"\item" in tex and "note: " in text                     # notes printed
    # Every scalar symbol in the formulas is defined in the "where" line.
    where = tex[tex.index(r"\noindent where"):]
    for name in ("nu", "tau", "lambda_T", "lambda_S", "t_T", "t_S", "k"):
        if sp.Symbol(name) in {sp.Symbol(str(x)) for x in dec.total.free_symbols}:
            assert f"${nt.SYMBOLS[name][0]}$" in where, name
    if student == "sampled":
        assert r"\mathrm{bias}^{\text{oracle}}" in tex and "oracle-subspace value" in text
    assert r"\mathbb{E}[\mathrm{rank}] &\le" in tex


def _overfull(log_text, tolerance_pt=1.0):
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log_text)
            if float(x) > tolerance_pt]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_standalone_document_compiles_and_fits_the_page(tmp_path):
    decs = [aligned_decomposition(kind, direction, True, student, d=3, rank=1)
            for kind in vocabulary.KINDS for direction in vocabulary.DIRECTIONS
            for student in vocabulary.STUDENTS]
    decs.append(aligned_decomposition("weight", d=3, expectation=False))
    paths = export_latex(decs, tmp_path / "kd.tex")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          paths[1].name], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    log = (tmp_path / "kd_standalone.log").read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert (tmp_path / "kd_standalone.pdf").stat().st_size > 0
    assert _overfull(log) == [], "lines wider than the page"


def test_overfull_detector_detects():
    assert _overfull("Overfull \\hbox (47.47495pt too wide) detected at line 38") == [47.47495]
    assert _overfull("Overfull \\hbox (0.2pt too wide) detected") == []


def test_cli_derive_prints_the_papers_notation_and_relations(capsys):
    from gaussdistill.cli import main
    assert main(["derive", "--kind", "convexity", "--d", "3", "--rank", "1"]) == 0
    out = capsys.readouterr().out
    assert "u_minus_log1p" not in out and "-k + r" not in out
    assert "E[rank] <= sum_{j=1..r} Gamma_j/2 * nu**2*(k - r)*h_j**2/s_j" in out
    assert "h_j = s_j/(lambda_T + s_j)" in out or "h_j = s_j/(s_j + lambda_T)" in out
    assert "note: total: E[total] <= expression when (lambda_S = 0)" in out
    assert main(["derive", "--kind", "weight", "--d", "2", "--rank", "1", "--student", "sampled"]) == 0
    out = capsys.readouterr().out
    assert "total (oracle-subspace value) = variance + bias + rank" in out
    assert main(["derive", "--kind", "convexity", "--d", "2", "--rank", "1", "--pretty"]) == 0
    out = capsys.readouterr().out
    assert "Γ_j" in out and "sum over j = r + 1..d of" in out and "u_minus_log1p" not in out
