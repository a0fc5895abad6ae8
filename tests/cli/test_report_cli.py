"""`gaussdistill report`, `simulate` and `sweep` end to end on small settings (in-process).

Numbers in the written tables are compared with the library called directly; bad settings
files and flags must end with exit status 2, one line on stderr naming the key or flag, and
nothing half-written in the output folder.
"""
from __future__ import annotations

import json
import os

import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.cli import main
from gaussdistill.report import Setting

SMALL_TOML = 'k = 3\nd = 4\nn = 30\nrank = 1\nnoise = 0.4\nstudent_lam = 0.2\nseed = 1\n' \
             'replicates = 40\nn_grid = [10, 20]\n'
SMALL = Setting(k=3, d=4, n=30, rank=1, noise=0.4, student_lam=0.2, seed=1, replicates=40, n_grid=(10, 20))


@pytest.fixture
def setting_file(tmp_path):
    path = tmp_path / "setting.toml"
    path.write_text(SMALL_TOML)
    return path


def test_report_end_to_end(tmp_path, setting_file, capsys):
    out = tmp_path / "rep"
    # The simulated bounds, closed forms and PDF are checked in tests/report (same writer).
    rc = main(["report", str(setting_file), "--out", str(out), "--no-pdf", "--no-symbolic",
               "--no-simulate", "--progress", "never", "--set", "student_lam=0.2"])
    stdout = capsys.readouterr().out
    assert rc == 0
    assert f"wrote {out}/" in stdout and "K^Y  predictive" in stdout and "bounds (simulator" not in stdout
    table = pd.read_csv(out / "tables" / "decomposition.csv", keep_default_na=False)
    p = gd.example_problem(k=3, d=4, n=30, rank=1, noise=0.4, student_lam=0.2, seed=1)
    for _, row in table.iterrows():
        res = gd.divergence(p.student, p.teacher, p.X, 0.4, row["kind"], row["direction"])
        assert row["total"] == float(res.total)
    assert json.loads((out / "setting.json").read_text()) == SMALL.to_dict()
    for name in ("figures/tradeoff_rank_student_lam.png", "figures/decomposition_vs_rank.pdf", "report.tex"):
        assert (out / name).stat().st_size > 0


@pytest.mark.parametrize("text, needles", [
    ("k = 3\nbogus = 1\n", ["'bogus'"]),
    ("k = 3\nnoise = -0.5\n", ["'noise'", "> 0"]),
    ("k = 3\nrank = 7\n", ["'rank'"]),
    ('k = 3\nstudent = "__import__(\'os\')"\n', ["'student'"]),
    ("k = = 3\n", ["not valid TOML"]),
])
def test_report_bad_settings_file(tmp_path, capsys, text, needles, one_error_line):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out)]) == 2
    one_error_line("gaussdistill: error:", str(path), *needles)
    assert sorted(os.listdir(tmp_path)) == ["bad.toml"]          # nothing written, no temp folder


@pytest.mark.parametrize("argv, needles", [
    (["--set", "rank=abc"], ["--set", "'rank'"]),
    (["--set", "nosuchkey=1"], ["--set", "'nosuchkey'"]),
    (["--set", "noise=__import__('os')"], ["--set noise"]),
    (["/nonexistent/s.toml"], ["does not exist"]),
    (["s.yaml"], [".toml or .json"]),
    (["--progress", "sometimes"], ["--progress"]),
])
def test_report_bad_flags(tmp_path, capsys, argv, needles, one_error_line):
    out = tmp_path / "rep"
    with pytest.raises(SystemExit) if "--progress" in argv else _nullcontext():
        assert main(["report", *argv, "--out", str(out)]) == 2
    one_error_line(*needles)
    assert not out.exists()


def test_report_refuses_a_foreign_out_folder(tmp_path, setting_file, capsys, one_error_line):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "paper.tex").write_text("keep me")
    assert main(["report", str(setting_file), "--out", str(mine), "--no-pdf"]) == 2
    one_error_line("--out", "not a gaussdistill report folder")
    assert os.listdir(mine) == ["paper.tex"]


