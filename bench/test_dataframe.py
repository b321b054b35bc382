"""DataFrame columns and sketches per group, against Polars and DuckDB on the same Arrow data.

Targets (issue #23): ``HyperLogLog(14).update`` from a Polars Series and from Arrow ``string_view``
≤ 1.1x the time of the same tokens as Arrow ``large_string``, from a numpy ``U`` array ≤ 2.5x; from
a Polars Series at least as fast as ``Series.approx_n_unique()``. ``group_sketches`` with
``HyperLogLog(12)`` over 2M rows in 5,000 Zipf-sized groups and over 10M rows in 100,000 groups
≥ 1.5x faster than Polars ``group_by().agg(approx_n_unique())`` and DuckDB's ``GROUP BY ...
approx_count_distinct``; grouped TopK and DDSketch no slower per row than one batch update of the
same values.
"""

from __future__ import annotations

import numpy as np
import pytest

from sketchy import DDSketch, HyperLogLog, TopK, group_sketches

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")


def _hll(items):
    sketch = HyperLogLog(14)
    sketch.update(items)
    return sketch.estimate()


def _close(estimate, exact, tolerance=0.05):
    assert abs(estimate / exact - 1) < tolerance, (estimate, exact)


@pytest.fixture(scope="module")
def distinct(identifier_tokens) -> int:
    return len(set(identifier_tokens))


# --- one column, by form ------------------------------------------------------------------------------

FORM = "dataframe/hll update: 1M real str by column form"


@pytest.mark.benchmark(group=FORM)
def test_form_large_string(benchmark, identifier_tokens, distinct):
    column = pa.array(identifier_tokens, pa.large_string())
    _close(benchmark(_hll, column), distinct)


@pytest.mark.benchmark(group=FORM)
def test_form_string_view(benchmark, identifier_tokens, distinct):
    column = pa.array(identifier_tokens, pa.string_view())
    _close(benchmark(_hll, column), distinct)


@pytest.mark.benchmark(group=FORM)
def test_form_polars_series(benchmark, identifier_tokens, distinct):
    column = pl.Series(identifier_tokens, dtype=pl.String)
    _close(benchmark(_hll, column), distinct)


@pytest.mark.benchmark(group=FORM)
def test_form_polars_approx_n_unique(benchmark, identifier_tokens, distinct):
    column = pl.Series(identifier_tokens, dtype=pl.String)
    _close(benchmark(column.approx_n_unique), distinct)


@pytest.mark.benchmark(group=FORM)
def test_form_numpy_u(benchmark, identifier_tokens, distinct):
    column = np.array(identifier_tokens, dtype=str)
    _close(benchmark(_hll, column), distinct)


@pytest.mark.benchmark(group=FORM)
def test_form_numpy_stringdtype(benchmark, identifier_tokens, distinct):
    column = np.array(identifier_tokens, dtype=np.dtypes.StringDType())
    _close(benchmark(_hll, column), distinct)


# --- sketches per group -------------------------------------------------------------------------------


def _zipf_groups(n: int, groups: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).zipf(1.2, n) % groups).astype(np.int64)


@pytest.fixture(scope="module")
def by_site(identifier_tokens):
    """2M rows: a site (one of 5,000 Zipf-sized str groups) and a real token."""
    sites = _zipf_groups(2_000_000, 5000, 11)
    names = np.array([f"site-{i}.example" for i in range(5000)])
    return pa.table({"site": pa.array(names[sites]), "token": pa.array(identifier_tokens * 2)})


@pytest.fixture(scope="module")
def by_user():
    """10M rows: a user id (one of 100,000 Zipf-sized int groups) and an int64 value."""
    users = _zipf_groups(10_000_000, 100_000, 12)
    values = (np.random.default_rng(13).zipf(1.2, users.size) % 10_000_000).astype(np.int64)
    return pa.table({"user": users, "value": values})


GROUPED = {
    "2M rows, 5,000 str groups": ("by_site", "site", "token"),
    "10M rows, 100,000 int groups": ("by_user", "user", "value"),
}


def _grouped(engine: str, table: pa.Table, by: str, on: str):
    """One grouped distinct count of `table[on]` by `table[by]`, ready to call."""
    if engine == "sketchy":
        return lambda: group_sketches(table[by], table[on], HyperLogLog(12))
    if engine == "polars":
        frame = pl.from_arrow(table)
        return lambda: frame.group_by(by).agg(pl.col(on).approx_n_unique())
    con = duckdb.connect()
    con.register("t", table)
    sql = f"select {by}, approx_count_distinct({on}) from t group by {by}"
    return lambda: con.execute(sql).fetchall()


@pytest.mark.parametrize("case", list(GROUPED))
@pytest.mark.parametrize("engine", ["sketchy", "polars", "duckdb"])
def test_grouped_hll(benchmark, request, case, engine):
    fixture, by, on = GROUPED[case]
    table = request.getfixturevalue(fixture)
    benchmark.group = f"dataframe/grouped hll: {case}"
    out = benchmark(_grouped(engine, table, by, on))
    assert len(out) == len(pc.unique(table[by]))


def _one_batch(template, values):
    def run():
        sketch = template.copy()
        sketch.update(values)
        return sketch

    return run


@pytest.mark.benchmark(group="dataframe/grouped topk: 2M rows, 5,000 str groups")
def test_grouped_topk_sketchy(benchmark, by_site):
    benchmark(group_sketches, by_site["site"], by_site["token"], TopK(10))


@pytest.mark.benchmark(group="dataframe/grouped topk: 2M rows, 5,000 str groups")
def test_grouped_topk_one_batch(benchmark, by_site):
    benchmark(_one_batch(TopK(10), by_site["token"]))


@pytest.fixture(scope="module")
def latencies(by_site):
    return pa.array(np.random.default_rng(14).lognormal(3, 1, len(by_site)))


@pytest.mark.benchmark(group="dataframe/grouped ddsketch: 2M rows, 5,000 str groups")
def test_grouped_ddsketch_sketchy(benchmark, by_site, latencies):
    benchmark(group_sketches, by_site["site"], latencies, DDSketch())


@pytest.mark.benchmark(group="dataframe/grouped ddsketch: 2M rows, 5,000 str groups")
def test_grouped_ddsketch_one_batch(benchmark, latencies):
    benchmark(_one_batch(DDSketch(), latencies))
