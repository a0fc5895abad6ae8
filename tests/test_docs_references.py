"""Every reference from the code to the documentation resolves, and the code cites nothing a
reader of the repository cannot open.

Citation format, the only one used in docstrings, comments and messages::

    docs/mathematics.md §2.3        (a file under docs/ and a numbered heading in it)
    docs/mathematics.md §2.2–2.3    (a range: both ends must exist)

A heading "### 2.3 Bias, ..." or "## 2. The ..." defines the section numbers 2.3 and 2.
Docstrings and comments must not cite the project's planning material (MATH x.y, STYLE,
REFERENCES, SEED, issue numbers) or any file outside the repository.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

import gaussdistill as gd

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gaussdistill"
DOCS = ROOT / "docs"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)

REFERENCE = re.compile(r"docs/([\w./-]+?\.md)(?:\s+§(\d+(?:\.\d+)*)(?:\s*[–-]\s*(\d+(?:\.\d+)*))?)?")
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.M)
FORBIDDEN = [
    (re.compile(r"\bMATH\b"), "cites MATH (not in the repository): cite docs/mathematics.md §N"),
    (re.compile(r"\bSTYLE\b"), "cites STYLE (not in the repository)"),
    (re.compile(r"\bREFERENCES\b"), "cites REFERENCES (not in the repository)"),
    (re.compile(r"\bSEED\.md\b"), "cites SEED.md (not in the repository)"),
    (re.compile(r"\bissues?\s*(?:#|no\.?\s*)?\d+", re.I), "cites an issue number"),
    (re.compile(r"(?<![\w.])/(?:work|tmp|home|root|Users)/"), "cites an absolute path outside the repository"),
    (re.compile(r"\bshared/docs\b"), "cites a file outside the repository"),
]
MARKDOWN_FILE = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")


def sections(markdown: Path) -> set[str]:
    return set(HEADING.findall(markdown.read_text(encoding="utf-8")))


def docstrings_and_comments(path: Path):
    """(line, text) for every docstring and every comment of a module."""
    source = path.read_text(encoding="utf-8")
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                out.append((body[0].lineno, body[0].value.value))
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
    return out


def reference_problems(text: str, where: str) -> list[str]:
    problems = []
    for match in REFERENCE.finditer(text):
        name, first, last = match.groups()
        target = DOCS / name
        if not target.is_file():
            problems.append(f"{where}: {match.group(0)!r}: docs/{name} does not exist")
            continue
        have = sections(target)
        for number in (first, last):
            if number and number not in have:
                problems.append(f"{where}: {match.group(0)!r}: docs/{name} has no section {number}")
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_module_cites_only_what_the_repository_holds(path):
    rel = path.relative_to(ROOT)
    problems = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        problems += reference_problems(line, f"{rel}:{lineno}")
    for lineno, text in docstrings_and_comments(path):
        for pattern, why in FORBIDDEN:
            for match in pattern.finditer(text):
                line = lineno + text.count("\n", 0, match.start())
                problems.append(f"{rel}:{line}: {why}: {match.group(0)!r}")
        for match in MARKDOWN_FILE.finditer(text):
            name = match.group(1)
            if not (ROOT / name).is_file():
                line = lineno + text.count("\n", 0, match.start())
                problems.append(f"{rel}:{line}: cites {name}, which is not a file of the repository")
    assert not problems, "\n".join(problems)


def test_docs_cross_references_resolve():
    problems = []
    for page in sorted(DOCS.glob("*.md")):
        problems += reference_problems(page.read_text(encoding="utf-8"), str(page.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


def test_mathematics_has_the_numbered_sections_the_code_relies_on():
    have = sections(DOCS / "mathematics.md")
    expected = {
        "1",
        "1.1",
        "1.2",
        "1.3",
        "2",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "3",
        "3.5",
        "4",
        "4.1",
        "4.2",
        "4.3",
        "4.4",
        "4.5",
        "5",
        "6",
    }
    assert expected <= have, sorted(expected - have)
    text = (DOCS / "mathematics.md").read_text(encoding="utf-8")
    assert "eq. (10)" in text and "eq. (11)" in text
    assert re.search(r"^## \d+\. Corrections to the specification", text, re.M)


def test_the_checker_catches_what_it_should(tmp_path):
    assert reference_problems("see docs/mathematics.md §2.3", "x") == []
    assert reference_problems("see docs/mathematics.md §2.2–2.3", "x") == []
    assert reference_problems("see docs/mathematics.md §9.9", "x")
    assert reference_problems("see docs/nothing.md §1", "x")
    module = tmp_path / "m.py"
    module.write_text('"""See MATH 2.3 and issue 12."""\n# STYLE.md §8\nx = 1  # fine\n')
    texts = " ".join(text for _, text in docstrings_and_comments(module))
    hits = [why for pattern, why in FORBIDDEN if pattern.search(texts)]
    assert len(hits) == 3


def test_api_page_lists_every_public_name():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [name for name in gd.__all__ if f"`{name}`" not in text]
    assert not missing, missing


def test_api_page_says_where_each_name_lives():
    """Each row `name` | what | `module`: the module exists and holds the name."""
    import importlib

    problems = []
    for line in (DOCS / "api.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[2].startswith("`gaussdistill"):
            continue
        module_name = cells[2].strip("`")
        names = re.findall(r"`(\w+)`", cells[0])
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            problems.append(f"{module_name}: {exc}")
            continue
        problems += [
            f"{module_name} has no {name}"
            for name in names
            if not (hasattr(module, name) or getattr(gd, name, None) is module)
        ]
    assert not problems, "\n".join(problems)
