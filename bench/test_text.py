"""sketchy.HashingVectorizer against scikit-learn's, on 5,000 docstrings of the standard library.

Targets (issue #13): the default configuration ≥ 10x scikit-learn on one thread, word (1, 2) ≥ 8x,
``char_wb`` (2, 4) ≥ 30x, a custom ``token_pattern`` ≥ 1.5x, ``transform_one`` in a loop ≥ 5x
scikit-learn's ``transform([doc])``. These run on all cores; ``SKETCHY_NUM_THREADS=1`` gives the
one-thread figures. Every sketchy case checks its matrix against scikit-learn's first.
"""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from sketchy import HashingVectorizer

text = pytest.importorskip("sklearn.feature_extraction.text")

CONFIGS = {
    "default": {},
    "word (1, 2)": {"ngram_range": (1, 2)},
    "char_wb (2, 4)": {"analyzer": "char_wb", "ngram_range": (2, 4)},
    "token_pattern r'(?u)\\b\\w+\\b'": {"token_pattern": r"(?u)\b\w+\b"},
}


@pytest.fixture(scope="session")
def docstrings() -> list[str]:
    """The first 5,000 docstrings (over 40 characters) of the standard library, in file order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs: list[str] = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        parts = path.relative_to(root).parts
        if "site-packages" in parts or "test" in parts or "tests" in parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    docs.append(doc)
        if len(docs) >= 5000:
            break
    return docs[:5000]


def same(a, b) -> bool:
    return (
        np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and a.data.tobytes() == b.data.tobytes()
    )


@pytest.mark.parametrize("name", CONFIGS)
def test_transform_sketchy(benchmark, docstrings, name):
    benchmark.group = f"text/HashingVectorizer {name}, 5000 docstrings"
    config = CONFIGS[name]
    assert same(
        HashingVectorizer(**config).transform(docstrings),
        text.HashingVectorizer(**config).transform(docstrings),
    )
    benchmark(HashingVectorizer(**config).transform, docstrings)


@pytest.mark.parametrize("name", CONFIGS)
def test_transform_sklearn(benchmark, docstrings, name):
    benchmark.group = f"text/HashingVectorizer {name}, 5000 docstrings"
    benchmark.pedantic(text.HashingVectorizer(**CONFIGS[name]).transform, (docstrings,), rounds=3)


@pytest.mark.benchmark(group="text/transform_one loop, 1000 docstrings")
def test_transform_one_sketchy(benchmark, call_each, docstrings):
    benchmark.pedantic(call_each, (HashingVectorizer().transform_one, docstrings[:1000]), rounds=5)


@pytest.mark.benchmark(group="text/transform_one loop, 1000 docstrings")
def test_transform_one_sklearn(benchmark, docstrings):
    vectorizer = text.HashingVectorizer()
    benchmark.pedantic(lambda: [vectorizer.transform([d]) for d in docstrings[:1000]], rounds=3)
