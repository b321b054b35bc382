"""The contract every sketch keeps, checked once for all of them (the entries of ``sketches.py``).

Pickling, copies, equality, clearing, merging (with itself, and refused by name when a parameter
differs), all-or-nothing batches, its memory size, the bytes round trip, sharing between threads (N
threads' calls give what the serial calls give, with no borrow error and no deadlock), and reading a
file (``update_from`` gives what ``update`` with its lines gives).
"""

from __future__ import annotations

import copy
import operator
import os
import pickle
import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest
from sketches import SKETCHES

from sketchy import CountMinSketch, HyperLogLog, TopK


def filled(name: str):
    return SKETCHES[name].filled()


@pytest.fixture(params=SKETCHES)
def name(request) -> str:
    return request.param


def test_bytes_round_trip_and_pickle(name):
    sketch = filled(name)
    data = sketch.to_bytes()
    again = type(sketch).from_bytes(data)
    assert again == sketch and again.to_bytes() == data
    assert pickle.loads(pickle.dumps(sketch)).to_bytes() == data


def test_copies_are_equal_and_independent(name):
    sketch = filled(name)
    for twin in (sketch.copy(), copy.copy(sketch), copy.deepcopy(sketch)):
        assert twin == sketch and twin is not sketch
        twin.update(SKETCHES[name].fresh(200))
        assert twin != sketch and sketch.to_bytes() == filled(name).to_bytes()
    assert sketch != "not a sketch" and sketch != SKETCHES[name].other()


def test_clear_gives_the_empty_sketch(name):
    sketch = filled(name)
    sketch.clear()
    assert sketch == SKETCHES[name].make()
    assert sketch.to_bytes() == SKETCHES[name].make().to_bytes()


def test_merge_with_itself_equals_merge_with_a_copy(name):
    sketch = filled(name)
    expected = filled(name)
    expected.merge(filled(name))
    sketch.merge(sketch)
    assert sketch == expected and sketch.to_bytes() == expected.to_bytes()


MISMATCHES = [(name, p) for name, c in SKETCHES.items() for p in range(len(c.mismatches))]


@pytest.mark.parametrize(("name", "index"), MISMATCHES)
def test_merge_mismatch_names_the_parameter_and_changes_nothing(name, index):
    make_other, parameter = SKETCHES[name].mismatches[index]
    sketch, other = filled(name), make_other()
    other.update(SKETCHES[name].items()[:10])
    before = sketch.to_bytes()
    merged = operator.or_ if isinstance(sketch, HyperLogLog) else operator.add
    for attempt in (lambda: sketch.merge(other), lambda: merged(sketch, other)):
        with pytest.raises(ValueError, match=f"different {parameter}"):
            attempt()
        assert sketch.to_bytes() == before


def bad_batches(items: list) -> dict:
    return {
        "None first": lambda: [None, *items],
        "tuple in the middle": lambda: [*items[:1500], ("t",), *items[1500:]],
        "int too large last": lambda: [*items, 2**70],
        "object array": lambda: np.array([*items[:100], None], dtype=object),
        "generator": lambda: (x for x in [*items[:100], {}]),
        "tuple batch": lambda: (*items, None),
        # Longer than the sketch has bytes: read while counting, into a copy.
        "long list": lambda: [*items * 100, None],
    }


BAD = list(bad_batches([]))


@pytest.mark.parametrize("bad", BAD)
def test_a_failed_batch_changes_nothing(name, bad):
    entry = SKETCHES[name]
    sketch = filled(name)
    before = sketch.to_bytes()
    with pytest.raises((TypeError, OverflowError), match=r"at position \d+|outside the hashable range"):
        sketch.update(bad_batches(entry.items())[bad]())
    assert sketch.to_bytes() == before
    if entry.counts:
        with pytest.raises(ValueError, match="weights" if entry.numbers else "counts"):
            entry.update(sketch, entry.items(), [1] * (len(entry.items()) - 1))
        assert sketch.to_bytes() == before
    if entry.numbers:
        with pytest.raises(TypeError, match="number"):
            sketch.update([*entry.items(), "not a number"])
        assert sketch.to_bytes() == before


def test_sizeof_reports_the_contents(name):
    sketch = filled(name)
    payload = SKETCHES[name].payload(sketch)
    # Tables grow ahead of their contents (and hash tables keep free slots): a loose upper bound.
    assert payload <= sketch.__sizeof__() <= 16 * payload + SKETCHES[name].overhead
    empty = SKETCHES[name].make()
    assert empty.__sizeof__() <= sketch.__sizeof__()


