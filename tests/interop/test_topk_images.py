"""TopK and Apache DataSketches' frequent-items images (5.x), both ways, and hostile bytes.

An image is ``preamble(8) | n u32, 0 u32, total_weight u64, offset u64 | n weights u64 | n items``
(see ``parse``); an empty image is the 8-byte preamble alone. Items are ``u32 length, UTF-8`` for a
``frequent_strings_sketch`` and an i64 each for a ``frequent_items_sketch`` with ``PyLongsSerDe``.
The weights are the lower bounds; DataSketches' upper bound is weight + offset, its estimate the same
(0 for an absent item), its maximum error the offset. TopK's ``bounds(item)`` is (lower, upper),
``most_common`` reports upper bounds and ``error_bound`` is the offset.

datasketches' own ``deserialize`` can crash on damaged bytes: only intact images (written by
datasketches, or by sketchy from an intact sketch) are ever given to it here.
"""

from __future__ import annotations

import pickle
import random
import re
import struct
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchy import TopK

datasketches = pytest.importorskip("datasketches")
frequent_strings_sketch = datasketches.frequent_strings_sketch
frequent_items_sketch = datasketches.frequent_items_sketch
NFN = datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES
NFP = datasketches.frequent_items_error_type.NO_FALSE_POSITIVES
LONGS = datasketches.PyLongsSerDe()
MAX_CAPACITY = 2**24
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


# --- the image layout ------------------------------------------------------------------------------


def fi_capacity(lg: int) -> int:
    return int(0.75 * 2**lg)


def parse(data: bytes, kind: str = "str") -> dict:
    """A well-formed image (AssertionError otherwise): its fields, its weights and items in order."""
    data = bytes(data)
    assert len(data) >= 8
    pre, serial, family, lg_max, lg_cur, flags, _ = struct.unpack_from("<BBBBBBH", data, 0)
    empty = bool(flags & 0x05)
    assert serial == 1 and family == 10 and 3 <= lg_cur <= lg_max
    assert pre == (1 if empty else 4)
    out = dict(lg_max=lg_max, lg_cur=lg_cur, empty=empty)
    if empty:
        assert len(data) == 8
        return out | dict(total=0, offset=0, weights=[], items=[])
    n, _, total, offset = struct.unpack_from("<IIQQ", data, 8)
    assert 32 + 8 * n <= len(data)
    weights = list(struct.unpack_from(f"<{n}Q", data, 32))
    at, items = 32 + 8 * n, []
    for _ in range(n):
        if kind == "str":
            (length,) = struct.unpack_from("<I", data, at)
            assert at + 4 + length <= len(data)
            items.append(data[at + 4 : at + 4 + length].decode("utf-8"))
            at += 4 + length
        else:
            items.append(struct.unpack_from("<q", data, at)[0])
            at += 8
    assert at == len(data), "bytes after the items"
    return out | dict(total=total, offset=offset, weights=weights, items=items)


def image_counts(image: dict) -> dict:
    return dict(zip(image["items"], image["weights"], strict=True))


def lower_counts(sketch: TopK) -> dict:
    """TopK's items with their lower bounds (its internal counts)."""
    out = {}
    for item, upper in sketch.most_common(len(sketch)):
        lower, high = sketch.bounds(item)
        assert high == upper == sketch[item] and high - lower == sketch.error_bound
        out[item] = lower
    assert len(out) == len(sketch)
    return out


def ds_read(data: bytes, kind: str):
    if kind == "str":
        return frequent_strings_sketch.deserialize(data)
    return frequent_items_sketch.deserialize(data, LONGS)


def ds_write(theirs, kind: str) -> bytes:
    return theirs.serialize() if kind == "str" else theirs.serialize(LONGS)


def ds_new(lg: int, kind: str):
    return frequent_strings_sketch(lg) if kind == "str" else frequent_items_sketch(lg)


def max_error(theirs) -> int:
    """datasketches has no get_maximum_error() in Python: to_string() prints it."""
    return int(re.search(r"max error\s*:\s*(\d+)", theirs.to_string()).group(1))


def assert_same(sketch: TopK, theirs, data: bytes, kind: str, probes=()) -> None:
    """A datasketches sketch and a TopK hold the same items, bounds, total and maximum error."""
    image = parse(data, kind)
    eb = sketch.error_bound
    assert theirs.num_active_items == len(sketch) == len(image["items"])
    assert theirs.is_empty() == (len(sketch) == 0)
    if len(sketch):  # an empty image does not say its total (datasketches reads it as 0)
        assert theirs.total_weight == sketch.total == image["total"]
        assert max_error(theirs) == eb == image["offset"]
    ours = lower_counts(sketch)
    assert image_counts(image) == ours
    for item, lower in ours.items():
        assert theirs.get_lower_bound(item) == lower
        assert theirs.get_upper_bound(item) == lower + eb == sketch.bounds(item)[1]
        assert theirs.get_estimate(item) == lower + eb
    for item in probes:
        if item not in ours:
            assert item not in sketch and sketch.bounds(item) == (0, eb) and sketch[item] == eb
            assert theirs.get_lower_bound(item) == 0 and theirs.get_estimate(item) == 0
            if len(sketch):
                assert theirs.get_upper_bound(item) == eb
    rows = theirs.get_frequent_items(NFN)  # threshold: the maximum error, so every item
    assert sorted(rows, key=repr) == sorted(((i, c + eb, c, c + eb) for i, c in ours.items()), key=repr)


