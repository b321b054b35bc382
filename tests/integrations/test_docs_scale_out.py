"""Every snippet of docs/scale_out runs and checks its own result (each ``main()`` asserts its
estimates against the truth); a snippet whose engine is not installed is skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SNIPPETS = Path(__file__).parents[2] / "docs" / "scale_out"

# snippet: the modules it needs
ENGINES = {
    "dask_recipe.py": ["distributed", "dask.dataframe"],
    "pyspark_recipe.py": ["pyspark"],
    "polars_batches.py": ["polars"],
    "duckdb_arrow.py": ["duckdb"],
}


def load(path: Path):
    """Imports a snippet by path. It is left out of ``sys.modules``, as a script's ``__main__`` is not
    importable elsewhere: its functions go to Dask or Spark workers by value (cloudpickle)."""
    spec = importlib.util.spec_from_file_location(f"scale_out_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The Dask and Spark snippets start a cluster (see the `cluster` marker in conftest.py).
CLUSTER_SNIPPETS = {"dask_recipe.py", "pyspark_recipe.py"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.cluster] if n in CLUSTER_SNIPPETS else []) for n in ENGINES]
)
def test_snippet_runs_and_checks_its_result(name, capsys, request, monkeypatch):
    for module in ENGINES[name]:
        pytest.importorskip(module)
    if name == "pyspark_recipe.py":
        # The test run's one Spark session (conftest.py; it skips without a Java runtime): the snippet's
        # `getOrCreate()` returns it, and its `stop()` must leave it to the other Spark tests.
        spark = request.getfixturevalue("spark")
        monkeypatch.setattr(spark, "stop", lambda: None)
    load(SNIPPETS / name).main()
    assert "estimate" in capsys.readouterr().out


def test_every_snippet_is_tested():
    assert sorted(p.name for p in SNIPPETS.glob("*.py")) == sorted(ENGINES)


@pytest.mark.parametrize("name", ENGINES)
def test_snippet_is_a_script_with_a_main(name):
    text = (SNIPPETS / name).read_text()
    assert text.startswith('"""') and "\ndef main() -> None:" in text
    assert text.rstrip().endswith('if __name__ == "__main__":\n    main()')
