"""write_report end to end on a small setting: files, numbers, figure sizes, atomicity, PDF."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.report import Setting, write_report, writer

SMALL = Setting(k=3, d=4, n=30, rank=1, noise=0.4, student_lam=0.2, seed=1, replicates=50,
                n_grid=(10, 20, 40))
HAS_PDFLATEX = shutil.which("pdflatex") is not None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report"
    return write_report(SMALL, out, compile=HAS_PDFLATEX, progress=False)


def test_files_exist_and_are_not_empty(report):
    expected = {"report.tex", "setting.json", "tables/decomposition.csv", "tables/decomposition.json",
                "tables/decomposition.tex", "tables/sweeps.csv", "equations/closed_forms.tex",
                "tables/bounds.csv", "tables/bounds.json", "tables/bounds.tex",
                "figures/bounds_vs_n.png", "figures/tradeoff_rank_student_lam.pdf"}
    expected |= {f"figures/decomposition_vs_{p}.{e}" for p in ("rank", "student_lam", "soft_noise", "n")
                 for e in ("png", "pdf")}
    assert expected <= set(report.files)
    for name in report.files:
        assert os.path.getsize(os.path.join(report.folder, name)) > 0, name
    assert not [f for f in os.listdir(os.path.dirname(report.folder)) if f.startswith(".gaussdistill")]


def test_decomposition_table_equals_the_library(report):
    table = pd.read_csv(os.path.join(report.folder, "tables", "decomposition.csv"), keep_default_na=False)
    p = gd.example_problem(k=3, d=4, n=30, rank=1, noise=0.4, student_lam=0.2, seed=1)
    for _, row in table.iterrows():
        res = gd.divergence(p.student, p.teacher, p.X, 0.4, row["kind"], row["direction"])
        assert [row[c] for c in ("variance", "rank", "bias", "total")] == \
            [float(getattr(res, c)) for c in ("variance", "rank", "bias", "total")]
    assert json.loads(open(os.path.join(report.folder, "setting.json")).read()) == SMALL.to_dict()
    assert "K^Y" in report.summary and report.folder in report.summary


def test_figures_have_the_expected_pixel_size(report):
    import matplotlib.image as mpimg

    def size(name):
        h, w = mpimg.imread(os.path.join(report.folder, "figures", name)).shape[:2]
        return w, h

    assert size("tradeoff_rank_student_lam.png") == (960, 600)          # 6.4 x 4 in at 150 dpi
    assert size("bounds_vs_n.png") == (960, 600)
    assert size("decomposition_vs_rank.png") == (1950, 570)             # 13 x 3.8 in at 150 dpi


def test_bounds_table_is_the_simulators(report):
    bounds = pd.read_csv(os.path.join(report.folder, "tables", "bounds.csv"))
    direct = gd.simulate(SMALL.case_study(), replicates=50, seed=1)   # the same seed: bit for bit
    assert bounds["bound"].tolist() == direct["bound"].tolist()
    for col in ("value", "observed", "stderr"):
        assert bounds[col].tolist() == pytest.approx(direct[col].tolist(), rel=1e-15, nan_ok=True)
    assert bounds["holds"].tolist() == direct["holds"].tolist()
    by_n = pd.read_csv(os.path.join(report.folder, "tables", "bounds_vs_n.csv"))
    assert sorted(by_n["n"].unique()) == [10, 20, 40]


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is not installed (CI installs texlive)")
def test_report_pdf_compiles_fits_the_page_and_is_not_blank(report, tmp_path):
    assert report.pdf and os.path.getsize(report.pdf) > 10_000
    info = subprocess.run(["pdfinfo", report.pdf], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 2 <= pages <= 30
    log = open(os.path.join(report.folder, "report.log"), encoding="latin-1").read()
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert sum(x > 5.0 for x in overfull) == 0, f"overfull boxes (pt): {overfull}"
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", report.pdf,
                    str(tmp_path / "page")], check=True)
    import matplotlib.image as mpimg

    png = [f for f in os.listdir(tmp_path) if f.startswith("page")][0]
    pixels = mpimg.imread(tmp_path / png)
    assert pixels.std() > 0.05                       # text and a table, not a blank page


@pytest.fixture
def no_figures(monkeypatch):
    """Skip drawing (the figures are checked on the module's report): folder logic only."""
    def save(fig, folder, stem):
        for ext in ("png", "pdf"):
            with open(os.path.join(folder, "figures", f"{stem}.{ext}"), "w") as fh:
                fh.write("stub")
    monkeypatch.setattr(writer, "save_figure", save)
    monkeypatch.setattr(writer.plots, "plot_decomposition", lambda *a, **k: None)
    monkeypatch.setattr(writer.plots, "plot_tradeoff", lambda *a, **k: None)


def test_a_failure_leaves_nothing_half_written(tmp_path, monkeypatch, no_figures):
    out = tmp_path / "rep"

    def boom(*args, **kwargs):
        raise gd.GaussDistillError("plot_tradeoff: broken on purpose")   # after tables and sweeps

    monkeypatch.setattr(writer.plots, "plot_tradeoff", boom)
    with pytest.raises(gd.GaussDistillError, match="on purpose"):
        write_report(SMALL, out, compile=False, progress=False, simulate=False, symbolic=False)
    assert os.listdir(tmp_path) == []


def test_previous_report_is_replaced_bit_for_bit_and_a_foreign_folder_is_kept(tmp_path, no_figures):
    kw = dict(compile=False, progress=False, simulate=False, symbolic=False)
    out = tmp_path / "rep"
    first = write_report(SMALL, out, **kw)
    names = ("tables/decomposition.csv", "tables/sweeps.csv", "tables/decomposition.tex")
    before = {name: (out / name).read_bytes() for name in names}
    (out / "stale.txt").write_text("from an older report")
    second = write_report(SMALL, out, **kw)
    assert not (out / "stale.txt").exists() and first.folder == second.folder
    assert {name: (out / name).read_bytes() for name in names} == before     # reproducible
    assert sorted(os.listdir(tmp_path)) == ["rep"]                            # no temporary left
    assert np.isfinite(pd.read_csv(out / "tables/sweeps.csv")["value"]).all()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(gd.GaussDistillError, match="not a gaussdistill report folder"):
        write_report(SMALL, foreign, **kw)
    assert os.listdir(foreign) == ["thesis.tex"]
    with pytest.raises(gd.GaussDistillError, match="does not exist"):
        write_report(SMALL, tmp_path / "no" / "such" / "dir", **kw)


def test_without_pdflatex_the_folder_is_written_and_says_how_to_compile(tmp_path, monkeypatch, no_figures):
    monkeypatch.setattr(writer.document.shutil, "which", lambda name: None)
    result = write_report(SMALL, tmp_path / "rep", progress=False, simulate=False, symbolic=False)
    assert result.pdf is None and "report.pdf" not in result.files
    assert "pdflatex report.tex" in result.compile_message and "apt-get install" in result.compile_message
    assert result.compile_message in result.summary and "report.tex" in result.files


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is not installed (CI installs texlive)")
def test_a_latex_error_is_reported_not_raised(tmp_path, monkeypatch, no_figures):
    monkeypatch.setattr(writer.document, "build_document",
                        lambda **kw: "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    result = write_report(SMALL, tmp_path / "rep", progress=False, simulate=False, symbolic=False)
    assert result.pdf is None and "pdflatex failed" in result.compile_message
    assert "report.log" in result.files and "tables/decomposition.csv" in result.files
