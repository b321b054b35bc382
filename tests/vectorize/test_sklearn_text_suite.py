"""scikit-learn's own HashingVectorizer tests (``sklearn/feature_extraction/tests/test_text.py`` of
the installed version), run against ``sketchy.HashingVectorizer``.

Every test of that file that uses ``HashingVectorizer`` runs here with sketchy's class in its place:
the module's global name is swapped, and parametrized tests get their HashingVectorizer cases with
the class (or an instance rebuilt from its parameters) replaced. Cases for other vectorizers are left
out. Tests that check what sketchy deliberately does differently are listed in ``DIFFERENT``.
"""

from __future__ import annotations

import inspect

import pytest

sk_tests = pytest.importorskip("sklearn.feature_extraction.tests.test_text")
from sklearn.feature_extraction.text import HashingVectorizer as SKHashingVectorizer  # noqa: E402

from sketchy import HashingVectorizer  # noqa: E402

# Deliberate differences (documented in sketchy.HashingVectorizer), not bugs.
DIFFERENT: dict[str, str] = {}


def _swap(value):
    if value is SKHashingVectorizer:
        return HashingVectorizer
    if isinstance(value, SKHashingVectorizer):
        return HashingVectorizer(**value.get_params())
    if isinstance(value, tuple):
        return tuple(_swap(v) for v in value)
    if isinstance(value, list):
        return [_swap(v) for v in value]
    return value


def _uses_hashing(value) -> bool:
    if value is SKHashingVectorizer or isinstance(value, SKHashingVectorizer):
        return True
    if isinstance(value, tuple | list):
        return any(_uses_hashing(v) for v in value)
    return False


def _cases():
    cases = []
    for name, func in inspect.getmembers(sk_tests, inspect.isfunction):
        if not name.startswith("test_") or func.__module__ != sk_tests.__name__:
            continue
        source = inspect.getsource(func)
        marks = [m for m in getattr(func, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            if "HashingVectorizer" in source:
                cases.append(pytest.param(func, {}, id=name))
            continue
        if len(marks) > 1:
            continue  # stacked parametrizations: none of them is about HashingVectorizer alone
        argnames, values = marks[0].args[0], marks[0].args[1]
        names = [a.strip() for a in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        for i, value in enumerate(values):
            raw = value.values if hasattr(value, "values") else (value if len(names) > 1 else (value,))
            if _uses_hashing(raw):
                kwargs = dict(zip(names, _swap(tuple(raw)), strict=True))
                cases.append(pytest.param(func, kwargs, id=f"{name}[{i}]"))
    return cases


@pytest.mark.parametrize(("test", "kwargs"), _cases())
def test_scikit_learn_suite(test, kwargs, monkeypatch, request):
    if test.__name__ in DIFFERENT:
        pytest.skip(DIFFERENT[test.__name__])
    monkeypatch.setattr(sk_tests, "HashingVectorizer", HashingVectorizer)
    fixtures = {
        name: request.getfixturevalue(name)
        for name in inspect.signature(test).parameters
        if name not in kwargs
    }
    test(**kwargs, **fixtures)
