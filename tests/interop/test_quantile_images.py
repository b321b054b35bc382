"""KLL and Apache DataSketches' ``kll_doubles_sketch`` images (5.x), both ways, and hostile bytes.

An image is ``preamble | n, min_k, L, levels[0..L-1] | min, max | items`` (see the layout in
``parse``). ``KLL.from_datasketches`` reads what datasketches writes, with the same n, min, max and
retained items (and so the same ranks); ``KLL.to_datasketches`` writes what datasketches reads. Bytes
that datasketches would never write raise ValueError. datasketches' own ``deserialize`` can crash on
damaged bytes (a full image cut to 20 bytes reads its levels out of bounds), so only intact images
are ever given to it here.
"""

from __future__ import annotations

import copy
import itertools
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchy import KLL, DDSketch

datasketches = pytest.importorskip("datasketches")
kll_doubles_sketch = datasketches.kll_doubles_sketch

FLAG_EMPTY, FLAG_LEVEL_ZERO_SORTED, FLAG_SINGLE = 1, 2, 4


# --- the image layout ------------------------------------------------------------------------------


def _scaled(k: int, depth: int) -> int:
    """round(k (2/3)**depth) as datasketches computes it (in two steps past depth 30)."""
    if depth > 30:
        return _scaled(_scaled(k, depth // 2), depth - depth // 2)
    return (((2 * k) << depth) // 3**depth + 1) >> 1


def level_capacity(k: int, num_levels: int, height: int) -> int:
    return max(8, _scaled(k, num_levels - height - 1))


def total_capacity(k: int, num_levels: int) -> int:
    return sum(level_capacity(k, num_levels, h) for h in range(num_levels))


def parse(data: bytes) -> dict:
    """An intact image: its fields, and its items per level. (datasketches reads an empty image
    followed by anything as the empty sketch: so does this.)"""
    pre, serial, family, flags, k, m, _ = struct.unpack_from("<BBBBHBB", data, 0)
    assert family == 15 and m == 8 and serial in (1, 2) and k >= 8
    out = dict(flags=flags, k=k)
    if flags & FLAG_EMPTY:
        assert pre == 2
        return out | dict(
            n=0, min_k=k, num_levels=1, levels=[k, k], min=math.nan, max=math.nan, by_level=[[]]
        )
    if flags & FLAG_SINGLE:
        assert pre == 2 and len(data) == 16
        (item,) = struct.unpack_from("<d", data, 8)
        return out | dict(
            n=1, min_k=k, num_levels=1, levels=[k - 1, k], min=item, max=item, by_level=[[item]]
        )
    assert pre == 5
    n, min_k, num_levels, _ = struct.unpack_from("<QHBB", data, 8)
    levels = [*struct.unpack_from(f"<{num_levels}I", data, 20), total_capacity(k, num_levels)]
    low, high = struct.unpack_from("<dd", data, 20 + 4 * num_levels)
    items = struct.unpack_from(f"<{levels[-1] - levels[0]}d", data, 36 + 4 * num_levels)
    assert len(data) == 36 + 4 * num_levels + 8 * len(items)
    by_level = [list(items[levels[h] - levels[0] : levels[h + 1] - levels[0]]) for h in range(num_levels)]
    return out | dict(
        n=n, min_k=min_k, num_levels=num_levels, levels=levels, min=low, max=high, by_level=by_level
    )


def weighted(image: dict) -> list[tuple[float, int]]:
    """The retained items with their weights, sorted."""
    return sorted((x, 1 << h) for h, level in enumerate(image["by_level"]) for x in level)


def contents(data: bytes) -> tuple:
    """What an image says, whatever the order of its level 0: k, min_k, n, the levels, the bits of min
    and max, and each level's items in order. -0.0 counts as 0.0 (sketchy stores every -0.0 as 0.0;
    datasketches keeps the sign)."""
    p = parse(data)
    by_level = [sorted(p["by_level"][0]), *p["by_level"][1:]]
    return p["k"], p["min_k"], p["n"], p["levels"], bits(p["min"] + 0.0), bits(p["max"] + 0.0), by_level


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def check_sound(image: dict) -> None:
    """What every image datasketches writes satisfies."""
    pairs = weighted(image)
    assert sum(w for _, w in pairs) == image["n"]
    assert all(not math.isnan(x) and image["min"] <= x <= image["max"] for x, _ in pairs)
    assert all(level == sorted(level) for level in image["by_level"][1:])
    assert 8 <= image["min_k"] <= image["k"]


# --- streams ---------------------------------------------------------------------------------------


def ds_sketch(values, k: int = 200):
    sketch = kll_doubles_sketch(k)
    if len(values):
        sketch.update(np.asarray(values, dtype=np.float64))
    return sketch


def lognormal(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(0, 2, n)


def queried(sketch):
    sketch.get_rank(0.5)  # sorts level 0 in place: the image says so (flag 0x02)
    return sketch


def merged(*sketches):
    first = sketches[0]
    for other in sketches[1:]:
        first.merge(other)
    return first


DS_STREAMS = {
    "empty": lambda: kll_doubles_sketch(200),
    "empty k=8": lambda: kll_doubles_sketch(8),
    "one": lambda: ds_sketch([1.5]),
    "one, queried": lambda: queried(ds_sketch([5.0])),
    "one -0.0": lambda: ds_sketch([-0.0]),
    "two": lambda: ds_sketch([1.0, 2.0]),
    "100 with ties": lambda: ds_sketch(np.round(lognormal(100, 1), 1)),
    "infinities and -0.0": lambda: ds_sketch([1.0, math.inf, -math.inf, -0.0, 0.0, 2.0]),
    "1e5": lambda: ds_sketch(lognormal(100_000, 2)),
    "1e5, queried": lambda: queried(ds_sketch(lognormal(100_000, 3))),
    "k=8, 5": lambda: ds_sketch(lognormal(5, 4), k=8),
    "k=8, 1000": lambda: ds_sketch(lognormal(1000, 5), k=8),
    "k=8, 1e5": lambda: ds_sketch(lognormal(100_000, 6), k=8),
    "k=1000, 1e5": lambda: ds_sketch(lognormal(100_000, 7), k=1000),
    "k=65535, 70000": lambda: ds_sketch(lognormal(70_000, 8), k=65535),
    "merge 200+200": lambda: merged(ds_sketch(lognormal(3000, 9)), ds_sketch(lognormal(5000, 10))),
    # The 200 <- 100 merge leaves level 0 empty (datasketches' iterator then reports weights of 1).
    "merge 200+100": lambda: merged(ds_sketch(np.arange(5000.0)), ds_sketch(-np.arange(5000.0), k=100)),
    "merge 8+64": lambda: merged(ds_sketch(lognormal(999, 11), k=8), ds_sketch(lognormal(12_345, 12), k=64)),
    "merge into empty": lambda: merged(kll_doubles_sketch(100), ds_sketch(lognormal(20_000, 13))),
    "merge of 10": lambda: merged(*(ds_sketch(lognormal(2000 + 100 * i, 14 + i)) for i in range(10))),
    "merges of merges": lambda: merged(
        merged(ds_sketch(lognormal(7000, 30), k=100), ds_sketch(lognormal(300, 31))),
        ds_sketch(lognormal(4000, 32)),
    ),
}


@pytest.fixture(scope="module")
def ds_images() -> dict[str, bytes]:
    return {name: make().serialize() for name, make in DS_STREAMS.items()}


def probes_for(image: dict) -> list[float]:
    items = sorted({x for level in image["by_level"] for x in level})
    finite = [x for x in items if math.isfinite(x)]
    middles = [(a + b) / 2 for a, b in itertools.pairwise(finite)]
    extra = [-math.inf, math.inf, -1e308, 1e308, 0.0]
    if finite:
        extra += [finite[0] - 1, finite[-1] + 1]
    chosen = items[:: max(1, len(items) // 300)] + middles[:: max(1, len(middles) // 300)] + extra
    return sorted(chosen)


def ds_quantile_for(q: float, n: int) -> float:
    """The datasketches rank whose inclusive quantile is ours for q: the item of cumulative weight
    >= floor(q (n - 1)) + 1, which datasketches' ceil(rank · n) gives for (floor(q (n - 1)) + 0.5) / n."""
    return (math.floor(q * (n - 1)) + 0.5) / n


def assert_same_answers(sketch, theirs, image: dict) -> None:
    """Our answers on a sketch with the same retained items equal datasketches' inclusive ones."""
    n = image["n"]
    probes = probes_for(image)
    expected = [theirs.get_rank(x, True) for x in probes]
    assert [sketch.rank(x) for x in probes] == expected
    assert sketch.cdf(probes).tolist() == expected
    qs = sorted({*np.linspace(0, 1, 201).tolist(), 1e-9, 1 - 1e-9, 0.5 / n, 1 - 0.5 / n})
    answers = sketch.quantiles(qs).tolist()
    assert answers == [sketch.quantile(q) for q in qs]
    # q = 0 and q = 1 are the exact min and max (numpy's answers), which datasketches may not retain.
    assert answers[0] == sketch.min and answers[-1] == sketch.max
    for q, answer in zip(qs[1:-1], answers[1:-1], strict=True):
        # (== rather than bits: -0.0 and 0.0 tie, and either may sort first)
        assert answer == theirs.get_quantile(ds_quantile_for(q, n), True), q
        fraction = q * n - math.floor(q * n)
        if fraction == 0 or fraction >= q:  # where ceil(q n) == floor(q (n - 1)) + 1: the same question
            assert answer == theirs.get_quantile(q, True), q


# --- reading datasketches images -------------------------------------------------------------------


@pytest.mark.parametrize("name", DS_STREAMS)
def test_a_datasketches_image_reads_with_the_same_contents(name, ds_images):
    data = ds_images[name]
    theirs = kll_doubles_sketch.deserialize(data)
    image = parse(data)
    check_sound(image)
    for source in (data, bytearray(data), memoryview(data)):
        sketch = KLL.from_datasketches(source)
        assert sketch.count == theirs.n and sketch.k == theirs.k and sketch.min_k == image["min_k"]
        assert sketch.num_retained == theirs.num_retained and sketch.nan_count == 0
        assert sketch.normalized_rank_error == pytest.approx(theirs.normalized_rank_error(False), rel=1e-12)
        if theirs.n:
            assert sketch.min == theirs.get_min_value() and sketch.max == theirs.get_max_value()
        else:
            assert math.isnan(sketch.min) and math.isnan(sketch.quantile(0.5))
    # Written back: the same image, up to the order of level 0, which datasketches reads again as is.
    again = sketch.to_datasketches()
    assert contents(again) == contents(data)
    assert weighted(parse(again)) == weighted(image)
    assert kll_doubles_sketch.deserialize(again).serialize() == again
    assert KLL.from_bytes(sketch.to_bytes()) == sketch


@pytest.mark.parametrize("name", [name for name in DS_STREAMS if not name.startswith("empty")])
def test_ranks_and_quantiles_of_a_read_image_equal_datasketches(name, ds_images):
    data = ds_images[name]
    sketch = KLL.from_datasketches(data)
    assert_same_answers(sketch, kll_doubles_sketch.deserialize(data), parse(data))


def test_empty_images_read_as_empty_sketches(ds_images):
    for name, k in (("empty", 200), ("empty k=8", 8)):
        sketch = KLL.from_datasketches(ds_images[name])
        assert sketch == KLL(k) and sketch.to_datasketches() == ds_images[name]
    assert ds_images["empty"] == bytes.fromhex("02010f01c8000800")


@pytest.mark.parametrize("k", [8, 9, 255, 256, 1000, 65535])
def test_every_k_reads(k):
    for n in (0, 1, 3, k + 5):
        data = ds_sketch(lognormal(n, k + n), k=k).serialize()
        sketch = KLL.from_datasketches(data)
        assert sketch.k == k and sketch.count == n and contents(sketch.to_datasketches()) == contents(data)


def test_a_read_image_keeps_taking_items():
    data = ds_sketch(lognormal(100_000, 20)).serialize()
    later = lognormal(100_000, 21)
    sketch = KLL.from_datasketches(data, seed=3)
    assert sketch.seed == 3
    sketch.update(later)
    assert sketch.count == 200_000 and sketch.max == max(later.max(), parse(data)["max"])
    check_sound(parse(sketch.to_datasketches()))
    theirs = kll_doubles_sketch.deserialize(sketch.to_datasketches())
    assert theirs.n == 200_000 and theirs.num_retained == sketch.num_retained
    ordered = np.sort(np.concatenate([lognormal(100_000, 20), later]))
    qs = np.linspace(0.005, 0.995, 100)
    answers = sketch.quantiles(qs)
    below, upto = (
        np.searchsorted(ordered, answers, "left") / 2e5,
        np.searchsorted(ordered, answers, "right") / 2e5,
    )
    assert np.maximum(np.maximum(below - qs, qs - upto), 0).max() <= sketch.normalized_rank_error
    # The same image, seed and items: the same sketch.
    twin = KLL.from_datasketches(data, seed=3)
    twin.update(later)
    assert twin == sketch and twin.to_bytes() == sketch.to_bytes()
    # What datasketches does with the same items has the same levels (the random bits aside).
    theirs = kll_doubles_sketch.deserialize(data)
    theirs.update(later)
    assert parse(theirs.serialize())["levels"] == parse(sketch.to_datasketches())["levels"]


def test_sketches_read_from_empty_and_single_images_continue_as_fresh_ones(ds_images):
    values = lognormal(5000, 22)
    fresh = KLL(200, seed=4)
    fresh.update(values)
    from_empty = KLL.from_datasketches(ds_images["empty"], seed=4)
    from_empty.update(values)
    assert from_empty == fresh
    fresh_one = KLL(200, seed=4)
    fresh_one.update([1.5, *values])
    from_one = KLL.from_datasketches(ds_images["one"], seed=4)
    from_one.update(values)
    assert from_one == fresh_one


# --- writing images datasketches reads -------------------------------------------------------------


def our_sketch(values, k: int = 200, seed: int = 0) -> KLL:
    sketch = KLL(k, seed=seed)
    sketch.update(np.asarray(values, dtype=np.float64))
    return sketch


OUR_STREAMS = {
    "empty": lambda: KLL(),
    "one": lambda: our_sketch([2.5]),
    "two": lambda: our_sketch([1.0, 2.0]),
    "infinities and -0.0": lambda: our_sketch([1.0, math.inf, -math.inf, -0.0, 2.0]),
    "1e5": lambda: our_sketch(lognormal(100_000, 40)),
    "k=8, 1000": lambda: our_sketch(lognormal(1000, 41), k=8),
    "k=1000, 1e5": lambda: our_sketch(lognormal(100_000, 42), k=1000),
    "weighted": lambda: _weighted(),
    "merge 200+100": lambda: our_sketch(np.arange(5000.0)) + our_sketch(-np.arange(5000.0), k=100),
    "merge of 10": lambda: sum(
        (our_sketch(lognormal(2000 + i, 50 + i), seed=i) for i in range(1, 10)), our_sketch([])
    ),
}


def _weighted() -> KLL:
    sketch = KLL(200, seed=1)
    rng = np.random.default_rng(43)
    sketch.update(rng.normal(size=3000), rng.integers(1, 1000, 3000))
    sketch.add(7.0, 2**40)
    return sketch


@pytest.mark.parametrize("name", OUR_STREAMS)
def test_our_images_read_in_datasketches_with_the_same_answers(name):
    sketch = OUR_STREAMS[name]()
    data = sketch.to_datasketches()
    image = parse(data)
    check_sound(image)
    theirs = kll_doubles_sketch.deserialize(data)
    assert theirs.serialize() == data  # a canonical image: what datasketches writes for it
    assert theirs.n == sketch.count and theirs.k == sketch.k and theirs.num_retained == sketch.num_retained
    assert image["min_k"] == sketch.min_k
    if sketch.count:
        assert theirs.get_min_value() == sketch.min and theirs.get_max_value() == sketch.max
        assert_same_answers(sketch, theirs, image)
    back = KLL.from_datasketches(data, seed=sketch.seed)
    assert contents(back.to_datasketches()) == contents(data)
    qs = np.linspace(0, 1, 11)
    assert np.array_equal(back.quantiles(qs), sketch.quantiles(qs), equal_nan=True)


def test_small_images_byte_for_byte():
    assert KLL().to_datasketches() == bytes.fromhex("02010f01c8000800")
    one = our_sketch([1.0]).to_datasketches()
    assert one[:3] == bytes.fromhex("02020f") and one[3] & ~FLAG_LEVEL_ZERO_SORTED == FLAG_SINGLE
    assert one[4:] == bytes.fromhex("c8000800") + struct.pack("<d", 1.0)
    two = our_sketch([1.0, 2.0]).to_datasketches()
    assert contents(two) == contents(ds_sketch([1.0, 2.0]).serialize())
    assert len(two) == 56 and two[:3] == bytes.fromhex("05010f")


@pytest.mark.parametrize("k", [8, 9, 20, 200, 333])
def test_levels_after_updates_are_the_datasketches_levels(k):
    """The levels depend on k and n only (not on the random bits): the same as datasketches'."""
    rng = np.random.default_rng(k)
    for n in (2, k - 1, k, k + 1, 3 * k, 5000, 20_000):
        values = rng.normal(size=n)
        ours, theirs = (
            parse(our_sketch(values, k=k).to_datasketches()),
            parse(ds_sketch(values, k=k).serialize()),
        )
        assert ours["levels"] == theirs["levels"], (k, n)
        if n <= k:
            assert weighted(ours) == weighted(theirs)


def test_a_million_items_at_k_200_take_5000_bytes():
    values = lognormal(1_000_000, 44)
    sketch = our_sketch(values)
    assert sketch.num_retained == 614 and len(sketch.to_datasketches()) == 5000
    assert len(ds_sketch(values).serialize()) == 5000


MERGES = [
    (200, 200, 3000, 5000),
    (200, 100, 5000, 5000),
    (100, 200, 7000, 300),
    (8, 64, 999, 12_345),
    (300, 8, 20_000, 20_000),
    (200, 200, 50, 150),
    (64, 8, 0, 5000),
    (200, 100, 10, 1),
]


@pytest.mark.parametrize(("ka", "kb", "na", "nb"), MERGES)
def test_merges_give_the_datasketches_levels_and_min_k(ka, kb, na, nb):
    a, b = our_sketch(lognormal(na, ka + na), k=ka), our_sketch(lognormal(nb, kb + nb), k=kb, seed=1)
    theirs = kll_doubles_sketch.deserialize(a.to_datasketches())
    theirs.merge(kll_doubles_sketch.deserialize(b.to_datasketches()))
    a.merge(b)
    ours, expected = parse(a.to_datasketches()), parse(theirs.serialize())
    assert (ours["levels"], ours["min_k"], ours["n"], ours["k"]) == (
        expected["levels"],
        expected["min_k"],
        expected["n"],
        expected["k"],
    )
    assert a.min_k == expected["min_k"] and a.k == ka
    check_sound(ours)
    more = lognormal(4000, 99)
    a.update(more)
    theirs.update(more)
    assert parse(a.to_datasketches())["levels"] == parse(theirs.serialize())["levels"]


# --- hypothesis round trips ------------------------------------------------------------------------

values_strategy = st.lists(
    st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1.0, math.inf, -math.inf, math.nan])), max_size=400
)


@settings(max_examples=300)
@given(values=values_strategy, k=st.sampled_from([8, 10, 200]), query=st.booleans())
def test_datasketches_images_of_any_values_read_back(values, k, query):
    theirs = ds_sketch(values, k=k)
    if query and theirs.n:
        theirs.get_rank(0.0)
    data = theirs.serialize()
    sketch = KLL.from_datasketches(data)
    assert sketch.count == theirs.n == sum(not math.isnan(x) for x in values)
    assert contents(sketch.to_datasketches()) == contents(data)
    if theirs.n:
        probes = [x for x in values if not math.isnan(x)][:20] + [0.0, -math.inf, math.inf]
        assert [sketch.rank(x) for x in probes] == [theirs.get_rank(x, True) for x in probes]
        assert (
            sketch.quantile(0.0) == theirs.get_min_value() and sketch.quantile(1.0) == theirs.get_max_value()
        )
        for q in (1e-9, 0.1, 0.5, 0.9, 1 - 1e-9):
            assert sketch.quantile(q) == theirs.get_quantile(ds_quantile_for(q, theirs.n), True)


@settings(max_examples=300)
@given(values=values_strategy, k=st.sampled_from([8, 10, 200]), seed=st.integers(0, 2**64 - 1))
def test_our_images_of_any_values_read_in_datasketches(values, k, seed):
    sketch = KLL(k, seed=seed)
    sketch.update(np.asarray(values, dtype=np.float64))
    data = sketch.to_datasketches()
    theirs = kll_doubles_sketch.deserialize(data)
    assert theirs.serialize() == data
    assert theirs.n == sketch.count and theirs.num_retained == sketch.num_retained
    finite = [x for x in values if not math.isnan(x)]
    direct = parse(ds_sketch(finite, k=k).serialize())
    assert parse(data)["levels"] == direct["levels"]
    if len(finite) <= k:  # no compaction yet: the very items datasketches keeps
        assert contents(data) == contents(ds_sketch(finite, k=k).serialize())
    if finite:
        assert theirs.get_min_value() == sketch.min and theirs.get_max_value() == sketch.max
        probes = finite[:20] + [0.0, -math.inf, math.inf]
        assert [sketch.rank(x) for x in probes] == [theirs.get_rank(x, True) for x in probes]
    assert sketch == KLL.from_bytes(sketch.to_bytes())


# --- bytes datasketches never writes ---------------------------------------------------------------


def _image(n: int = 1000, k: int = 200) -> bytearray:
    return bytearray(ds_sketch(lognormal(n, 60), k=k).serialize())


def _edit(data: bytearray, fmt: str, offset: int, *values) -> bytes:
    struct.pack_into(fmt, data, offset, *values)
    return bytes(data)


def _items_offset(data: bytes) -> int:
    return 36 + 4 * data[18]


def _unsort_a_level(data: bytearray) -> bytes:
    p = parse(bytes(data))
    h = next(h for h in range(1, p["num_levels"]) if len(p["by_level"][h]) >= 2)
    start = _items_offset(data) + 8 * (p["levels"][h] - p["levels"][0])
    a, b = struct.unpack_from("<dd", data, start)
    assert a < b
    return _edit(data, "<dd", start, b, a)


def _min_above_an_item(data: bytearray) -> bytes:
    p = parse(bytes(data))
    smallest = min(x for level in p["by_level"] for x in level)
    return _edit(data, "<d", _items_offset(data) - 16, np.nextafter(smallest, math.inf))


def _max_below_an_item(data: bytearray) -> bytes:
    p = parse(bytes(data))
    largest = max(x for level in p["by_level"] for x in level)
    return _edit(data, "<d", _items_offset(data) - 8, np.nextafter(largest, -math.inf))


EMPTY = bytes.fromhex("02010f01c8000800")
SINGLE = bytes.fromhex("02020f04c8000800") + struct.pack("<d", 1.0)

INVALID = {
    "nothing": lambda: b"",
    "7 bytes": lambda: EMPTY[:7],
    "m=4": lambda: _edit(_image(), "<B", 6, 4),
    "family 14": lambda: _edit(_image(), "<B", 2, 14),
    "serial version 3": lambda: _edit(_image(), "<B", 1, 3),
    "serial version 0": lambda: _edit(_image(), "<B", 1, 0),
    "preamble 2 without the empty or single flag": lambda: _edit(_image(), "<B", 0, 2),
    "preamble 5 on an empty image": lambda: _edit(bytearray(EMPTY), "<B", 0, 5),
    "preamble 5 on a single item": lambda: _edit(bytearray(SINGLE), "<B", 0, 5),
    "empty image with k=7": lambda: _edit(bytearray(EMPTY), "<H", 4, 7),
    "single item with k=0": lambda: _edit(bytearray(SINGLE), "<H", 4, 0),
    "single item with k=7": lambda: _edit(bytearray(SINGLE), "<H", 4, 7),
    "single NaN": lambda: _edit(bytearray(SINGLE), "<d", 8, math.nan),
    "single item and a byte": lambda: SINGLE + b"\0",
    "single item cut": lambda: SINGLE[:12],
    "full image cut to 20 bytes": lambda: bytes(_image()[:20]),
    "full image cut to 19 bytes": lambda: bytes(_image()[:19]),
    "full image and a byte": lambda: bytes(_image()) + b"\0",
    "full image with k=7": lambda: _edit(_image(), "<H", 4, 7),
    "full image with another k": lambda: _edit(_image(), "<H", 4, 201),
    "two items with k=0": lambda: _edit(bytearray(ds_sketch([1.0, 2.0]).serialize()), "<H", 4, 0),
    "num_levels 0": lambda: _edit(_image(), "<B", 18, 0),
    "num_levels 200": lambda: _edit(_image(), "<B", 18, 200),
    "num_levels 255, cut short": lambda: _edit(_image(), "<B", 18, 255)[:40],
    "levels[0] beyond the capacity": lambda: _edit(_image(), "<I", 20, 10_000),
    "levels not increasing": lambda: _edit(_image(), "<I", 24, 0),
    "n one more": lambda: _edit(_image(), "<Q", 8, 1001),
    "n zero in a full image": lambda: _edit(_image(), "<Q", 8, 0),
    "n one in a full image": lambda: _edit(_image(), "<Q", 8, 1),
    "n 2**64-1": lambda: _edit(_image(), "<Q", 8, 2**64 - 1),
    "min_k 0": lambda: _edit(_image(), "<H", 16, 0),
    "min_k 7": lambda: _edit(_image(), "<H", 16, 7),
    "min_k above k": lambda: _edit(_image(), "<H", 16, 201),
    "NaN item": lambda: _edit(_image(), "<d", _items_offset(_image()), math.nan),
    "NaN min": lambda: _edit(_image(), "<d", _items_offset(_image()) - 16, math.nan),
    "NaN max": lambda: _edit(_image(), "<d", _items_offset(_image()) - 8, math.nan),
    "min above an item": lambda: _min_above_an_item(_image()),
    "max below an item": lambda: _max_below_an_item(_image()),
    "a level above 0 out of order": lambda: _unsort_a_level(_image()),
}


@pytest.mark.parametrize("name", INVALID)
def test_bytes_datasketches_never_writes_are_refused(name):
    with pytest.raises(ValueError):
        KLL.from_datasketches(INVALID[name]())


def test_from_datasketches_refuses_our_own_bytes_and_other_types():
    with pytest.raises(ValueError):
        KLL.from_datasketches(our_sketch(lognormal(1000, 61)).to_bytes())
    with pytest.raises(ValueError):
        KLL.from_bytes(our_sketch(lognormal(1000, 61)).to_datasketches())
    with pytest.raises(TypeError):
        KLL.from_datasketches("02010f01c8000800")


# --- fuzzing ---------------------------------------------------------------------------------------


def check_image_bytes(data: bytes) -> None:
    """``KLL.from_datasketches``: ValueError, or a sound sketch holding exactly what the bytes say."""
    try:
        sketch = KLL.from_datasketches(data)
    except ValueError:
        return
    written = sketch.to_datasketches()
    image = parse(written)
    check_sound(image)
    assert image["n"] == sketch.count
    assert contents(written) == contents(data)  # the bytes were an intact image after all
    check_sketch(sketch)


def check_sketch(sketch) -> None:
    """A sketch from bytes answers, copies, round-trips and takes more values."""
    again = type(sketch).from_bytes(sketch.to_bytes())
    assert again == sketch and again.to_bytes() == sketch.to_bytes()
    answers = sketch.quantiles([0.0, 0.25, 0.5, 0.75, 1.0])
    if sketch.count:
        assert not np.isnan(answers).any() and np.all(answers[1:] >= answers[:-1])
        assert 0.0 <= sketch.rank(answers[2]) <= 1.0
    else:
        assert np.isnan(answers).all()
    twin = copy.copy(sketch)
    try:
        twin.update([1.0, 2.0, 3.0])
    except OverflowError:  # a count read as nearly 2**64
        return
    if isinstance(sketch, KLL):
        assert sketch.rank(sketch.max) == 1.0 or sketch.count == 0
        check_sound(parse(twin.to_datasketches()))


def check_bytes(cls, data: bytes) -> None:
    try:
        sketch = cls.from_bytes(data)
    except ValueError:
        return
    check_sketch(sketch)


def seed_images() -> dict[str, list[bytes]]:
    rng = np.random.default_rng(70)
    ds = [
        make().serialize() for name, make in DS_STREAMS.items() if "1e5" not in name and "65535" not in name
    ]
    kll = [
        KLL().to_bytes(),
        our_sketch([1.0]).to_bytes(),
        our_sketch(rng.normal(size=150)).to_bytes(),
        our_sketch(rng.normal(size=3000), k=8).to_bytes(),
        (our_sketch(rng.normal(size=900), k=20) + our_sketch(rng.normal(size=900), k=8)).to_bytes(),
        _weighted().to_bytes(),
    ]
    dd = []
    for values in ([], [0.0], [1.0, -1.0], rng.normal(size=300), rng.lognormal(0, 3, 3000), [1e-300, 1e300]):
        sketch = DDSketch(0.02, max_bins=256)
        sketch.update(np.asarray(values, dtype=np.float64))
        dd.append(sketch.to_bytes())
    small = DDSketch(0.05, max_bins=8)
    small.update(np.arange(1.0, 1000.0))
    dd.append(small.to_bytes())
    return {"datasketches": ds, "kll": kll, "ddsketch": dd}


SEEDS = seed_images()
INTERESTING = [0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 2**31, 2**32 - 1, 2**63, 2**64 - 1]


@st.composite
def damaged(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cut", "flip", "set", "insert", "delete", "append", "float"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "cut":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif op == "set" and data:
            size = draw(st.sampled_from([1, 2, 4, 8]))
            value = draw(st.sampled_from(INTERESTING)) % 256**size
            chunk = value.to_bytes(size, "little")
            data[position : position + size] = chunk[: len(data) - position]
        elif op == "float" and len(data) >= 8:
            position = min(position, len(data) - 8)
            value = draw(st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308, 5e-324]))
            data[position : position + 8] = struct.pack("<d", value)
        elif op == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        elif op == "append":
            data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@settings(max_examples=3000)
@given(data=damaged(SEEDS["datasketches"]))
def test_fuzz_from_datasketches_with_damaged_images(data):
    check_image_bytes(data)


@settings(max_examples=1500)
@given(
    header=st.sampled_from([EMPTY[:4], SINGLE[:4], bytes.fromhex("05010f00"), bytes.fromhex("05020f02")]),
    k=st.sampled_from([0, 7, 8, 200, 65535]),
    body=st.binary(max_size=200),
)
def test_fuzz_from_datasketches_with_random_bodies(header, k, body):
    check_image_bytes(header + struct.pack("<HBB", k, 8, 0) + body)


@settings(max_examples=2500)
@given(data=st.one_of(damaged(SEEDS["kll"]), st.binary(max_size=300)))
def test_fuzz_kll_from_bytes(data):
    check_bytes(KLL, data)


@settings(max_examples=2500)
@given(data=st.one_of(damaged(SEEDS["ddsketch"]), st.binary(max_size=300)))
def test_fuzz_ddsketch_from_bytes(data):
    check_bytes(DDSketch, data)


@settings(max_examples=500)
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes_everywhere(data):
    check_image_bytes(data)
    check_bytes(KLL, data)
    check_bytes(DDSketch, data)


@pytest.mark.parametrize("kind", SEEDS)
def test_every_cut_and_every_byte_flip_of_the_seed_images(kind):
    """Seeded and exhaustive: every truncation (always an error) and three flips of every byte."""
    read = {
        "datasketches": check_image_bytes,
        "kll": lambda b: check_bytes(KLL, b),
        "ddsketch": lambda b: check_bytes(DDSketch, b),
    }[kind]
    reader = (
        KLL.from_datasketches if kind == "datasketches" else (KLL if kind == "kll" else DDSketch).from_bytes
    )
    for data in SEEDS[kind]:
        for cut in range(len(data)):
            with pytest.raises(ValueError):
                reader(data[:cut])
        for i in range(len(data)):
            for flip in (0x01, 0x80, 0xFF):
                damaged_bytes = bytearray(data)
                damaged_bytes[i] ^= flip
                read(bytes(damaged_bytes))


EXTREMES = [2**31, 2**32 - 1, 2**63 - 128, 2**63 - 1, 2**63, 2**63 + 128, 2**64 - 128, 2**64 - 1]


@pytest.mark.parametrize("kind", SEEDS)
def test_extreme_integers_written_over_every_offset(kind):
    """Offsets, lengths and counts near 2**63 or 2**64 (where a bounds check could wrap): ValueError
    or a sound sketch, never a panic."""
    read = {
        "datasketches": check_image_bytes,
        "kll": lambda b: check_bytes(KLL, b),
        "ddsketch": lambda b: check_bytes(DDSketch, b),
    }[kind]
    for data in SEEDS[kind]:
        # The integers of a datasketches image are in its first 20 + 4 L bytes (then min, max, items).
        end = 36 + 4 * data[18] if kind == "datasketches" and len(data) > 20 else len(data)
        for i in range(min(end, len(data) - 7)):
            for value in EXTREMES:
                damaged_bytes = bytearray(data)
                damaged_bytes[i : i + 8] = value.to_bytes(8, "little")
                read(bytes(damaged_bytes))
                damaged_bytes = bytearray(data)
                damaged_bytes[i : i + 4] = (value % 2**32).to_bytes(4, "little")
                read(bytes(damaged_bytes))


def test_a_level_with_zero_before_negative_zero_is_sorted():
    """DataSketches sorts with `<`, for which -0.0 and 0.0 are equal: a level may hold them in either
    order (its compaction picks every other item from a random start, so which one depends on the
    clock). Such an image is read."""
    for seed in range(64):
        ours = KLL(8, seed=seed)
        ours.update([0.0] * 5 + [-0.0] + [0.0] * 3 + [1.0] * 7)
        image = ours.to_datasketches()
        levels = parse(image)["by_level"]
        if len(levels) > 1 and len(levels[1]) >= 2:
            break
    # Level 1 as DataSketches may write it: 0.0, then -0.0 (both the same value).
    p = parse(image)
    start = image.rindex(struct.pack("<dd", *p["by_level"][1][:2]))
    swapped = image[:start] + struct.pack("<dd", 0.0, -0.0) + image[start + 16 :]
    sketch = KLL.from_datasketches(swapped)
    assert contents(sketch.to_datasketches()) == contents(swapped) and sketch.count == 16
    assert sketch.rank(0.0) == sketch.rank(-0.0) and sketch.quantile(0.0) == 0.0
