"""Long lists are read in chunks that a second thread counts (or hashes) while the next one is read:
the result must not depend on it, and a bad item anywhere must leave the sketch as it was."""

from __future__ import annotations

import numpy as np
import pytest

from sketchy import CountMinSketch, HyperLogLog, TopK, hash_many

N = 150_000  # several chunks of the pipeline

SKETCHES = {
    "count-min": lambda: CountMinSketch(500, 4, seed=3),
    "count-min conservative": lambda: CountMinSketch(500, 4, seed=3, conservative=True),
    "top-k": lambda: TopK(20, capacity=256, seed=3),
    "hll p10": lambda: HyperLogLog(10, seed=3),
    "hll p16": lambda: HyperLogLog(16, seed=3),
}
WEIGHTED = {"count-min", "count-min conservative", "top-k"}


def stream() -> list:
    """A Zipf stream of short str, str and bytes longer than 16 bytes, and ints."""
    values = (np.random.default_rng(99).zipf(1.2, N) % 1_000_000).tolist()
    kinds = [
        lambda v: f"w{v}",
        lambda v: f"a-rather-long-item-number-{v}",
        lambda v: v,
        lambda v: f"b{v}".encode(),
    ]
    return [kinds[v % 4](v) for v in values]


@pytest.mark.parametrize("name", SKETCHES)
def test_a_long_list_counts_like_one_add_per_item(name):
    items = stream()
    weighted = name in WEIGHTED
    counts = np.random.default_rng(5).integers(0, 4, size=N, dtype=np.uint64) if weighted else None
    reference = SKETCHES[name]()
    for i, item in enumerate(items):
        if weighted:
            reference.add(item, int(counts[i]))
        else:
            reference.add(item)
    for batch in (items, tuple(items), np.array(items, dtype=object)):
        sketch = SKETCHES[name]()
        if weighted:
            sketch.update(batch, counts)
        else:
            sketch.update(batch)
        assert sketch == reference and sketch.to_bytes() == reference.to_bytes()
    strs = [str(x) for x in items]
    by_list, by_array = SKETCHES[name](), SKETCHES[name]()
    by_list.update(strs)
    by_array.update(np.array(strs))
    assert by_list.to_bytes() == by_array.to_bytes()


@pytest.mark.parametrize("name", SKETCHES)
@pytest.mark.parametrize("position", [0, 40_000, N - 1])
def test_a_bad_item_deep_in_a_long_list_changes_nothing(name, position):
    sketch = SKETCHES[name]()
    sketch.update(["a", "b", "a"])
    before = sketch.to_bytes()
    items = stream()
    items[position] = None
    with pytest.raises(TypeError, match=f"position {position}"):
        sketch.update(items)
    assert sketch.to_bytes() == before
    items[position] = "fine"
    sketch.update(items)
    assert sketch.to_bytes() != before


@pytest.mark.parametrize("algorithm", ["murmur3_32", "xxh3_64", "xxh3_128"])
def test_hash_many_of_a_long_list_is_hashed_in_order(algorithm):
    items = stream()
    expected = np.array([hash_many([x], algorithm)[0] for x in items])
    for batch in (items, tuple(items)):
        assert np.array_equal(hash_many(batch, algorithm), expected)
    items[N - 1] = None
    with pytest.raises(TypeError, match=f"position {N - 1}"):
        hash_many(items, algorithm)


class Resizer:
    """An int-like item whose ``__index__`` grows or shrinks the list being read."""

    def __init__(self, items: list, grow: bool):
        self.items, self.grow = items, grow

    def __index__(self) -> int:
        if self.grow:
            self.items.extend(["late"] * 50_000)
        else:
            del self.items[-50_000:]
        return 7


@pytest.mark.parametrize("grow", [True, False])
@pytest.mark.parametrize("position", [10, 100_000])
def test_a_list_that_changes_size_while_read_is_refused(grow, position):
    def batch() -> list:
        items = [f"w{i % 1000}" for i in range(N)]
        items[position] = Resizer(items, grow)
        return items

    counts = np.ones(N, dtype=np.uint64)
    for name, make in SKETCHES.items():
        sketch = make()
        sketch.update(["a", "b"])
        before = sketch.to_bytes()
        with pytest.raises(RuntimeError, match="changed size"):
            sketch.update(batch(), counts) if name in WEIGHTED else sketch.update(batch())
        assert sketch.to_bytes() == before, name
    with pytest.raises(RuntimeError, match="changed size"):
        hash_many(batch())
    with pytest.raises(RuntimeError, match="changed size"):
        CountMinSketch(100, 3).estimate_many(batch())


ASCII = [f"k{i % 30_000}" for i in range(N)]
# Long lists of ASCII str are read on two threads (the second reads the end of the list in place);
# any other item stops that reader, and the rest is read the usual way, whichever part it falls in.
POSITIONS = [5, 40_000, 100_000, 120_000, N - 1]


@pytest.mark.parametrize("other", ["é non-ASCII", 7, b"bytes", 2.5, np.int16(3)], ids=repr)
@pytest.mark.parametrize("at", POSITIONS)
def test_lists_read_on_two_threads_give_what_one_add_per_item_gives(other, at):
    items = [*ASCII[:at], other, *ASCII[at:]]
    assert hash_many(items).tolist() == [int(hash_many([x])[0]) for x in items]
    wide = hash_many(items, "murmur3_128")
    assert wide.shape == (len(items), 2)
    assert wide[at].tolist() == hash_many([other], "murmur3_128")[0].tolist()
    assert wide[-1].tolist() == hash_many([items[-1]], "murmur3_128")[0].tolist()
    for make in SKETCHES.values():
        one, batch = make(), make()
        for item in items:
            one.add(item)
        batch.update(items)
        assert batch.to_bytes() == one.to_bytes()


@pytest.mark.parametrize("at", POSITIONS)
def test_a_bad_item_in_either_part_of_a_list_read_on_two_threads_changes_nothing(at):
    items = [*ASCII[:at], None, *ASCII[at:]]
    for make in SKETCHES.values():
        sketch = make()
        sketch.update(ASCII[:1000])
        before = sketch.to_bytes()
        with pytest.raises(TypeError, match=f"position {at}:"):
            sketch.update(items)
        assert sketch.to_bytes() == before
    with pytest.raises(TypeError, match=f"position {at}:"):
        hash_many(items)
