"""Sketches per group (`group_sketches`, `group_table`): each group's sketch is the one built from its
rows alone, for every sketch of the registry, whatever the input's form, the threads or the batches;
grouped answers against Polars' and DuckDB's exact per-group counts."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from sketches import SKETCHES

import sketchy
from sketchy import HyperLogLog, TopK, group_sketches, group_table

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")


def zipf_keys(n: int, groups: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.zipf(1.3, n) % groups).astype(np.int64)


def alone(entry, keys, values) -> dict:
    """Each group's sketch built from its rows, in order: what group_sketches must equal."""
    out: dict = {}
    rows: dict = {}
    for k, v in zip(keys, values, strict=True):
        rows.setdefault(k, []).append(v)
    for k, vs in rows.items():
        sketch = entry.make()
        entry.update(sketch, vs)
        out[k] = sketch
    return out


@pytest.mark.parametrize("name", list(SKETCHES))
def test_each_group_is_its_rows_alone_for_every_sketch(name):
    entry = SKETCHES[name]
    items = entry.items()
    keys = [f"g{k}" for k in zipf_keys(len(items), 40, 1)]
    got = group_sketches(keys, items, entry.make())
    want = alone(entry, keys, items)
    assert list(got) == list(want)  # first-seen order
    for k in want:
        assert got[k] == want[k], (name, k)
        assert type(got[k]) is type(entry.make())


@pytest.mark.parametrize("name", ["hll-sparse", "topk", "ddsketch", "kll"])
def test_column_forms_give_the_same_groups(name):
    entry = SKETCHES[name]
    items = entry.items()
    ints = zipf_keys(len(items), 30, 2)
    strs = [f"key-{k:05d}-{'x' * (k % 9)}" for k in ints]  # short and long (> 12 bytes) views
    want_int = group_sketches(ints.tolist(), items, entry.make())
    want_str = group_sketches(strs, items, entry.make())
    value_forms = [items]
    if entry.numbers:
        value_forms += [np.array(items, dtype=np.float64), pl.Series(items, dtype=pl.Float64)]
    else:
        value_forms += [pa.array([str(x) for x in items])]
    for form in (ints, pa.array(ints), pl.Series(ints), ints.astype(np.int32)):
        got = group_sketches(form, items, entry.make())
        assert list(got) == list(want_int) and got == want_int, type(form)
    for form in (
        np.array(strs),
        pa.array(strs, pa.string()),
        pa.array(strs, pa.large_string()),
        pa.array(strs, pa.string_view()),
        pa.array(strs).dictionary_encode(),
        pl.Series(strs),
        pl.Series(strs, dtype=pl.Categorical),
    ):
        got = group_sketches(form, items, entry.make())
        assert list(got) == list(want_str) and got == want_str, type(form)
    for values in value_forms[1:]:
        got = group_sketches(strs, values, entry.make())
        if entry.numbers:
            assert got == want_str
        else:  # the same items as str
            assert got == group_sketches(strs, [str(x) for x in items], entry.make())


def test_batches_and_workers_merge_to_the_one_pass_result():
    keys = zipf_keys(300_000, 5000, 3)
    values = np.random.default_rng(4).integers(0, 10**6, keys.size)
    whole = group_sketches(keys, values, HyperLogLog(12))
    merged: dict = {}
    for part in np.array_split(np.arange(keys.size), 7):
        for k, s in group_sketches(keys[part], values[part], HyperLogLog(12)).items():
            if k in merged:
                merged[k].merge(s)
            else:
                merged[k] = s
    assert merged.keys() == whole.keys()
    # HLL registers merge exactly; the union estimate reads only the registers.
    for k in whole:
        assert (merged[k] | HyperLogLog(12)).estimate() == (whole[k] | HyperLogLog(12)).estimate()


def test_results_do_not_depend_on_the_number_of_threads(tmp_path):
    script = (
        "import numpy as np, sketchy, sys\n"
        "rng = np.random.default_rng(5)\n"
        "keys = (rng.zipf(1.3, 400_000) % 3000).astype(np.int64)\n"
        "values = rng.integers(0, 10**7, keys.size)\n"
        "for t in (sketchy.HyperLogLog(12), sketchy.TopK(5), sketchy.KLL(100)):\n"
        "    d = sketchy.group_sketches(keys, values if not isinstance(t, sketchy.KLL) else values * 0.5, t)\n"
        "    sys.stdout.buffer.write(b''.join(repr(k).encode() + s.to_bytes() for k, s in d.items()))\n"
    )

    def run(threads: str) -> bytes:
        env = {**os.environ, "SKETCHY_NUM_THREADS": threads}
        # Run outside the checkout: `python -c` puts the working directory first on the path.
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    assert run("1") == run("2")


def test_grouped_distinct_counts_against_polars_and_duckdb_exact_counts():
    duckdb = pytest.importorskip("duckdb")
    rng = np.random.default_rng(6)
    n = 200_000
    country = np.array([f"c{k}" for k in zipf_keys(n, 300, 7)])
    user = rng.integers(0, 50_000, n)
    table = pa.table({"country": country, "user": user})
    exact_pl = dict(pl.from_arrow(table).group_by("country").agg(pl.col("user").n_unique()).iter_rows())
    exact_db = dict(_duck(duckdb, table))
    assert exact_pl == exact_db
    got = group_sketches(table["country"], table["user"], HyperLogLog(12))
    assert got.keys() == exact_pl.keys()
    errors = np.array([got[k].estimate() / exact_pl[k] - 1 for k in exact_pl])
    # Precision 12: standard error 1.04 / 64 = 1.6%; small groups are counted exactly (sparse).
    assert np.sqrt(np.mean(errors**2)) < 0.02
    assert np.abs(errors).max() < 0.08
    small = sorted(exact_pl, key=exact_pl.__getitem__)[:20]
    assert all(abs(got[k].estimate() / exact_pl[k] - 1) < 0.005 for k in small), [exact_pl[k] for k in small]


