"""One version string: pyproject's, which the installed package reports and both crates repeat."""

from __future__ import annotations

import re
from pathlib import Path

import sketchy

ROOT = Path(__file__).parents[2]


def declared_version(path: Path) -> str:
    """The first ``version = "..."`` of a TOML file's package table."""
    match = re.search(r'^version = "([^"]+)"', path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, path
    return match.group(1)


def test_the_package_and_the_crates_have_pyproject_s_version():
    version = declared_version(ROOT / "pyproject.toml")
    assert sketchy.__version__ == version
    assert declared_version(ROOT / "Cargo.toml") == version
    assert declared_version(ROOT / "rust" / "core" / "Cargo.toml") == version