def test_simulate_end_to_end(tmp_path, setting_file, capsys):
    csv = tmp_path / "bounds.csv"
    assert main(["simulate", str(setting_file), "--out", str(csv), "--progress", "never"]) == 0
    stdout = capsys.readouterr().out
    assert "valid bounds held" in stdout and f"wrote {csv}" in stdout
    direct = gd.simulate(SMALL.case_study(), replicates=40, seed=1)
    written = pd.read_csv(csv)
    assert written["value"].tolist() == pytest.approx(direct["value"].tolist(), rel=1e-15, nan_ok=True)
    assert written["observed"].tolist() == pytest.approx(direct["observed"].tolist(), rel=1e-15)
    assert main(["simulate", str(setting_file), "--json", "--replicates", "20", "--seed", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    again = gd.simulate(SMALL.replace(replicates=20, seed=5).case_study(), replicates=20, seed=5)
    exact = again[again["ingredients"] != "estimated"]
    assert [r["value"] for r in data["bounds"]] == pytest.approx(exact["value"].tolist(), rel=1e-15)
    assert data["setting"]["seed"] == 5


@pytest.mark.parametrize("argv, needles", [
    (["--out", "x.xlsx"], ["--out", ".csv, .json or .parquet"]),
    (["--set", "student=nobody"], ["--set", "'student'"]),
    (["--set", "teacher_lam=-1"], ["--set", "'teacher_lam'"]),
])
def test_simulate_bad_flags(tmp_path, capsys, argv, needles, one_error_line):
    assert main(["simulate", *argv]) == 2
    one_error_line(*needles)


def test_simulate_replicates_below_two_is_an_argparse_error(capsys, one_error_line):
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--replicates", "1"])
    assert info.value.code == 2
    one_error_line("--replicates")


def test_sweep_end_to_end(tmp_path, setting_file, capsys):
    import matplotlib.image as mpimg

    out = tmp_path / "sw"
    rc = main(["sweep", str(setting_file), "--grid", "student_lam=0.1,1.0", "--replicates", "20",
               "--out", str(out), "--format", "csv", "--format", "parquet", "--progress", "never"])
    assert rc == 0
    assert "smallest simulated gen_S" in capsys.readouterr().out
    written = pd.read_parquet(out / "sweep.parquet")
    direct = gd.sweep({"student_lam": [0.1, 1.0]}, base=SMALL.case_study(), replicates=20, seed=1)
    assert written["value"].tolist() == pytest.approx(direct["value"].tolist(), rel=1e-15, nan_ok=True)
    assert pd.read_csv(out / "sweep.csv")["quantity"].tolist() == direct["quantity"].tolist()
    h, w = mpimg.imread(out / "figures" / "bounds_vs_student_lam.png").shape[:2]
    assert (w, h) == (960, 600)
    assert (out / "figures" / "divergences_vs_student_lam.pdf").stat().st_size > 0


def test_sweep_grid_file_and_scheduler_pass_through(tmp_path, setting_file, capsys, monkeypatch):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"rank": [0, 1], "student_lam": [0.1, 1.0]}))
    seen = {}
    real = gd.sweep

    def spy(grid, base, replicates, seed, client=None, progress=None):
        seen.update(grid=grid, client=client, replicates=replicates, seed=seed)
        return real(grid, base=base, replicates=replicates, seed=seed, progress=False)

    monkeypatch.setattr(gd, "sweep", spy)
    from gaussdistill.cli import sweep as sweep_cli

    monkeypatch.setattr(sweep_cli, "check_scheduler", lambda address: None)  # no scheduler listens here
    out = tmp_path / "sw"
    assert main(["sweep", str(setting_file), "--grid-file", str(grid), "--replicates", "10",
                 "--scheduler", "tcp://127.0.0.1:1", "--out", str(out), "--no-figures"]) == 0
    assert seen == {"grid": {"rank": [0, 1], "student_lam": [0.1, 1.0]},
                    "client": "tcp://127.0.0.1:1", "replicates": 10, "seed": 1}
    assert len(pd.read_csv(out / "sweep.csv")["setting"].unique()) == 4


@pytest.mark.parametrize("argv, needles", [
    (["--grid", "rank=0,9"], ["--grid", "rank"]),
    (["--grid", "bogus=1,2"], ["--grid", "'bogus'"]),
    (["--grid", "rank"], ["--grid", "KEY=VALUE"]),
    (["--grid", "noise=1,__import__('os')"], ["--grid noise"]),
    ([], ["no grid"]),
    (["--grid-file", "GRIDFILE"], ["grid file", "'rank'"]),
])
def test_sweep_bad_grids(tmp_path, setting_file, capsys, argv, needles, one_error_line):
    gridfile = tmp_path / "g.toml"
    gridfile.write_text('rank = "0, 1"\n')
    argv = [str(gridfile) if a == "GRIDFILE" else a for a in argv]
    out = tmp_path / "sw"
    assert main(["sweep", str(setting_file), *argv, "--out", str(out)]) == 2
    one_error_line(*needles)
    assert not out.exists()
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".gaussdistill")]


@pytest.mark.parametrize("command", ["report", "simulate", "sweep"])
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"gaussdistill {command}" in text


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.slow
def test_sweep_on_a_dask_scheduler_equals_in_process(tmp_path, setting_file, capsys):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        out = tmp_path / "sw"
        assert main(["sweep", str(setting_file), "--grid", "rank=0,1", "--replicates", "10",
                     "--scheduler", cluster.scheduler_address, "--out", str(out), "--no-figures"]) == 0
    local = gd.sweep({"rank": [0, 1]}, base=SMALL.case_study(), replicates=10, seed=1)
    remote = pd.read_csv(out / "sweep.csv")
    assert remote["value"].tolist() == pytest.approx(local["value"].tolist(), rel=1e-15, nan_ok=True)


@pytest.mark.slow
def test_default_report_from_a_fresh_process(tmp_path):
    import shutil
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "gaussdistill", "report", "--out", "rep"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "wrote rep/" in proc.stdout and "valid bounds held" in proc.stdout
    assert (tmp_path / "rep" / "equations" / "closed_forms.tex").stat().st_size > 0
    assert (tmp_path / "rep" / "report.pdf").exists() == bool(shutil.which("pdflatex"))
