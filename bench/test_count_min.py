"""CountMinSketch and TopK against Apache DataSketches, pyprobables and River, on the same items.

Targets (issue #4): ``add`` ≤ 100 ns per int and faster than datasketches' ``update``; ``update`` on
1M int64 ≥ 20x faster than a datasketches loop (≤ 10 ns/item at depth 5); on 1M short str ≥ 5x;
``estimate_many`` likewise; ``TopK.update`` on 1M Zipf items ≥ 5x faster than
``datasketches.frequent_strings_sketch``.
"""

from __future__ import annotations

import pytest

from sketchy import CountMinSketch, TopK

WIDTH, DEPTH = 2719, 5  # from_error(epsilon=0.001, delta=0.01)
CALLS = 100_000


def datasketches():
    return pytest.importorskip("datasketches")


# --- one item per call ------------------------------------------------------------------------------


@pytest.mark.benchmark(group="cms/add: 100k calls, one int each")
def test_add_int_sketchy(benchmark, call_each, int64_keys):
    items = int64_keys[:CALLS].tolist()
    cms = CountMinSketch(WIDTH, DEPTH)

    benchmark(lambda: call_each(cms.add, items))


@pytest.mark.benchmark(group="cms/add: 100k calls, one int each")
def test_add_int_datasketches(benchmark, call_each, int64_keys):
    items = int64_keys[:CALLS].tolist()
    cms = datasketches().count_min_sketch(DEPTH, WIDTH)

    benchmark(lambda: call_each(cms.update, items))


@pytest.mark.benchmark(group="cms/add: 100k calls, one str each")
def test_add_str_sketchy(benchmark, call_each, zipf_str_keys):
    items = zipf_str_keys[:CALLS]
    cms = CountMinSketch(WIDTH, DEPTH)

    benchmark(lambda: call_each(cms.add, items))


@pytest.mark.benchmark(group="cms/add: 100k calls, one str each")
def test_add_str_datasketches(benchmark, call_each, zipf_str_keys):
    items = zipf_str_keys[:CALLS]
    cms = datasketches().count_min_sketch(DEPTH, WIDTH)

    benchmark(lambda: call_each(cms.update, items))


# --- batches ------------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="cms/update: numpy int64 1M")
def test_update_int64_sketchy(benchmark, int64_keys):
    benchmark(lambda: CountMinSketch(WIDTH, DEPTH).update(int64_keys))


@pytest.mark.benchmark(group="cms/update: numpy int64 1M")
def test_update_int64_sketchy_conservative(benchmark, int64_keys):
    benchmark(lambda: CountMinSketch(WIDTH, DEPTH, conservative=True).update(int64_keys))


@pytest.mark.benchmark(group="cms/update: numpy int64 1M")
def test_update_int64_datasketches_loop(benchmark, call_each, int64_keys):
    items = int64_keys.tolist()

    benchmark.pedantic(
        lambda: call_each(datasketches().count_min_sketch(DEPTH, WIDTH).update, items), rounds=3
    )


@pytest.mark.benchmark(group="cms/update: list of 1M str")
def test_update_str_sketchy(benchmark, zipf_str_keys):
    benchmark(lambda: CountMinSketch(WIDTH, DEPTH).update(zipf_str_keys))


@pytest.mark.benchmark(group="cms/update: list of 1M str")
def test_update_str_datasketches_loop(benchmark, call_each, zipf_str_keys):
    benchmark.pedantic(
        lambda: call_each(datasketches().count_min_sketch(DEPTH, WIDTH).update, zipf_str_keys), rounds=3
    )


@pytest.mark.benchmark(group="cms/update: list of 1M str")
def test_update_str_pyprobables_loop(benchmark, call_each, zipf_str_keys):
    probables = pytest.importorskip("probables")

    benchmark.pedantic(
        lambda: call_each(probables.CountMinSketch(width=WIDTH, depth=DEPTH).add, zipf_str_keys), rounds=1
    )


@pytest.mark.benchmark(group="cms/update: list of 1M str")
def test_update_str_river_loop(benchmark, call_each, zipf_str_keys):
    sketch = pytest.importorskip("river.sketch")

    benchmark.pedantic(
        lambda: call_each(sketch.Counter(epsilon=0.001, delta=0.01, seed=0).update, zipf_str_keys), rounds=1
    )


@pytest.mark.benchmark(group="cms/estimate_many: numpy int64 1M")
def test_estimate_many_sketchy(benchmark, int64_keys):
    cms = CountMinSketch(WIDTH, DEPTH)
    cms.update(int64_keys)
    benchmark(cms.estimate_many, int64_keys)


@pytest.mark.benchmark(group="cms/estimate_many: numpy int64 1M")
def test_estimate_many_datasketches_loop(benchmark, int64_keys):
    cms = datasketches().count_min_sketch(DEPTH, WIDTH)
    items = int64_keys.tolist()
    for x in items:
        cms.update(x)
    benchmark.pedantic(lambda: [cms.get_estimate(x) for x in items], rounds=3)


# --- heavy hitters ------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="topk/update: list of 1M Zipf str")
def test_topk_update_sketchy(benchmark, zipf_str_keys):
    def run():
        top = TopK(100, capacity=1024)
        top.update(zipf_str_keys)
        return top

    top = benchmark(run)
    assert top.most_common(1)[0][0] == "item-1"


@pytest.mark.benchmark(group="topk/update: list of 1M Zipf str")
def test_topk_update_datasketches_loop(benchmark, call_each, zipf_str_keys):
    # lg_max_map_size 10: a map of 1024 counters, like TopK(capacity=1024)
    benchmark.pedantic(
        lambda: call_each(datasketches().frequent_strings_sketch(10).update, zipf_str_keys), rounds=3
    )


@pytest.mark.benchmark(group="topk/update: list of 1M Zipf str")
def test_topk_update_river_loop(benchmark, call_each, zipf_str_keys):
    sketch = pytest.importorskip("river.sketch")

    benchmark.pedantic(lambda: call_each(sketch.HeavyHitters().update, zipf_str_keys), rounds=1)