def _duck(duckdb, table):
    con = duckdb.connect()
    con.register("t", table)
    return con.execute("select country, count(distinct user) from t group by country").fetchall()


def test_grouped_top_k_finds_each_groups_exact_heavy_hitters():
    keys = zipf_keys(100_000, 50, 8)
    values = zipf_keys(100_000, 10_000, 9)
    got = group_sketches(keys, values, TopK(3, capacity=1000))
    groups, sizes = np.unique(keys, return_counts=True)
    for k in groups[sizes >= 1000]:
        vals, counts = np.unique(values[keys == k], return_counts=True)
        exact = vals[np.argsort(-counts, kind="stable")[:3]].tolist()
        assert [item for item, _ in got[int(k)].most_common(3)] == exact


def test_the_dict_is_in_first_seen_order_and_merges_keys_python_treats_as_one():
    got = group_sketches(["b", "a", "b", "c"], [1, 2, 3, 4], TopK(3))
    assert list(got) == ["b", "a", "c"]
    assert sorted(got["b"].most_common()) == [(1, 1), (3, 1)]
    mixed = group_sketches([1, 1.0, 2], ["x", "y", "z"], HyperLogLog(8))
    assert list(mixed) == [1, 2] and round(mixed[1].estimate()) == 2
    assert group_sketches([], [], HyperLogLog(8)) == {}


def test_bad_arguments_name_themselves_and_build_nothing():
    with pytest.raises(ValueError, match="values: 2 values for 3 keys"):
        group_sketches([1, 2, 3], ["a", "b"], HyperLogLog(8))
    used = HyperLogLog(8)
    used.add("x")
    with pytest.raises(ValueError, match="template: must be an empty sketch"):
        group_sketches([1], ["a"], used)
    assert used.estimate() > 0  # the template is untouched
    with pytest.raises(TypeError, match="template must be an empty sketch of sketchy"):
        group_sketches([1], ["a"], {"not": "a sketch"})
    with pytest.raises(TypeError, match="keys"):
        group_sketches([object()], ["a"], HyperLogLog(8))
    with pytest.raises(TypeError, match="values"):
        group_sketches([1], [object()], HyperLogLog(8))
    with pytest.raises(TypeError, match="values"):
        group_sketches([1, 2], ["a", "b"], sketchy.DDSketch())
    with pytest.raises(TypeError, match=r"keys.*missing value"):
        group_sketches(pa.array(["a", None]), [1, 2], HyperLogLog(8))
    with pytest.raises(OverflowError, match="values: int"):
        group_sketches([1], [2**70], HyperLogLog(8))
    with pytest.raises(UnicodeEncodeError):
        group_sketches(["ok", "bad \udfff"], [1, 2], HyperLogLog(8))
    with pytest.raises(UnicodeEncodeError):
        group_sketches([1, 2], np.array(["ok", "bad \udfff"]), HyperLogLog(8))
    with pytest.raises(TypeError, match="keys must be a collection"):
        group_sketches("abc", ["a", "b", "c"], HyperLogLog(8))


@pytest.mark.parametrize("output", ["sketch", "bytes", "datasketches"])
@pytest.mark.parametrize("kind", ["polars", "pandas", "arrow"])
def test_group_table_returns_the_same_kind_of_table(kind, output):
    pd = pytest.importorskip("pandas")
    data = {"site": ["a", "b", "a", "c", "a"], "page": ["x", "y", "z", "x", "x"]}
    table = {"polars": pl.DataFrame, "pandas": pd.DataFrame, "arrow": pa.table}[kind](data)
    if kind == "arrow" and output == "sketch":
        with pytest.raises(ValueError, match="bytes"):
            group_table(table, "site", "page", HyperLogLog(10), output=output)
        return
    template = HyperLogLog(10, hash="datasketches") if output == "datasketches" else HyperLogLog(10)
    out = group_table(table, "site", "page", template, output=output)
    assert type(out) is type(table)
    columns = list(out.columns) if kind != "arrow" else out.column_names
    assert columns == ["site", output, "estimate"]
    rows = (
        out.to_pylist()
        if kind == "arrow"
        else (out.to_dicts() if kind == "polars" else out.to_dict("records"))
    )
    assert [r["site"] for r in rows] == ["a", "b", "c"]
    assert [round(r["estimate"]) for r in rows] == [2, 1, 1]
    first = rows[0][output]
    if output == "bytes":
        assert round(HyperLogLog.from_bytes(first).estimate()) == 2
    elif output == "datasketches":
        ds = pytest.importorskip("datasketches")
        assert round(ds.hll_sketch.deserialize(first).get_estimate()) == 2
    else:
        assert isinstance(first, HyperLogLog)


def test_group_table_refuses_what_it_cannot_do():
    table = pl.DataFrame({"k": [1], "v": [2.0]})
    with pytest.raises(ValueError, match="column: no column 'w'"):
        group_table(table, "k", "w", HyperLogLog(8))
    with pytest.raises(ValueError, match="output"):
        group_table(table, "k", "v", HyperLogLog(8), output="json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no DataSketches image"):
        group_table(table, "k", "v", sketchy.CountMinSketch(10, 2), output="datasketches")
    with pytest.raises(ValueError, match="hash='datasketches'"):
        group_table(table, "k", "v", HyperLogLog(8), output="datasketches")
    with pytest.raises(TypeError, match="table must be"):
        group_table({"k": [1]}, "k", "v", HyperLogLog(8))