def assert_most_common_agrees(sketch: TopK, theirs) -> None:
    """most_common's counts are datasketches' estimates (upper bounds): the same items above any
    threshold (no false negatives: upper > threshold; no false positives: lower > threshold)."""
    eb = sketch.error_bound
    everything = sketch.most_common(len(sketch))
    uppers = [c for _, c in everything]
    assert uppers == sorted(uppers, reverse=True)
    estimates = sorted((row[1] for row in theirs.get_frequent_items(NFN)), reverse=True)
    assert uppers == estimates
    for n in {1, 2, 5, 10, len(sketch)}:
        top = sketch.most_common(n)
        assert top == everything[:n]
        assert [c for _, c in top] == estimates[:n]
        assert all(theirs.get_estimate(item) == c for item, c in top)
    thresholds = {eb, eb + 1, *uppers[:: max(1, len(uppers) // 7)]}
    for thr in thresholds:
        if thr == 0:
            continue  # the binding replaces 0 with the maximum error
        nfn = {row[0]: row[1] for row in theirs.get_frequent_items(NFN, thr)}
        assert nfn == {item: c for item, c in everything if c > thr}
        nfp = {row[0]: row[2] for row in theirs.get_frequent_items(NFP, thr)}
        assert nfp == {item: c - eb for item, c in everything if c - eb > thr}


def assert_bytes_round_trip(sketch: TopK) -> None:
    again = TopK.from_bytes(sketch.to_bytes())
    assert again == sketch and again.to_bytes() == sketch.to_bytes()


# --- streams ---------------------------------------------------------------------------------------


def zipf_strs(n: int, seed: int, prefix: str = "item", a: float = 1.3) -> list[str]:
    return [f"{prefix}{int(x)}" for x in np.random.default_rng(seed).zipf(a, n)]


def zipf_ints(n: int, seed: int, a: float = 1.3) -> list[int]:
    """Zipf ranks spread over int64, negatives and the extremes included."""
    ranks = np.random.default_rng(seed).zipf(a, n)
    out = []
    for r in ranks.tolist():
        r = int(r)
        if r == 3:
            out.append(I64_MIN)
        elif r == 4:
            out.append(I64_MAX)
        elif r % 2:
            out.append(-(r % 2**40) * 1_000_003)
        else:
            out.append(r)
    return out


def weights_for(n: int, seed: int, high: int = 1000) -> list[int]:
    return np.random.default_rng(seed + 1).integers(1, high, n).tolist()


def stream(kind: str, n: int, seed: int, prefix: str = "item") -> list:
    return zipf_strs(n, seed, prefix) if kind == "str" else zipf_ints(n, seed)


def ours(items, counts=None, *, k: int = 10, capacity: int | None = 64, seed: int = 0) -> TopK:
    sketch = TopK(k, capacity=capacity, seed=seed)
    if len(items):
        sketch.update(list(items), counts=counts)
    return sketch


def theirs_from(items, weights=None, *, lg: int, kind: str):
    sketch = ds_new(lg, kind)
    if weights is None:
        for item in items:
            sketch.update(item)
    else:
        for item, w in zip(items, weights, strict=True):
            sketch.update(item, w)
    return sketch


def truth(items, weights=None) -> Counter:
    out = Counter()
    for item, w in zip(items, [1] * len(items) if weights is None else weights, strict=True):
        out[item] += w
    return out


# --- sketchy -> datasketches -----------------------------------------------------------------------


def check_written(sketch: TopK, kind: str, probes=()) -> bytes:
    """The image datasketches reads, with the same contents; what datasketches writes again reads
    back in sketchy with the same items and counts."""
    data = sketch.to_datasketches(items=kind)
    image = parse(data, kind)
    assert fi_capacity(image["lg_max"]) >= len(sketch)  # datasketches reads it without a purge
    theirs = ds_read(data, kind)
    assert_same(sketch, theirs, data, kind, probes)
    again = ds_write(ds_read(data, kind), kind)
    back = TopK.from_datasketches(again, items=kind)
    assert lower_counts(back) == lower_counts(sketch) and len(back) == len(sketch)
    if len(sketch):  # (with no items the image is the empty one, as datasketches' own would be)
        assert back.total == sketch.total and back.error_bound == sketch.error_bound
    if kind == "str":
        again = frequent_strings_sketch.deserialize(data).serialize()
        assert lower_counts(TopK.from_datasketches(again)) == lower_counts(sketch)
    return data


def _merged(kind: str, capacity: int, parts: int, seed: int) -> TopK:
    sketches = [ours(stream(kind, 3000, seed + i), k=5, capacity=capacity, seed=3) for i in range(parts)]
    first = sketches[0]
    for other in sketches[1:]:
        first.merge(other)
    return first


OUR_STREAMS = {
    "empty": lambda kind: TopK(5),
    "one": lambda kind: ours(stream(kind, 1, 1)),
    "one, weighted 2**40": lambda kind: ours(stream(kind, 1, 2), [2**40]),
    "zipf 10_000 cap 64": lambda kind: ours(stream(kind, 10_000, 3)),
    "zipf 10_000 cap 1000": lambda kind: ours(stream(kind, 10_000, 4), capacity=1000),
    "zipf 20_000 cap 4096": lambda kind: ours(stream(kind, 20_000, 5, "x"), capacity=4096),
    "weighted": lambda kind: ours(stream(kind, 5000, 6), weights_for(5000, 6)),
    "weighted, large": lambda kind: ours(stream(kind, 2000, 7), weights_for(2000, 7, 2**40)),
    "exact (few distinct)": lambda kind: ours(stream(kind, 3000, 8)[:40] * 3),
    "merge of 2": lambda kind: _merged(kind, 50, 2, 9),
    "merge of 8": lambda kind: _merged(kind, 200, 8, 20),
    "merge of 8, cap 7": lambda kind: _merged(kind, 7, 8, 40),
}


@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize("name", OUR_STREAMS)
def test_our_images_read_in_datasketches_with_the_same_contents(name, kind):
    sketch = OUR_STREAMS[name](kind)
    probes = stream(kind, 300, 99) + (["", "absent"] if kind == "str" else [0, -1, I64_MIN, I64_MAX])
    check_written(sketch, kind, probes)


def test_empty_images_byte_for_byte():
    assert TopK(5).to_datasketches() == bytes([1, 1, 10, 6, 3, 5, 0, 0])  # capacity 40: lg 6 holds 48
    assert TopK(5).to_datasketches(items="int") == TopK(5).to_datasketches()
    assert TopK(1, capacity=1).to_datasketches() == frequent_strings_sketch(3).serialize()
    assert TopK(1, capacity=6).to_datasketches() == frequent_strings_sketch(3).serialize()
    assert TopK(1, capacity=7).to_datasketches() == frequent_strings_sketch(4).serialize()


def test_a_small_image_has_the_documented_layout():
    sketch = TopK(3)
    sketch.update(["aa", "b", "cc"], counts=[5, 3, 1])
    data = sketch.to_datasketches()
    image = parse(data)
    assert data[:3] == bytes([4, 1, 10]) and data[5] == 0
    assert image["total"] == 9 and image["offset"] == 0 and image_counts(image) == {"aa": 5, "b": 3, "cc": 1}
    assert len(data) == 32 + 3 * 8 + (4 + 2) + (4 + 1) + (4 + 2)
    ints = TopK(3)
    ints.update([I64_MIN, -1, I64_MAX], counts=[1, 2, 3])
    data = ints.to_datasketches(items="int")
    assert len(data) == 32 + 3 * 16
    assert image_counts(parse(data, "int")) == {I64_MIN: 1, -1: 2, I64_MAX: 3}


CAPACITIES = sorted(
    {
        *range(1, 65),
        *(c + d for lg in range(3, 13) for c in [fi_capacity(lg)] for d in (-1, 0, 1)),
        4095,
        4096,
    }
    - {0}
)


@pytest.mark.parametrize("kind", ["str", "int"])
def test_every_capacity_writes_an_image_datasketches_reads(kind):
    for capacity in CAPACITIES:
        items = stream(kind, 3 * capacity + 5, capacity)
        sketch = ours(items, k=min(capacity, 3), capacity=capacity, seed=capacity)
        data = check_written(sketch, kind)
        lg_max = parse(data, kind)["lg_max"]
        assert fi_capacity(lg_max) >= capacity, capacity  # room for every item the sketch may track
        # Bounds that datasketches reports contain the true counts (unless no item is left: see
        # test_a_sketch_with_every_item_purged_keeps_its_total_in_datasketches).
        theirs = ds_read(data, kind)
        for item, count in truth(items).items() if len(sketch) else ():
            assert theirs.get_lower_bound(item) <= count <= theirs.get_upper_bound(item)


def test_a_sketch_with_every_item_purged_keeps_its_total_in_datasketches():
    """Capacity 1 and two distinct items: no item left, total 2, error bound 1. datasketches reads
    a non-empty preamble with 0 items (keeping total and offset), so the image can say so; the
    empty image says total 0 and upper bounds 0, below the true counts."""
    for kind, items in (("int", [0, 1]), ("str", ["a", "b"])):
        sketch = ours(items, k=1, capacity=1)
        assert len(sketch) == 0 and sketch.total == 2 and sketch.error_bound == 1
        theirs = ds_read(sketch.to_datasketches(items=kind), kind)
        assert theirs.total_weight == sketch.total
        assert theirs.get_upper_bound(items[0]) >= 1


def test_writing_refuses_items_of_another_type():
    for bad in ([b"bytes"], [1.5], [float("nan")], [2**63], [2**64 - 1], [bytearray(b"ba")]):
        sketch = ours(["fine", *bad] if not isinstance(bad[0], int) else [7, *bad])
        for kind in ("str", "int"):
            with pytest.raises(ValueError, match="items"):
                sketch.to_datasketches(items=kind)
    strs, ints = ours(["a", "b"]), ours([1, 2])
    with pytest.raises(ValueError, match="items"):
        strs.to_datasketches(items="int")
    with pytest.raises(ValueError, match="items"):
        ints.to_datasketches(items="str")
    mixed = ours(["a", 1])
    for kind in ("str", "int"):
        with pytest.raises(ValueError, match="items"):
            mixed.to_datasketches(items=kind)
    for items in ("other", "STR", "long", "bytes", ""):
        for sketch in (strs, ints, TopK(3)):
            with pytest.raises(ValueError, match="items"):
                sketch.to_datasketches(items=items)
        with pytest.raises(ValueError, match="items"):
            TopK.from_datasketches(frequent_strings_sketch(3).serialize(), items=items)
    # bool is an int item; the last int64 is fine
    assert image_counts(parse(ours([True, I64_MAX, I64_MIN]).to_datasketches(items="int"), "int")) == {
        1: 1,
        I64_MAX: 1,
        I64_MIN: 1,
    }


# --- datasketches -> sketchy -----------------------------------------------------------------------

DS_SIZES = [0, 1, 5, 100, 10_000]


def ds_case(lg: int, n: int, weighted: bool, kind: str = "str"):
    seed = lg * 1000 + n + weighted
    items = stream(kind, n, seed)
    weights = weights_for(n, seed) if weighted else None
    return items, weights, theirs_from(items, weights, lg=lg, kind=kind)


def check_read(data: bytes, kind: str, truth_counts: Counter | None, probes=(), seed: int = 0) -> TopK:
    """sketchy reads what datasketches wrote with the same contents, answers as datasketches does,
    and keeps taking items with sound bounds."""
    theirs = ds_read(data, kind)
    image = parse(data, kind)
    for source in (data, bytearray(data), memoryview(data)):
        sketch = TopK.from_datasketches(source, items=kind, seed=seed)
        assert sketch.capacity == min(fi_capacity(image["lg_max"]), MAX_CAPACITY)
        assert sketch.k == max(1, len(image["items"])) and sketch.seed == seed
    assert_same(sketch, theirs, data, kind, probes)
    assert sketch.total == image["total"]
    assert_most_common_agrees(sketch, theirs)
    assert_bytes_round_trip(sketch)
    # Written back: the same contents.
    written = sketch.to_datasketches(items=kind)
    assert parse(written, kind)["lg_max"] == image["lg_max"]
    assert image_counts(parse(written, kind)) == image_counts(image)
    assert_same(sketch, ds_read(written, kind), written, kind)
    if truth_counts is not None and not image["empty"]:
        for item, count in truth_counts.items():
            lower, upper = sketch.bounds(item)
            assert lower <= count <= upper
    return sketch


def check_continuation(sketch: TopK, kind: str, before: Counter, seed: int) -> None:
    """More items on a read sketch: every true count of the whole stream stays within its bounds."""
    later = stream(kind, 5000, seed + 12345)
    counts = weights_for(5000, seed + 7, 50)
    sketch.update(later, counts=counts)
    whole = before + truth(later, counts)
    assert sketch.total == sum(whole.values())
    for item, count in whole.items():
        lower, upper = sketch.bounds(item)
        assert lower <= count <= upper, (item, count, lower, upper)
        if count > sketch.error_bound:
            assert item in sketch
    assert len(sketch) <= sketch.capacity
    data = sketch.to_datasketches(items=kind)
    assert_same(sketch, ds_read(data, kind), data, kind)
    assert_bytes_round_trip(sketch)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("lg", range(3, 13))
def test_datasketches_string_images_read_with_the_same_contents(lg, weighted):
    for n in DS_SIZES:
        items, weights, theirs = ds_case(lg, n, weighted)
        before = truth(items, weights)
        probes = list(before)[:200] + ["", "absent"]
        sketch = check_read(theirs.serialize(), "str", before, probes, seed=lg)
        if n in (100, 10_000):
            check_continuation(sketch, "str", before, seed=lg + n)


@pytest.mark.parametrize("lg", [3, 4, 6, 8, 10, 12])
def test_datasketches_int_images_read_with_the_same_contents(lg):
    for n in DS_SIZES:
        for weighted in (False, True):
            items, weights, theirs = ds_case(lg, n, weighted, "int")
            before = truth(items, weights)
            probes = list(before)[:200] + [0, -1, -2, I64_MIN, I64_MAX]
            sketch = check_read(theirs.serialize(LONGS), "int", before, probes)
            if n == 10_000:
                check_continuation(sketch, "int", before, seed=lg)


MERGES = [(3, 3), (4, 8), (8, 4), (10, 10), (12, 3), (12, 12), (5, 12)]


@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize(("lga", "lgb"), MERGES)
def test_merged_datasketches_images_read_with_the_same_contents(lga, lgb, kind):
    a_items, b_items = stream(kind, 3000, lga), stream(kind, 5000, lgb + 7)
    a_weights = [2] * len(a_items)
    a = theirs_from(a_items, a_weights, lg=lga, kind=kind)
    b = theirs_from(b_items, lg=lgb, kind=kind)
    a.merge(b)
    assert a.total_weight == 2 * 3000 + 5000
    before = truth(a_items, a_weights) + truth(b_items)
    sketch = check_read(ds_write(a, kind), kind, before, list(before)[:100])
    check_continuation(sketch, kind, before, seed=lga * lgb)


def test_a_read_image_with_a_large_offset_pickles_and_round_trips():
    """A small sketch merged into a larger one: offset 1 with capacity 192 (datasketches only keeps
    weights + offset <= total). Read, it must still go through to_bytes/from_bytes and pickle."""
    small = theirs_from(["x", *"012345"], [10, 1, 1, 1, 1, 1, 1], lg=3, kind="str")
    big = frequent_strings_sketch(8)
    big.merge(small)
    data = big.serialize()
    assert image_counts(parse(data)) == {"x": 9} and parse(data)["offset"] == 1
    sketch = TopK.from_datasketches(data)
    assert sketch.total == 16 and sketch.bounds("x") == (9, 10)
    assert_bytes_round_trip(sketch)
    assert pickle.loads(pickle.dumps(sketch)) == sketch


def test_merges_into_and_of_empty_datasketches_sketches():
    x = theirs_from(["q", "r", "q"], lg=5, kind="str")
    empty = frequent_strings_sketch(5)
    empty.merge(x)
    check_read(empty.serialize(), "str", Counter({"q": 2, "r": 1}))
    x.merge(frequent_strings_sketch(9))
    check_read(x.serialize(), "str", Counter({"q": 2, "r": 1}))
    many = frequent_strings_sketch(6)
    parts = [zipf_strs(700 + 13 * i, 50 + i) for i in range(10)]
    for i, part in enumerate(parts):
        many.merge(theirs_from(part, lg=4 + i % 5, kind="str"))
    check_read(many.serialize(), "str", sum((truth(p) for p in parts), Counter()))


def test_unicode_and_odd_strings_read_and_write():
    odd = ["", "é", "日本語テキスト", "\x00nul", "a" * 8, "a" * 9, "a" * 17, "😀" * 3, "\u200b", " "]
    theirs = theirs_from(odd, list(range(1, len(odd) + 1)), lg=4, kind="str")
    sketch = check_read(theirs.serialize(), "str", truth(odd, list(range(1, len(odd) + 1))), odd)
    check_written(sketch, "str", odd + ["absent"])
    assert sketch[""] == 1 and sketch["\x00nul"] == 4


def test_read_keywords_and_capacities():
    for lg in range(3, 31):
        data = frequent_strings_sketch(min(lg, 12)).serialize()
        data = data[:3] + bytes([lg]) + data[4:]
        sketch = TopK.from_datasketches(data)
        assert sketch.capacity == min(fi_capacity(lg), MAX_CAPACITY) and sketch.k == 1 and len(sketch) == 0
        assert sketch == TopK(1, capacity=sketch.capacity)
    five = frequent_strings_sketch(5).serialize()  # capacity 24
    assert TopK.from_datasketches(five, k=24).k == 24
    assert TopK.from_datasketches(five, k=3, seed=7) == TopK(3, capacity=24, seed=7)
    for k in (0, -1, 2**25):
        with pytest.raises(ValueError, match="k"):
            TopK.from_datasketches(five, k=k)
    with pytest.raises(ValueError):
        TopK.from_datasketches(five, seed=-1)
    with pytest.raises(TypeError):
        TopK.from_datasketches(five.hex())
    # Our own bytes are not an image, an image is not our bytes.
    sketch = ours(["a", "b", "a"])
    with pytest.raises(ValueError):
        TopK.from_datasketches(sketch.to_bytes())
    with pytest.raises(ValueError):
        TopK.from_bytes(sketch.to_datasketches())


def test_k_above_the_image_capacity_is_refused():
    """capacity = min(floor(0.75 * 2**lg_max), 2**24) and k <= capacity: a larger k is an error."""
    five = frequent_strings_sketch(5).serialize()  # capacity 24
    with pytest.raises(ValueError, match="k"):
        TopK.from_datasketches(five, k=25)


def test_read_sketches_merge_with_fresh_ones():
    items, weights, theirs = ds_case(6, 10_000, True)
    read = TopK.from_datasketches(theirs.serialize(), k=5, seed=2)
    fresh = TopK(5, capacity=read.capacity, seed=2)
    later = zipf_strs(4000, 77)
    fresh.update(later)
    merged = read + fresh
    whole = truth(items, weights) + truth(later)
    assert merged.total == sum(whole.values())
    for item, count in whole.items():
        lower, upper = merged.bounds(item)
        assert lower <= count <= upper
    data = merged.to_datasketches()
    assert_same(merged, frequent_strings_sketch.deserialize(data), data, "str")


# --- hypothesis round trips ------------------------------------------------------------------------

short_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
int64 = st.one_of(st.integers(I64_MIN, I64_MAX), st.sampled_from([0, -1, -2, 1, I64_MIN, I64_MAX]))


def _weighted_lists(elements):
    return st.lists(st.tuples(elements, st.integers(1, 2**32)), max_size=120)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(
    pairs=st.one_of(_weighted_lists(short_text), _weighted_lists(int64)),
    use_weights=st.booleans(),
    capacity=st.sampled_from([1, 2, 6, 7, 30, 200]),
)
def test_any_items_round_trip_sketchy_to_datasketches(pairs, use_weights, capacity):
    kind = "int" if pairs and isinstance(pairs[0][0], int) else "str"
    items = [i for i, _ in pairs]
    counts = [w for _, w in pairs] if use_weights else None
    sketch = ours(items, counts, k=1, capacity=capacity)
    check_written(sketch, kind, items[:20])
    exact = truth(items, counts) if len(sketch) else {}
    theirs = ds_read(sketch.to_datasketches(items=kind), kind)
    for item, count in exact.items():
        assert theirs.get_lower_bound(item) <= count <= theirs.get_upper_bound(item)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(
    pairs=st.one_of(_weighted_lists(short_text), _weighted_lists(int64)),
    use_weights=st.booleans(),
    lg=st.sampled_from([3, 4, 5, 8]),
)
def test_any_items_round_trip_datasketches_to_sketchy(pairs, use_weights, lg):
    kind = "int" if pairs and isinstance(pairs[0][0], int) else "str"
    items = [i for i, _ in pairs]
    weights = [w for _, w in pairs] if use_weights else None
    theirs = theirs_from(items, weights, lg=lg, kind=kind)
    data = ds_write(theirs, kind)
    sketch = TopK.from_datasketches(data, items=kind)
    assert_same(sketch, theirs, data, kind, items[:20])
    assert_most_common_agrees(sketch, theirs)
    assert_bytes_round_trip(sketch)
    if not theirs.is_empty():  # (a purge can leave no items: datasketches writes an empty image)
        for item, count in truth(items, weights).items():
            lower, upper = sketch.bounds(item)
            assert lower <= count <= upper
    written = sketch.to_datasketches(items=kind)
    assert image_counts(parse(written, kind)) == image_counts(parse(data, kind))


# --- bytes datasketches never writes ---------------------------------------------------------------


def _good() -> bytearray:
    return bytearray(theirs_from(["aa", "aa", "b", "cc", "aa", "b"], lg=4, kind="str").serialize())


def _edit(fmt: str, offset: int, *values, data: bytearray | None = None) -> bytes:
    data = _good() if data is None else data
    struct.pack_into(fmt, data, offset, *values)
    return bytes(data)


def _abc() -> bytearray:
    return bytearray(theirs_from(["abc"], lg=3, kind="str").serialize())


def _duplicates() -> bytes:
    data = _good()
    data[32 + 24 :] = b"".join(struct.pack("<I", 2) + b"dd" for _ in range(3))
    return bytes(data)


def _too_many_for_lg3() -> bytes:
    many = theirs_from([f"k{i}" for i in range(8)], list(range(1, 9)), lg=4, kind="str")
    data = bytearray(many.serialize())
    data[3] = data[4] = 3
    return bytes(data)


EMPTY = bytes([1, 1, 10, 4, 3, 5, 0, 0])
INVALID = {
    "nothing": lambda: b"",
    "7 bytes": lambda: EMPTY[:7],
    "empty and a byte": lambda: EMPTY + b"\0",
    "empty, preamble 4": lambda: bytes([4]) + EMPTY[1:],
    "empty, lg_cur 2": lambda: EMPTY[:4] + bytes([2]) + EMPTY[5:],
    "empty, lg_cur > lg_max": lambda: EMPTY[:4] + bytes([5]) + EMPTY[5:],
    "empty, lg_max 255": lambda: EMPTY[:3] + bytes([255]) + EMPTY[4:],
    "empty, lg_max 64": lambda: EMPTY[:3] + bytes([64, 64]) + EMPTY[5:],
    "preamble 1 without the empty flag": lambda: _edit("<B", 0, 1),
    "preamble 2": lambda: _edit("<B", 0, 2),
    "serial version 2": lambda: _edit("<B", 1, 2),
    "family 11": lambda: _edit("<B", 2, 11),
    "family 15 (kll)": lambda: _edit("<B", 2, 15),
    "a zero weight": lambda: _edit("<Q", 32, 0),
    "all weights zero": lambda: _edit("<3Q", 32, 0, 0, 0),
    "no items under a non-empty flag": lambda: _edit("<I", 8, 0),
    "one item more": lambda: _edit("<I", 8, 4),
    "2**32 - 1 items": lambda: _edit("<I", 8, 2**32 - 1),
    "cut by a byte": lambda: bytes(_good()[:-1]),
    "header only": lambda: bytes(_good()[:32]),
    "31 bytes": lambda: bytes(_good()[:31]),
    "trailing bytes": lambda: bytes(_good()) + b"\0\1",
    "a huge string length": lambda: _edit("<I", 32 + 24, 0xFFFFFFF0),
    "invalid UTF-8": lambda: _edit("<B", 32 + 24 + 4, 0xFF),
    "a lone surrogate in UTF-8": lambda: _edit("<3s", 40 + 4, b"\xed\xa0\x80", data=_abc()),
    "an overlong NUL in UTF-8": lambda: _edit("<2s", 40 + 4, b"\xc0\x80", data=_abc()),
    "duplicate items": _duplicates,
    "more items than the map holds": _too_many_for_lg3,
    "weights past 2**64": lambda: _edit("<2Q", 32, 2**63, 2**63),
}


@pytest.mark.parametrize("name", INVALID)
def test_bytes_datasketches_never_writes_are_refused(name):
    data = INVALID[name]()
    for kind in ("str", "int"):
        with pytest.raises(ValueError):
            TopK.from_datasketches(data, items=kind)


def test_duplicate_and_zero_weight_ints_are_refused():
    good = bytearray(theirs_from([5, 6, 7], [1, 2, 3], lg=3, kind="int").serialize(LONGS))
    dup = bytearray(good)
    dup[32 + 24 + 8 : 32 + 24 + 16] = dup[32 + 24 : 32 + 24 + 8]
    with pytest.raises(ValueError):
        TopK.from_datasketches(bytes(dup), items="int")
    with pytest.raises(ValueError):
        TopK.from_datasketches(_edit("<Q", 40, 0, data=bytearray(good)), items="int")
    with pytest.raises(ValueError):
        TopK.from_datasketches(bytes(good[:-1]), items="int")
    with pytest.raises(ValueError):
        TopK.from_datasketches(bytes(good) + b"\0", items="int")
    assert image_counts(parse(bytes(good), "int")) == {5: 1, 6: 2, 7: 3}
    assert lower_counts(TopK.from_datasketches(bytes(good), items="int")) == {5: 1, 6: 2, 7: 3}


# --- fuzzing ---------------------------------------------------------------------------------------


def check_image_bytes(data: bytes, kind: str) -> None:
    """``TopK.from_datasketches``: ValueError, or a sound sketch holding exactly what the bytes say."""
    try:
        sketch = TopK.from_datasketches(data, items=kind)
    except ValueError:
        return
    image = parse(data, kind)  # the bytes were a well-formed image after all
    assert len(set(image["items"])) == len(image["items"]) and all(image["weights"])
    assert sketch.capacity == min(fi_capacity(image["lg_max"]), MAX_CAPACITY)
    assert len(image["items"]) <= sketch.capacity
    assert lower_counts(sketch) == image_counts(image)
    assert sketch.error_bound == image["offset"] and sketch.total == image["total"]
    assert sketch.k == max(1, len(sketch))
    assert_bytes_round_trip(sketch)
    # Written back (never given to datasketches: the contents came from damaged bytes).
    written = sketch.to_datasketches(items=kind)
    again = parse(written, kind)
    assert image_counts(again) == image_counts(image)
    assert again["lg_max"] == min(image["lg_max"], 25)  # 2**24 items fit in 0.75 * 2**25
    if len(sketch):
        assert (again["total"], again["offset"]) == (image["total"], image["offset"])
        with pytest.raises(ValueError, match="items"):
            sketch.to_datasketches(items="int" if kind == "str" else "str")
    twin = sketch.copy()
    try:
        twin.update(["x", 1, "y"])
    except OverflowError:  # a total read as nearly 2**64
        return
    assert twin.total == sketch.total + 3


def _seed_images() -> dict[str, list[bytes]]:
    strs = [
        frequent_strings_sketch(3).serialize(),
        theirs_from(["a"], lg=3, kind="str").serialize(),
        theirs_from(["aa", "b", "cc", "aa"], [5, 3, 1, 1], lg=4, kind="str").serialize(),
        theirs_from(["", "é", "日本", "\x00"], lg=3, kind="str").serialize(),
        theirs_from(zipf_strs(500, 60, "w"), lg=3, kind="str").serialize(),
        theirs_from(zipf_strs(300, 61, "v"), lg=4, kind="str").serialize(),
        ours(zipf_strs(400, 62, "u"), k=3, capacity=10).to_datasketches(),
        ours(["p", "q", "p"], [2**40, 3, 1]).to_datasketches(),
    ]
    ints = [
        frequent_items_sketch(4).serialize(LONGS),
        theirs_from([7], lg=3, kind="int").serialize(LONGS),
        theirs_from([I64_MIN, -1, I64_MAX, 0], [1, 2, 3, 4], lg=3, kind="int").serialize(LONGS),
        theirs_from(zipf_ints(500, 63), lg=3, kind="int").serialize(LONGS),
        theirs_from(zipf_ints(500, 64), lg=4, kind="int").serialize(LONGS),
        ours(zipf_ints(400, 65), k=3, capacity=10).to_datasketches(items="int"),
    ]
    return {"str": strs, "int": ints}


SEEDS = _seed_images()
INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 2**31, 2**32 - 1, 2**63, 2**64 - 1]
EXTREMES = [2**31, 2**32 - 1, 2**63 - 1, 2**63, 2**64 - 128, 2**64 - 1]


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["cut", "flip", "set", "insert", "delete", "append", "header"])
        position = rng.randrange(max(1, len(data)))
        if op == "cut":
            data = data[: rng.randint(0, len(data))]
        elif op == "flip" and data:
            data[position] ^= rng.randint(1, 255)
        elif op == "set" and data:
            size = rng.choice([1, 2, 4, 8])
            chunk = (rng.choice(INTERESTING) % 256**size).to_bytes(size, "little")
            data[position : position + size] = chunk[: len(data) - position]
        elif op == "header" and len(data) >= 8:
            field = rng.choice([0, 3, 4, 5, 8, 16, 24, 32])
            if field < 8:
                data[field] = rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 30, 31, 255])
            elif field + 8 <= len(data):
                width = 4 if field == 8 else 8
                value = rng.choice(INTERESTING + [rng.randrange(2**64)]) % 256**width
                data[field : field + width] = value.to_bytes(width, "little")
        elif op == "insert":
            data[position:position] = rng.randbytes(rng.randint(1, 16))
        elif op == "delete":
            del data[position : position + rng.randint(1, 16)]
        elif op == "append":
            data += rng.randbytes(rng.randint(1, 64))
    return bytes(data)


