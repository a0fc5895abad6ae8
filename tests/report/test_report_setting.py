"""Settings files: parsed (tomllib/json), never evaluated; every bad key or value named."""
from __future__ import annotations

import json

import pytest

import gaussdistill as gd
from gaussdistill.report import DEFAULT_SETTING, Setting, load_setting, setting_from_mapping


def test_default_setting_is_the_example_problem():
    s = DEFAULT_SETTING
    assert (s.k, s.d, s.n, s.rank, s.noise, s.tau, s.student) == (6, 8, 200, 2, 0.5, 0.5, "population")
    p, q = s.problem(), gd.example_problem()
    assert (p.Y == q.Y).all() and (p.w_star == q.w_star).all()


def test_toml_and_json_give_the_same_setting(tmp_path):
    (tmp_path / "a.toml").write_text('k = 3\nd = 4\nn = 30\nrank = 1\nnoise = 0.25\n'
                                     'student = "shrinkage"\nn_grid = [40, 10, 20]\n')
    (tmp_path / "a.json").write_text(json.dumps({"k": 3, "d": 4, "n": 30, "rank": 1, "noise": 0.25,
                                                 "student": "shrinkage", "n_grid": [40, 10, 20]}))
    a, b = load_setting(tmp_path / "a.toml"), load_setting(tmp_path / "a.json")
    assert a == b == Setting(k=3, d=4, n=30, rank=1, noise=0.25, student="shrinkage",
                             n_grid=(10, 20, 40))
    assert a.tau == 0.25 and a.n_grid == (10, 20, 40)
    assert Setting(**{k: v for k, v in a.to_dict().items()}) == a     # round trip


@pytest.mark.parametrize("text, key", [
    ('foo = 1', "'foo'"),
    ('noise = "0.5"', "'noise'"),
    ('noise = -1.0', "'noise'"),
    ('noise = 0', "'noise'"),
    ('noise = nan', "'noise'"),
    ('teacher_lam = inf', "'teacher_lam'"),
    ('student_lam = true', "'student_lam'"),
    ('k = 2.5', "'k'"),
    ('k = 0', "'k'"),
    ('rank = 9', "'rank'"),                  # > min(k, d) = 6
    ('student = "oracle"', "'student'"),
    ('n_grid = [10]', "'n_grid'"),
    ('n_grid = "10, 20"', "'n_grid'"),
    ('n_grid = [10, -1]', "'n_grid'"),
    ('replicates = 1', "'replicates'"),
    ('noise = "__import__(\'os\').system(\'touch /tmp/h7_pwned\')"', "'noise'"),
    ('[noise]\nvalue = 1', "'noise'"),
    ('teacher_lam = 0.0\nn_grid = [4, 50]', "'teacher_lam'"),     # n = 4 < d = 8: X X^T singular
    ('student_lam = 0\nn = 5', "'student_lam'"),
])
def test_bad_keys_and_values_name_the_key(tmp_path, text, key):
    path = tmp_path / "s.toml"
    path.write_text(text + "\n")
    with pytest.raises(gd.GaussDistillError, match=key) as info:
        load_setting(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("name, text, needle", [
    ("s.toml", "k = = 3", "not valid TOML"),
    ("s.json", "{\"k\": 3,", "not valid JSON"),
    ("s.json", "[1, 2]", "table of keys"),
    ("s.json", '{"noise": NaN}', "'noise'"),
    ("s.json", '{"noise": Infinity}', "'noise'"),
    ("s.yaml", "k: 3", ".toml or .json"),
])
def test_bad_files_say_why(tmp_path, name, text, needle):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(gd.GaussDistillError, match=needle):
        load_setting(path)


def test_missing_file():
    with pytest.raises(gd.GaussDistillError, match="does not exist"):
        load_setting("/nonexistent/setting.toml")


def test_mapping_and_replace_validate_too():
    with pytest.raises(gd.GaussDistillError, match="'seed'"):
        setting_from_mapping({"seed": -3})
    with pytest.raises(gd.GaussDistillError, match="'bogus'"):
        DEFAULT_SETTING.replace(bogus=1)
    assert DEFAULT_SETTING.replace(rank=1).rank == 1 and DEFAULT_SETTING.rank == 2
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_SETTING.rank = 3          # frozen


def test_a_failing_sweep_point_is_named():
    from gaussdistill.report import tables

    with pytest.raises(gd.GaussDistillError, match="sweeping rank=9"):
        tables.decomposition_sweep(Setting(k=3, d=4, n=20), "rank", [1, 9])

