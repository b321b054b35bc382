"""Serialized forms and pickling of every sketch: round trips, other processes, hostile bytes."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sketches import SKETCHES as ENTRIES

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK

# Every entry of the registry, empty, filled and in its other states.
SKETCHES = {
    f"{name} {state}": make
    for name, entry in ENTRIES.items()
    for state, make in {"empty": entry.make, "filled": entry.filled, **entry.states}.items()
}
CLASSES = sorted({entry.cls for entry in ENTRIES.values()}, key=lambda c: c.__name__)


@pytest.fixture(params=SKETCHES)
def sketch(request):
    return SKETCHES[request.param]()


def test_round_trip(sketch):
    data = sketch.to_bytes()
    assert data[:4] == b"SKCH" and data[4] == 1
    copy = type(sketch).from_bytes(data)
    assert copy == sketch and copy.to_bytes() == data
    assert type(sketch).from_bytes(bytearray(data)) == sketch
    assert type(sketch).from_bytes(memoryview(data)) == sketch


def test_plain_pickle_in_this_and_another_process(sketch):
    data = pickle.dumps(sketch)
    assert pickle.loads(data) == sketch
    code = "import pickle, sys; s = pickle.load(sys.stdin.buffer); print(repr(s)); print(s.to_bytes().hex())"
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True, cwd="/")
    assert out.stdout.decode().splitlines() == [repr(sketch), sketch.to_bytes().hex()]


def check_any_bytes(cls, data: bytes) -> None:
    """The contract of from_bytes: a valid sketch (which then round-trips) or ValueError."""
    try:
        sketch = cls.from_bytes(data)
    except ValueError:
        return
    assert cls.from_bytes(sketch.to_bytes()) == sketch


def test_every_truncation_and_every_byte_flip(sketch):
    cls = type(sketch)
    data = sketch.to_bytes()
    for cut in range(len(data)):
        with pytest.raises(ValueError):
            cls.from_bytes(data[:cut])
    # (A DataSketches HLL's payload is its image, which says so in its own words.)
    with pytest.raises(ValueError, match=r"unexpected bytes|bytes after|LIST image is"):
        cls.from_bytes(data + b"\0")
    step = max(1, len(data) // 400)
    for i in range(0, len(data), step):
        for flip in (0x01, 0x80, 0xFF):
            corrupted = bytearray(data)
            corrupted[i] ^= flip
            check_any_bytes(cls, bytes(corrupted))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_header_errors(cls):
    data = next(e for e in ENTRIES.values() if e.cls is cls).filled().to_bytes()
    with pytest.raises(ValueError, match="magic"):
        cls.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="version 2"):
        cls.from_bytes(data[:4] + b"\x02" + data[5:])
    other = (TopK(1) if cls is CountMinSketch else CountMinSketch(3, 1)).to_bytes()
    with pytest.raises(ValueError, match="expected a"):
        cls.from_bytes(other)
    with pytest.raises(TypeError):
        cls.from_bytes("not bytes")


@settings(max_examples=500)
@given(
    precision=st.integers(0, 25),
    flags=st.integers(0, 5),
    body=st.binary(max_size=900),
)
def test_structured_hyperloglog_payloads(precision, flags, body):
    check_any_bytes(HyperLogLog, b"SKCH\x01\x03" + bytes([precision]) + bytes(8) + bytes([flags]) + body)


def test_hyperloglog_register_values_are_checked():
    dense = HyperLogLog(4)
    dense.update(range(1000))
    data = bytearray(dense.to_bytes())
    data[-1] = 0xFF  # the last registers become 63, above the largest rank at precision 4 (61)
    with pytest.raises(ValueError, match="rank"):
        HyperLogLog.from_bytes(bytes(data))


def test_huge_claims_do_not_allocate():
    # A count-min header claiming 2**28 counters (2 GiB) followed by nothing.
    header = b"SKCH\x01\x01" + struct.pack("<IIQBQ", 2**26, 4, 0, 0, 0)
    with pytest.raises(ValueError, match="truncated"):
        CountMinSketch.from_bytes(header)
    # A top-k header claiming 2**24 items.
    header = b"SKCH\x01\x02" + struct.pack("<IIQQQI", 2**24, 2**24, 0, 10, 0, 2**24)
    with pytest.raises(ValueError, match="truncated"):
        TopK.from_bytes(header)


@settings(max_examples=1500)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    for cls in CLASSES:
        check_any_bytes(cls, data)


@settings(max_examples=1500)
@given(kind=st.sampled_from([1, 2, 3, 4, 5, 6]), body=st.binary(max_size=400))
def test_random_bodies_after_a_valid_header(kind, body):
    cls = {1: CountMinSketch, 2: TopK, 3: HyperLogLog, 4: DDSketch, 5: KLL, 6: HyperLogLog}[kind]
    check_any_bytes(cls, b"SKCH\x01" + bytes([kind]) + body)


@settings(max_examples=500)
@given(
    width=st.integers(1, 20),
    depth=st.integers(1, 4),
    total=st.integers(0, 2**64 - 1),
    counters=st.lists(st.integers(0, 2**64 - 1), max_size=80),
)
def test_structured_count_min_payloads(width, depth, total, counters):
    data = b"SKCH\x01\x01" + struct.pack("<IIQBQ", width, depth, 0, 0, total)
    data += b"".join(struct.pack("<Q", c) for c in counters)
    check_any_bytes(CountMinSketch, data)