@pytest.mark.parametrize("kind", ["str", "int"])
def test_every_cut_and_byte_flip_of_the_seed_images(kind):
    """Seeded and exhaustive: every truncation (always an error) and three flips of every byte, read
    as either item kind."""
    cases = 0
    for data in SEEDS[kind]:
        for cut in range(len(data)):
            with pytest.raises(ValueError):
                TopK.from_datasketches(data[:cut], items=kind)
            cases += 1
        for i in range(len(data)):
            for flip in (0x01, 0x80, 0xFF):
                damaged = bytearray(data)
                damaged[i] ^= flip
                check_image_bytes(bytes(damaged), kind)
                check_image_bytes(bytes(damaged), "int" if kind == "str" else "str")
                cases += 2
    assert cases >= 3000


@pytest.mark.parametrize("kind", ["str", "int"])
def test_extreme_integers_written_over_the_header_and_weights(kind):
    for data in SEEDS[kind]:
        for i in range(min(len(data) - 3, 32 + 8 * 8)):
            for value in EXTREMES:
                for width in (4, 8):
                    damaged = bytearray(data)
                    damaged[i : i + width] = (value % 256**width).to_bytes(width, "little")[: len(data) - i]
                    check_image_bytes(bytes(damaged), kind)


@pytest.mark.parametrize("kind", ["str", "int"])
def test_seeded_random_damage(kind):
    rng = random.Random(f"topk-images-{kind}")
    for _ in range(4000):
        data = mutate(rng, rng.choice(SEEDS[kind]))
        check_image_bytes(data, kind)
    for _ in range(1000):  # random bodies behind plausible headers, and random bytes
        header = bytes([rng.choice([1, 4]), 1, 10, rng.choice([3, 4, 12]), 3, rng.choice([0, 5])]) + b"\0\0"
        n = rng.choice([0, 1, 2, 3, 2**32 - 1])
        body = struct.pack("<IIQQ", n, 0, rng.choice([0, 10, 2**64 - 1]), rng.choice([0, 1, 5]))
        check_image_bytes(header + body + rng.randbytes(rng.randint(0, 60)), kind)
        check_image_bytes(rng.randbytes(rng.randint(0, 80)), kind)


@st.composite
def damaged(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["str", "int"]))
    data = draw(st.sampled_from(SEEDS[kind]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return mutate(rng, data), kind


@settings(derandomize=True, max_examples=1500, deadline=None)
@given(case=damaged())
def test_fuzz_damaged_images(case):
    data, kind = case
    check_image_bytes(data, kind)