def test_a_call_back_into_the_sketch_while_it_reads_a_batch_is_refused(name):
    """An item whose ``__index__`` uses the sketch being updated: a RuntimeError, not a deadlock."""
    sketch = filled(name)
    before = sketch.to_bytes()
    inside = SKETCHES[name].fresh(1)[0]

    class Sneaky:
        def __index__(self):
            sketch.add(inside)
            return 1

    long = [*SKETCHES[name].items() * 100, Sneaky()]
    with pytest.raises(RuntimeError, match="already in use"):
        sketch.update(long)
    assert sketch.to_bytes() == before
    sketch.update([Sneaky()])  # a short batch is read before the sketch is locked: fine
    if hasattr(sketch, "total"):
        assert sketch.total == type(sketch).from_bytes(before).total + 2
    if hasattr(sketch, "count"):
        assert sketch.count == type(sketch).from_bytes(before).count + 2


# --- threads ---------------------------------------------------------------------------------------

THREADS = 8


def run_threads(threads: list[threading.Thread]) -> None:
    """Starts the threads together and waits for them: a thread still running after two minutes is
    a deadlock."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "deadlock"


def operations(name: str, t: int):
    """Thread ``t``'s calls that change the sketch: ("update", batch), ("add", item), ("merge", t)."""
    rng = np.random.default_rng(t)
    items = SKETCHES[name].items()
    for round_ in range(6):
        chunk = items[(t * 400 + round_ * 97) % 2500 :][:300]
        yield "update", chunk
        yield "update", tuple(chunk[:50])
        yield "update", rng.integers(0, 500, 200)
        for x in chunk[:20]:
            yield "add", x
        yield "merge", t


def part_items(name: str, t: int) -> list:
    return SKETCHES[name].items()[t::THREADS][:100]


def workload_counts(name: str) -> Counter:
    """The true counts of everything the threads add (through updates, adds and merges)."""
    counts: Counter = Counter()
    for t in range(THREADS):
        for op, arg in operations(name, t):
            if op == "update":
                counts.update(arg.tolist() if isinstance(arg, np.ndarray) else arg)
            elif op == "add":
                counts[arg] += 1
            else:
                counts.update(part_items(name, arg))
    return counts


def work(name: str, sketch, t: int, parts) -> None:
    """One thread's mixed calls: single adds, list, tuple and numpy batches, merges, and reads."""
    for op, arg in operations(name, t):
        if op == "update":
            sketch.update(arg)
        elif op == "add":
            sketch.add(arg)
        else:
            sketch.merge(parts[arg])
            # Reads, which must not disturb anything.
            sketch.to_bytes()
            pickle.dumps(sketch)
            sketch.copy()
            repr(sketch)
            SKETCHES[name].query(sketch, SKETCHES[name].items()[t])


def run_serially(name: str, parts):
    sketch = SKETCHES[name].make()
    for t in range(THREADS):
        work(name, sketch, t, parts)
    return sketch


def parts_for(name: str):
    out = []
    for t in range(THREADS):
        part = SKETCHES[name].make()
        part.update(part_items(name, t))
        out.append(part)
    return out


def test_threads_sharing_one_sketch_lose_nothing(name):
    parts = parts_for(name)
    sketch = SKETCHES[name].make()
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        try:
            barrier.wait()
            work(name, sketch, t, parts)
        except BaseException as e:  # reported below
            errors.append(e)

    run_threads([threading.Thread(target=run, args=(t,)) for t in range(THREADS)])
    assert errors == []
    outcome = SKETCHES[name].outcome
    assert outcome(sketch) == outcome(run_serially(name, parts))
    if isinstance(sketch, CountMinSketch | TopK):
        # Whatever the order, an estimate is never below the true count.
        assert all(sketch[x] >= n for x, n in workload_counts(name).items())


def test_crossed_merges_from_two_threads_do_not_deadlock(name):
    a, b = filled(name), filled(name)
    a.update(SKETCHES[name].fresh(500))
    b.update(SKETCHES[name].fresh(1000)[500:])
    expected = [a.copy(), b.copy()]

    errors: list[BaseException] = []

    def merge_many(x, y) -> None:
        try:
            for _ in range(30):
                x.merge(y)
                assert (x == y) in (True, False)  # comparing locks both, too
        except BaseException as e:  # reported below
            errors.append(e)

    run_threads([threading.Thread(target=merge_many, args=(x, y)) for x, y in ((a, b), (b, a))])
    assert errors == []
    assert a != expected[0] and b != expected[1]


