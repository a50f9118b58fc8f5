"""Every module of the package, the tests and the benchmarks says its room in one paragraph.

A module docstring is a summary line and at most one paragraph after it (two blocks separated
by a blank line): measurements and history go to BENCHMARKS.md and docs/, a benchmark's
protocol to its ``--help`` or bench/README.md (issue 16). The files are parsed, not imported,
so the check is cheap and runs without the benchmarks' optional dependencies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("src/ethogram", "tests", "bench")
MAX_BLOCKS = 2


def _python_files():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if any(part.startswith(".") or part == "__pycache__" for part in parts):
                continue  # virtual environments (bench/.venv-moseq) and caches
            yield path


def _blocks(docstring: str) -> list[str]:
    return [block for block in re.split(r"\n[ \t]*\n", docstring.strip()) if block.strip()]


def test_the_walk_finds_the_package_the_tests_and_the_benchmarks():
    found = {path.relative_to(ROOT).as_posix() for path in _python_files()}
    for expected in (
        "src/ethogram/__init__.py",
        "tests/test_module_docstrings.py",
        "bench/_common.py",
    ):
        assert expected in found


def test_every_module_has_a_docstring_of_one_paragraph():
    missing, long = [], []
    for path in _python_files():
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        name = path.relative_to(ROOT).as_posix()
        if not docstring:
            missing.append(name)
        elif len(_blocks(docstring)) > MAX_BLOCKS:
            long.append(f"{name} ({len(_blocks(docstring))} blocks)")
    assert not missing, "modules without a docstring: " + ", ".join(missing)
    assert not long, (
        "module docstrings longer than a summary line and one paragraph (move measurements and "
        "history to BENCHMARKS.md or docs/, usage to --help or bench/README.md): " + ", ".join(long)
    )


def test_the_block_count_sees_blank_lines_with_spaces():
    assert len(_blocks("Summary.\n\nOne paragraph\nover two lines.")) == 2
    assert len(_blocks("Summary.\n  \nFirst.\n\nSecond.")) == 3
