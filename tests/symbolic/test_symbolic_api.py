"""Public API of gaussdistill.symbolic: errors, caching, derivation record, LaTeX output,
lazy import."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from gaussdistill.symbolic import aligned_decomposition, export_latex, generalization_gaps, paper_latex

P = dict(k=4, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.4, t_T=0.8, t_S=0.5,
         s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="kl"), r"kind='kl'.*'predictive', 'convexity', 'weight'"),
    (dict(kind="predictive", direction="forward"), r"direction='forward'.*student\|\|teacher"),
    (dict(kind="predictive", student="bogus"), r"student='bogus'.*'population'"),
    (dict(kind="predictive", d=0), r"d=0"),
    (dict(kind="predictive", rank=-1), r"rank=-1"),
    (dict(kind="predictive", expectation="yes"), r"expectation='yes'"),
])
def test_invalid_options_raise_value_error_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aligned_decomposition(**kwargs)


def test_evaluate_errors():
    dec = aligned_decomposition("predictive", d=3, rank=1)
    with pytest.raises(ValueError, match="missing values for.*lambda_S"):
        dec.evaluate(**{k: v for k, v in P.items() if k != "lambda_S"})
    with pytest.raises(ValueError, match="unknown parameter.*'sigma'"):
        dec.evaluate(**P, sigma=1.0)
    with pytest.raises(ValueError, match="length d=3"):
        dec.evaluate(**dict(P, s=[1.0, 2.0]))
    with pytest.raises(ValueError, match="s_3: every eigenvalue"):
        dec.evaluate(**dict(P, s=[3.0, 2.0, -1.0]))
    with pytest.raises(ValueError, match="tau=0.0: must be a real number > 0"):
        dec.evaluate(**dict(P, tau=0.0))
    with pytest.raises(ValueError, match="k >= d"):
        dec.evaluate(**dict(P, k=2))
    # Mode 2 larger than mode 1: the rank-1 expression would describe another student.
    with pytest.raises(ValueError, match="ordering assumption violated"):
        dec.evaluate(**dict(P, s=[1.0, 3.5, 2.0], w=[1.0, 2.5, -1.5]))
    with pytest.raises(ValueError, match="t_S.*Sigma_S, Sigma_T > 0"):
        aligned_decomposition("weight", d=3).evaluate(**dict(P, t_S=0.0))
    with pytest.raises(ValueError, match="backend='jax'"):
        dec.lambdify("jax")
    with pytest.raises(ValueError, match="name='sigma'"):
        dec.diff("sigma")


def test_ordering_is_checked_elementwise_on_grids():
    dec = aligned_decomposition("convexity", d=2, rank=1, expectation=False)
    w1 = np.array([3.0, 0.5])  # second grid point puts mode 2 on top
    with pytest.raises(ValueError, match="ordering"):
        dec.evaluate(**dict(P, s=[2.0, 2.0], w=[w1, 1.0]))
    out = dec.evaluate(**dict(P, s=[2.0, 2.0], w=[np.array([3.0, 2.0]), 1.0]))
    assert out["total"].shape == (2,)


def test_spectra_as_individual_names():
    dec = aligned_decomposition("convexity", d=2)
    a = dec.evaluate(**dict(P, s=[2.0, 1.0], w=[1.0, 0.5]))
    vals = {k: v for k, v in P.items() if k not in ("s", "w")}
    b = dec.evaluate(**vals, s_1=2.0, s_2=1.0, w_1=1.0, w_2=0.5)
    assert a == b


# ----------------------------------------------------------------------------- structure
def test_cache_returns_same_object_and_parts_sum():
    a = aligned_decomposition("predictive", d=3, rank=1)
    assert aligned_decomposition("predictive", "student||teacher", True, "population",
                                 d=3, rank=1) is a
    assert aligned_decomposition("predictive", d=3, rank=5) is aligned_decomposition("predictive", d=3)
    assert sp.expand(a.total - a.bias - a.variance - a.rank) == 0
    assert set(a.symbols) >= {"k", "nu", "tau", "lambda_T", "lambda_S", "t_T", "t_S", "s", "w", "s_1"}
    assert a.symbols["lambda_T"].is_nonnegative and a.symbols["s_1"].is_positive


def test_derivation_is_recorded_and_reduces_matrices_per_mode():
    dec = aligned_decomposition("predictive", d=2)
    text = dec.derivation()
    for needle in ("A_T = X X^{\\top} + \\lambda_T I_d", "V_T = \\tau^{2} I_n", "Covariance part",
                   "Rank bottleneck", "complement contributes"):
        assert needle in text
    # The V_T step's per-mode scalar is tau^2 + t_T nu^2 h_j (check numerically).
    step = next(s for s in dec.steps if s.title.startswith("Teacher predictive"))
    S = dec._S
    val = float(step.mode.subs({S.s_j: 2.0, S.lambda_T: 0.5, S.nu: 0.7, S.t_T: 1.3, S.tau: 0.9}))
    assert abs(val - (0.81 + 1.3 * 0.49 * 2.0 / 2.5)) < 1e-14


def test_variance_is_independent_of_means_and_nonnegative():
    for kind in ("predictive", "convexity", "weight"):
        dec = aligned_decomposition(kind, d=3)
        free = {str(s) for s in dec.variance.free_symbols}
        assert not free & {"w_1", "w_2", "w_3"}
        rng = np.random.default_rng(0)
        v = dec.lambdify()(**dict(P, nu=rng.uniform(0.1, 2, 50), t_S=rng.uniform(0.01, 2, 50),
                                  lambda_S=rng.uniform(0, 3, 50)))
        assert np.all(v["variance"] >= -1e-12) and np.all(v["bias"] >= -1e-12)


def test_gaps_errors_and_ordering():
    g = generalization_gaps(d=3, rank=1)
    with pytest.raises(ValueError, match="missing values for n"):
        g.evaluate(**P)
    with pytest.raises(ValueError, match="ordering"):
        g.evaluate(**dict(P, n=6, s=[1.0, 3.5, 2.0], w=[1.0, 2.5, -1.5]))
    assert not g.exact and generalization_gaps(d=3).exact


# ----------------------------------------------------------------------------- LaTeX
def _well_formed(tex):
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += ch == "{"
        depth -= ch == "}"
        assert depth >= 0
    assert depth == 0
    envs = re.findall(r"\\(begin|end)\{([^}]*)\}", tex)
    stack = []
    for kind, name in envs:
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name
    assert not stack
    assert tex.count(r"\left") == tex.count(r"\right")


def test_paper_printer_conventions():
    A = sp.MatrixSymbol("Sigma_T", 3, 3)
    tau = sp.Symbol("tau")
    assert paper_latex(sp.Determinant(A)) == r"\det\left(\Sigma_{T}\right)"
    assert r"\operatorname{tr}" in paper_latex(sp.Trace(A))
    assert r"\ln" in paper_latex(sp.log(tau))
    assert paper_latex(sp.Symbol("lambda_T")) == r"\lambda_{T}"


@pytest.mark.parametrize("kind", ["predictive", "convexity", "weight"])
def test_decomposition_latex_is_well_formed(kind):
    for rank in (None, 1):
        tex = aligned_decomposition(kind, d=3, rank=rank).latex()
        _well_formed(tex)
        assert tex.startswith(r"\begin{align*}")
        for part in ("variance", "bias", "rank"):
            assert r"\mathrm{" + part + "}" in tex
        assert r"\nu" in tex and r"\tau" in tex and r"\lambda_{T}" in tex
    assert r"\le" in aligned_decomposition(kind, d=3, rank=1).latex()  # oracle bound
    tex = aligned_decomposition(kind, d=3, rank=1, expectation=False).latex()
    assert r"\sum_{j=1}^{r}" in tex and r"\sum_{j=r + 1}^{d}" in tex


def test_export_latex_writes_snippet_and_standalone(tmp_path):
    decs = [aligned_decomposition("predictive", d=2, rank=1),
            aligned_decomposition("weight", "teacher||student", d=2)]
    files = export_latex(decs, tmp_path / "decomp.tex")
    assert [f.name for f in files] == ["decomp.tex", "decomp_standalone.tex"]
    for f in files:
        _well_formed(f.read_text())
    doc = files[1].read_text()
    assert doc.startswith(r"\documentclass") and doc.rstrip().endswith(r"\end{document}")
    if shutil.which("pdflatex"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", files[1].name],
                             cwd=tmp_path, capture_output=True, timeout=60)
        assert run.returncode == 0, run.stdout[-2000:]


def test_gaps_latex_well_formed():
    _well_formed(generalization_gaps(d=2, rank=1).latex())


# ----------------------------------------------------------------------------- lazy import
def test_import_gaussdistill_does_not_import_sympy():
    code = ("import sys, gaussdistill; assert 'sympy' not in sys.modules, 'sympy imported'; "
            "gaussdistill.symbolic.aligned_decomposition; assert 'sympy' in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_docstring_examples_run():
    import doctest

    import gaussdistill.symbolic as sym
    import gaussdistill.symbolic.decomposition as dmod
    for mod in (sym, dmod):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0


def test_sympy_latex_protocol_and_derivative_latex():
    dec = aligned_decomposition("predictive", d=2)
    assert sp.latex(dec) == dec.latex()
    tex = dec.diff("tau").latex()
    _well_formed(tex)
    assert r"{\partial \tau}" in tex
    _well_formed(dec.diff("s_1").latex())
