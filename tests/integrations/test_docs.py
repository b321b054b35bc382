"""Every example in the docstrings (Python modules and the compiled ``sketchy._native``) and in the
README runs and prints what it claims."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import sketchy

README = Path(__file__).parents[2] / "README.md"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules():
    names = ["sketchy", "sketchy._native"]
    names += [
        m.name
        for m in pkgutil.iter_modules(sketchy.__path__, "sketchy.")
        if m.name not in ("sketchy._native", "sketchy.__main__")
    ]
    return names


def docstring_tests():
    finder = doctest.DocTestFinder()
    tests = []
    for name in modules():
        try:
            module = importlib.import_module(name)
        except ImportError as err:  # an optional integration whose engine is not installed
            tests.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=str(err))))
            continue
        for test in finder.find(module, name, globs={**vars(sketchy), "sketchy": sketchy}):
            if test.examples:
                tests.append(pytest.param(test, id=test.name))
    return tests


@pytest.mark.parametrize("test", docstring_tests())
def test_docstring_examples(test):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s) in {test.name}; see the output above"


def test_every_public_name_has_an_example():
    missing = []
    for name in sketchy.__all__:
        obj = getattr(sketchy, name)
        if callable(obj) and ">>>" not in (obj.__doc__ or ""):
            missing.append(name)
    assert missing == []


def readme_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples():
    blocks = readme_python_blocks()
    assert blocks, "the README has Python examples"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    globs: dict = {}
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, globs, f"README block {i}", str(README), 0))
    assert runner.failures == 0
