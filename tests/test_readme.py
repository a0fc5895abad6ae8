"""The README's Python examples run as written (in a temporary folder) and print what the
README shows; the README opens with the install/run and install/test commands, and its Layout
and Command line sections name every sub-package and subcommand."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
# a python block, then either a plain ``` block right after it (what it prints) or nothing
BLOCKS = re.findall(r"```python\n(.*?)```\n(?:\n```\n(.*?)```)?", TEXT, flags=re.S)
NUMBER = re.compile(r"^[-+−]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$", re.I)


def shown_output(code: str, block_after: str) -> list[str]:
    """What the README says a block prints: the plain block after it, or else the trailing
    ``# ...`` comment lines at column 0 after the last statement."""
    if block_after:
        lines = block_after.splitlines()
    else:
        lines = []
        for line in reversed(code.rstrip().splitlines()):
            if not line.startswith("# "):
                break
            lines.insert(0, line[2:])
    return [line.split() for line in lines if line.strip()]


def same_token(shown: str, printed: str) -> bool:
    """Equal words; numbers equal to 2% (the Monte Carlo blocks may differ in the last printed
    digit between BLAS builds; a wrong formula or a changed default is far outside that)."""
    if NUMBER.match(shown) and NUMBER.match(printed):
        a, b = float(shown.replace("−", "-")), float(printed)
        return math.isclose(a, b, rel_tol=0.02, abs_tol=2e-4)
    return shown == printed


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs_and_prints_what_the_readme_shows(index, tmp_path, monkeypatch):
    code, after = BLOCKS[index]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})
    shown = shown_output(code, after)
    printed = [line.split() for line in out.getvalue().splitlines() if line.strip()]
    if not shown:
        return
    assert len(printed) == len(shown), (shown, printed)
    for want, got in zip(shown, printed):
        assert len(want) == len(got) and all(map(same_token, want, got)), (want, got)


def test_readme_python_blocks_show_their_output():
    """Every block that prints shows what it prints (so the check above is not vacuous)."""
    assert len(BLOCKS) >= 6
    for code, after in BLOCKS:
        if "print(" in code:
            assert shown_output(code, after), code[:80]


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1).strip().splitlines()
    assert first_block[0] == "pip install . && gaussdistill report"
    assert first_block[1] == 'pip install ".[test]" && python -m pytest'


def section(title: str) -> str:
    """The text of the README's "## <title>" section ('' when there is none)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README.read_text(), flags=re.S | re.M)
    return match.group(1) if match else ""


def test_readme_layout_names_every_package():
    import gaussdistill

    root = Path(gaussdistill.__file__).parent
    packages = sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file())
    layout = section("Layout")
    assert layout, "README has no '## Layout' section"
    missing = [name for name in packages if f"{name}/" not in layout]
    assert not missing, f"packages missing from the README's Layout: {missing}"


def test_readme_command_line_names_every_subcommand():
    from gaussdistill import cli

    text = section("Command line")
    missing = [name for name in cli.SUBCOMMANDS if f"gaussdistill {name}" not in text]
    assert not missing, f"subcommands missing from the README's Command line section: {missing}"


def test_readme_links_resolve():
    """Every relative link of the README ([text](path)) names a file of the repository."""
    root = README.parent
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", TEXT)
    local = [link for link in links if "://" not in link]
    assert local, "the README links no documentation page"
    missing = [link for link in local if not (root / link).is_file()]
    assert not missing, missing


def test_readme_mentions_the_slow_marker_that_pyproject_defines():
    pyproject = (README.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "python -m pytest -m slow" in TEXT
    assert re.search(r'^\s*"slow:', pyproject, flags=re.M) and "not slow" in pyproject
