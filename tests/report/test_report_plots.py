"""The plotting functions: what they draw is the table's numbers, sizes, errors, no pyplot."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.report import plots


def _decomposition_frame():
    # Hand-made parts: the stack's top must be their sum, whatever the library says.
    rows = []
    for x, (var, rank, bias) in {0: (1.0, 5.0, 0.5), 1: (1.0, 2.0, 0.25), 2: (1.0, 0.0, 0.125)}.items():
        for part, value in (("variance", var), ("rank", rank), ("bias", bias)):
            rows.append({"parameter": "rank", "x": x, "kind": "predictive",
                         "direction": "student||teacher", "part": part, "value": value})
    return pd.DataFrame(rows)


def _png_size(ax, tmp_path, dpi=150):
    import matplotlib.image as mpimg

    path = tmp_path / "f.png"
    ax.figure.savefig(path, dpi=dpi)
    height, width = mpimg.imread(path).shape[:2]
    return width, height


def test_stacked_bars_reach_the_sum_of_the_parts(tmp_path):
    ax = plots.plot_decomposition(_decomposition_frame())
    tops = {}
    for patch in ax.patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), patch.get_y() + patch.get_height())
    assert tops == pytest.approx({0: 6.5, 1: 3.25, 2: 1.125})
    assert ax.get_xlabel() == "student rank $r$"
    assert ax.get_ylabel() == "$K^Y$ [nats]"
    assert _png_size(ax, tmp_path) == (960, 600)   # FIGSIZE 6.4 x 4 in at 150 dpi


def test_decomposition_of_a_library_sweep_draws_the_library_totals():
    setting = gd.report.Setting(k=3, d=4, n=30)
    frame = gd.report.tables.decomposition_sweep(setting, "student_lam", [0.1, 1.0, 10.0])
    ax = plots.plot_decomposition(frame, kind="convexity")
    top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()   # upper edge of the stack
    p = setting.problem(student_lam=10.0)
    expected = max(float(gd.divergence(setting.problem(student_lam=v).student,
                                       setting.problem(student_lam=v).teacher,
                                       p.X, p.soft_noise, "convexity").total)
                   for v in (0.1, 1.0, 10.0))
    assert top == pytest.approx(expected, rel=1e-12)
    assert ax.get_xscale() == "log" and "lambda_S" in ax.get_xlabel()


def test_tradeoff_marks_the_smallest_cell(tmp_path):
    rows = [{"rank": r, "student_lam": lam, "value": (r - 2) ** 2 + (np.log10(lam) + 1) ** 2 + 1}
            for r in range(5) for lam in (0.01, 0.1, 1.0, 10.0)]
    ax = plots.plot_tradeoff(pd.DataFrame(rows), x="rank", y="student_lam")
    star = [line for line in ax.lines if line.get_marker() == "*"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (2, 1)      # r = 2, lambda_S = 0.1
    assert "r$ = 2" in ax.get_title() and "0.1" in ax.get_title()
    assert ax.get_ylabel() == r"student ridge $\lambda_S$"


def test_bounds_plot_has_error_bars_and_lines(tmp_path):
    rows = []
    for n in (25, 50, 100):
        rows.append({"n": n, "label": "observed", "role": "observed", "value": 1 / n, "stderr": 0.1 / n})
        rows.append({"n": n, "label": "Thm 1", "role": "bound", "value": 3 / n, "stderr": np.nan})
    ax = plots.plot_bounds(pd.DataFrame(rows))
    assert ax.get_xlabel() == "sample size $n$"
    assert len(ax.containers) == 1                      # one errorbar container
    bound_line = [line for line in ax.lines if line.get_label() == "Thm 1"][0]
    assert list(bound_line.get_ydata()) == pytest.approx([0.12, 0.06, 0.03])
    assert _png_size(ax, tmp_path) == (960, 600)


def test_given_axes_are_used_and_returned():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    assert plots.plot_decomposition(_decomposition_frame(), ax=ax) is ax


@pytest.mark.parametrize("call, needle", [
    (lambda: plots.plot_decomposition(pd.DataFrame({"x": [1]})), "'parameter'"),
    (lambda: plots.plot_decomposition([1, 2]), "DataFrame"),
    (lambda: plots.plot_decomposition(_decomposition_frame(), kind="weight"), "kind='weight'"),
    (lambda: plots.plot_tradeoff(pd.DataFrame({"rank": [1], "student_lam": [1.0],
                                               "value": [np.inf]})), "no finite value"),
    (lambda: plots.plot_bounds(pd.DataFrame({"n": [1], "label": ["a"], "role": ["guess"],
                                             "value": [1.0]})), "'role'"),
])
def test_bad_tables_name_the_problem(call, needle):
    with pytest.raises(gd.GaussDistillError, match=needle.replace("$", r"\$").replace("(", r"\(")):
        call()


def test_plots_never_load_pyplot(tmp_path):
    code = ("import sys, gaussdistill as gd, pandas as pd\n"
            "from gaussdistill.report import plots, tables\n"
            "s = gd.report.Setting(k=2, d=2, n=10)\n"
            "ax = plots.plot_decomposition(tables.decomposition_sweep(s, 'rank', [0, 1, 2]), kind='weight')\n"
            "ax.figure.savefig(sys.argv[1])\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    # No DISPLAY and no MPLBACKEND: a GUI backend would fail; a bare Figure does not need one.
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "f.png")], check=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert (tmp_path / "f.png").stat().st_size > 1000


def _with_value(frame, column, value):
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[frame.index[0], column] = value
    return frame


@pytest.mark.parametrize("call, needle", [
    # a string in a number column was a raw ValueError from numpy; NaN was drawn as "infinite"
    (lambda: plots.plot_decomposition(_with_value(_decomposition_frame(), "value", "abc")), "'value'.*'abc'"),
    (lambda: plots.plot_decomposition(_with_value(_decomposition_frame(), "value", np.nan)), "'value' holds NaN"),
    (lambda: plots.plot_decomposition(_with_value(_decomposition_frame(), "x", "1; rm")), "'x'"),
    (lambda: plots.plot_tradeoff(pd.DataFrame({"rank": [0, 1], "student_lam": [1.0, 1.0],
                                               "value": [np.nan, 1.0]})), "'value' holds NaN"),
    (lambda: plots.plot_sweep(pd.DataFrame({"a": ["x", "y"], "total": [1.0, 2.0]}), x="a"), "'a'"),
])
def test_non_numbers_in_number_columns_are_named(call, needle):
    with pytest.raises(gd.GaussDistillError, match=needle):
        call()
