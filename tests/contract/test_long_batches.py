"""Long lists are read in chunks that a second thread counts (or hashes) while the next one is read:
the result must not depend on it, and a bad item anywhere must leave the sketch as it was."""

from __future__ import annotations

import numpy as np
import pytest
from sketches import SKETCHES

from sketchy import CountMinSketch, hash_many

N = 150_000  # several chunks of the pipeline
# The sketches of items (the others take numbers, never str).
ITEM_SKETCHES = [name for name, entry in SKETCHES.items() if not entry.numbers]


def stream(numbers: bool = False) -> list:
    """A Zipf stream of short str, str and bytes longer than 16 bytes, and ints (or of ints and
    floats, for a sketch of numbers)."""
    values = (np.random.default_rng(99).zipf(1.2, N) % 1_000_000).tolist()
    if numbers:
        return [v if v % 2 else v / 8 for v in values]
    kinds = [
        lambda v: f"w{v}",
        lambda v: f"a-rather-long-item-number-{v}",
        lambda v: v,
        lambda v: f"b{v}".encode(),
    ]
    return [kinds[v % 4](v) for v in values]


@pytest.mark.parametrize("name", SKETCHES)
def test_a_long_list_counts_like_one_add_per_item(name):
    entry = SKETCHES[name]
    items = stream(entry.numbers)
    counts = np.random.default_rng(5).integers(0, 4, size=N, dtype=np.uint64) if entry.counts else None
    reference = entry.make()
    for i, item in enumerate(items):
        entry.add(reference, item, None if counts is None else int(counts[i]))
    for batch in (items, tuple(items), np.array(items, dtype=object)):
        sketch = entry.make()
        entry.update(sketch, batch, counts)
        assert sketch == reference and sketch.to_bytes() == reference.to_bytes()
    if not entry.numbers:
        strs = [str(x) for x in items]
        by_list, by_array = entry.make(), entry.make()
        by_list.update(strs)
        by_array.update(np.array(strs))
        assert by_list.to_bytes() == by_array.to_bytes()


@pytest.mark.parametrize("name", SKETCHES)
@pytest.mark.parametrize("position", [0, 40_000, N - 1])
def test_a_bad_item_deep_in_a_long_list_changes_nothing(name, position):
    entry = SKETCHES[name]
    sketch = entry.make()
    sketch.update(entry.items()[:3])
    before = sketch.to_bytes()
    items = stream(entry.numbers)
    items[position] = None
    with pytest.raises(TypeError, match=f"position {position}"):
        sketch.update(items)
    assert sketch.to_bytes() == before
    items[position] = 7
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
    def batch(numbers: bool = False) -> list:
        items: list = [i % 1000 if numbers else f"w{i % 1000}" for i in range(N)]
        items[position] = Resizer(items, grow)
        return items

    counts = np.ones(N, dtype=np.uint64)
    for name, entry in SKETCHES.items():
        sketch = entry.make()
        sketch.update(entry.items()[:2])
        before = sketch.to_bytes()
        with pytest.raises(RuntimeError, match="changed size"):
            entry.update(sketch, batch(entry.numbers), counts if entry.counts else None)
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
    for name in ITEM_SKETCHES:
        one, batch = SKETCHES[name].make(), SKETCHES[name].make()
        for item in items:
            one.add(item)
        batch.update(items)
        assert batch.to_bytes() == one.to_bytes(), name


@pytest.mark.parametrize("at", POSITIONS)
def test_a_bad_item_in_either_part_of_a_list_read_on_two_threads_changes_nothing(at):
    items = [*ASCII[:at], None, *ASCII[at:]]
    for name in ITEM_SKETCHES:
        sketch = SKETCHES[name].make()
        sketch.update(ASCII[:1000])
        before = sketch.to_bytes()
        with pytest.raises(TypeError, match=f"position {at}:"):
            sketch.update(items)
        assert sketch.to_bytes() == before
    with pytest.raises(TypeError, match=f"position {at}:"):
        hash_many(items)
