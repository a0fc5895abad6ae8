"""The README's Python examples run as written (in a temporary folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1).strip().splitlines()
    assert first_block[0] == "pip install . && gaussdistill example"
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