def test_threads_with_large_numpy_batches_on_separate_sketches_equal_serial(name):
    """Large batches run without the GIL (and split across cores inside): still the serial result."""
    data = [np.random.default_rng(t).integers(0, 2**40, 300_000) for t in range(4)]
    sketches = [SKETCHES[name].make() for _ in range(4)]
    shared = SKETCHES[name].make()

    def run(t: int) -> None:
        sketches[t].update(data[t])
        shared.update(data[t])

    run_threads([threading.Thread(target=run, args=(t,)) for t in range(4)])
    for t in range(4):
        alone = SKETCHES[name].make()
        alone.update(data[t])
        assert sketches[t] == alone
    serial = SKETCHES[name].make()
    for t in range(4):
        serial.update(data[t])
    # Past its capacity a TopK, like conservative counters and KLL, depends on the order of the batches.
    outcome = SKETCHES[name].order_free or SKETCHES[name].outcome
    assert outcome(shared) == outcome(serial)


SPLIT_SCRIPT = """
import hashlib, numpy as np, pyarrow as pa, sketchy
ints = np.random.default_rng(5).integers(0, 2**40, 600_000)
words = pa.array([f"w{i % 50_000}" for i in range(600_000)])
out = [sketchy.hash_many(ints).tobytes(), sketchy.hash_many(words, "xxh3_128").tobytes()]
for make in (lambda: sketchy.HyperLogLog(12), lambda: sketchy.CountMinSketch(512, 4), lambda: sketchy.TopK(5),
             lambda: sketchy.HyperLogLog(12, hash="datasketches")):
    for batch in (ints, words, words.to_pylist()):
        s = make(); s.update(batch); out.append(s.to_bytes())
for make in (sketchy.DDSketch, sketchy.KLL):
    for batch in (ints, ints.astype(np.float64), ints.tolist()):
        s = make(); s.update(batch); out.append(s.to_bytes())
c = sketchy.CountMinSketch(512, 4); c.update(ints)
out.append(c.estimate_many(ints).tobytes())
print(hashlib.sha256(b"".join(out)).hexdigest())
"""


def test_batches_split_across_cores_or_not_give_the_same_results():
    """SKETCHY_NUM_THREADS=1 keeps every batch on the calling thread; 2 and 8 split large ones. The
    hashes, sketches and estimates must be the same bytes either way."""
    digests = set()
    for threads in ("1", "2", "8"):
        env = {**os.environ, "SKETCHY_NUM_THREADS": threads}
        run = subprocess.run(
            [sys.executable, "-c", SPLIT_SCRIPT], env=env, capture_output=True, text=True, check=True, cwd="/"
        )
        digests.add(run.stdout.strip())
    assert len(digests) == 1, digests


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files of 700k short lines (several of the reader's chunks), of items and of numbers, with
    their lines as Python reads them."""
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("contract")
    out = {}
    for numbers in (False, True):
        if numbers:
            values = rng.lognormal(0, 2, 700_000) * np.where(rng.random(700_000) < 0.3, -1, 1)
            lines = [repr(v) for v in values.tolist()]
        else:
            lines = [f"k{v}" for v in (rng.zipf(1.3, 700_000) % 3000).tolist()]
        path = folder / f"{'numbers' if numbers else 'tokens'}.txt"
        path.write_text("\n".join(lines) + "\n")
        out[numbers] = (path, lines)
    return out


@pytest.mark.parametrize("name", SKETCHES)
def test_update_from_a_file_equals_update_with_its_lines(name, files):
    contract = SKETCHES[name]
    path, lines = files[contract.numbers]
    want = contract.make()
    want.update([contract.of_line(line) for line in lines])
    got = contract.make()
    report = got.update_from(path)
    assert report.items == len(lines) and report.skipped == {} and report.warning is None
    assert contract.outcome(got) == contract.outcome(want)


@pytest.mark.parametrize("name", SKETCHES)
def test_threads_reading_files_into_one_sketch_equal_serial(name, files):
    contract = SKETCHES[name]
    path, _ = files[contract.numbers]
    serial = contract.make()
    for _ in range(4):
        serial.update_from(path)
    shared = contract.make()
    threads = [threading.Thread(target=shared.update_from, args=(path,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert contract.outcome(shared) == contract.outcome(serial)
