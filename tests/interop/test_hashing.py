"""sketchy's hash functions against the reference packages ``mmh3`` and ``xxhash``."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import mmh3
import numpy as np
import pytest
import xxhash
from hypothesis import given
from hypothesis import strategies as st

import sketchy

VECTORS = Path(__file__).parents[1] / "vectors" / "hashes.tsv"

SINGLE = {
    "murmur3_32": sketchy.murmur3_32,
    "murmur3_128": sketchy.murmur3_128,
    "xxh32": sketchy.xxh32,
    "xxh64": sketchy.xxh64,
    "xxh3_64": sketchy.xxh3_64,
    "xxh3_128": sketchy.xxh3_128,
}
REFERENCE = {
    "murmur3_32": lambda key, seed: mmh3.hash(key, seed, signed=False),
    "murmur3_128": lambda key, seed: mmh3.hash128(key, seed, signed=False),
    "xxh32": xxhash.xxh32_intdigest,
    "xxh64": xxhash.xxh64_intdigest,
    "xxh3_64": xxhash.xxh3_64_intdigest,
    "xxh3_128": xxhash.xxh3_128_intdigest,
}
SEED_BITS = {"murmur3_32": 32, "murmur3_128": 32, "xxh32": 32, "xxh64": 64, "xxh3_64": 64, "xxh3_128": 64}


def unsigned(name: str, key, seed: int = 0) -> int:
    """The single-key function as an unsigned int (murmur3_32 is signed by default, like mmh3)."""
    if name == "murmur3_32":
        return sketchy.murmur3_32(key, seed, signed=False)
    return SINGLE[name](key, seed)


def batch_as_ints(name: str, result: np.ndarray) -> list[int]:
    if result.ndim == 2:
        assert result.shape[1] == 2 and result.dtype == np.uint64
        return [int(hi) << 64 | int(lo) for lo, hi in result]
    assert result.dtype == (np.uint32 if SEED_BITS[name] == 32 and "128" not in name else np.uint64)
    return [int(v) for v in result]


def load_vectors() -> list[tuple[bytes, int, dict[str, int]]]:
    rows = []
    header: list[str] = []
    for line in VECTORS.read_text().splitlines():
        if line.startswith("# key\tseed\t"):
            header = line.split("\t")[2:]
        if line.startswith("#"):
            continue
        spec, seed, *digests = line.split("\t")
        if spec.startswith("seq:"):
            key = bytes((31 * i + 7) % 256 for i in range(int(spec[4:])))
        else:
            key = bytes.fromhex(spec)
        rows.append((key, int(seed), {n: int(d) for n, d in zip(header, digests, strict=False) if d != "-"}))
    return rows


VECTOR_ROWS = load_vectors()


@pytest.mark.parametrize("name", SINGLE)
def test_known_answers(name):
    checked = 0
    for key, seed, digests in VECTOR_ROWS:
        if name in digests:
            assert unsigned(name, key, seed) == digests[name], (key[:16], seed)
            checked += 1
        else:
            with pytest.raises(OverflowError):
                SINGLE[name](key, seed)
    assert checked > 400


@pytest.mark.parametrize("name", SINGLE)
def test_known_answers_in_one_batch(name):
    for seed in (0, 2**32 - 1):
        rows = [(k, d[name]) for k, s, d in VECTOR_ROWS if s == seed and name in d]
        got = batch_as_ints(name, sketchy.hash_many([k for k, _ in rows], name, seed))
        assert got == [d for _, d in rows]


@pytest.mark.parametrize("name", SINGLE)
@given(key=st.binary(max_size=8192) | st.text(max_size=3000), seed_fraction=st.floats(0, 1))
def test_matches_reference_packages(name, key, seed_fraction):
    seed = min(int(seed_fraction * 2 ** SEED_BITS[name]), 2 ** SEED_BITS[name] - 1)
    raw = key.encode("utf-8") if isinstance(key, str) else key
    assert unsigned(name, key, seed) == REFERENCE[name](raw, seed)


def test_mmh3_signed_variants():
    for key in ["foo", "", "ünïcödé", b"\xff" * 33]:
        for seed in (0, 1, 2**31, 2**32 - 1):
            assert sketchy.murmur3_32(key, seed) == mmh3.hash(key, seed)
            assert sketchy.murmur3_128(key, seed, signed=True) == mmh3.hash128(key, seed, signed=True)
    # A key whose 128-bit hash has the top bit set, to see the signed form go negative.
    key = next(k for k in map(str, range(100)) if mmh3.hash128(k) >= 2**127)
    assert sketchy.murmur3_128(key, signed=True) == mmh3.hash128(key, signed=True) < 0


@pytest.mark.parametrize("name", SINGLE)
def test_one_megabyte_keys(name):
    rng = np.random.default_rng(1)
    key = rng.bytes(1 << 20)
    assert unsigned(name, key, 12345) == REFERENCE[name](key, 12345)
    assert batch_as_ints(name, sketchy.hash_many([key, key[:-1]], name, 12345)) == [
        REFERENCE[name](key, 12345),
        REFERENCE[name](key[:-1], 12345),
    ]


def test_bytes_like_keys_hash_their_bytes():
    for key in (bytearray(b"spam"), memoryview(b"spam"), memoryview(np.arange(3, dtype=np.int32))):
        raw = bytes(key)
        assert sketchy.xxh64(key) == xxhash.xxh64_intdigest(raw)
        assert sketchy.murmur3_32(key) == mmh3.hash(raw)


# --- the canonical encoding of numbers (DESIGN.md, "How items become hashes") -------------------------


@pytest.mark.parametrize("name", SINGLE)
@given(value=st.integers(-(2**63), 2**64 - 1))
def test_ints_hash_like_their_8_little_endian_bytes(name, value):
    raw = (value % 2**64).to_bytes(8, "little")
    assert unsigned(name, value) == REFERENCE[name](raw, 0)


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_hash_like_their_float64_bytes(value):
    expected = struct.pack("<d", 0.0 if value == 0 else (math.nan if math.isnan(value) else value))
    assert sketchy.xxh3_64(value) == xxhash.xxh3_64_intdigest(expected)


def test_number_corner_cases():
    assert sketchy.xxh64(-0.0) == sketchy.xxh64(0.0)
    nan_bits = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0001))[0]
    assert sketchy.xxh64(nan_bits) == sketchy.xxh64(float("nan")) == sketchy.xxh64(-float("nan"))
    assert sketchy.xxh64(True) == sketchy.xxh64(1) != sketchy.xxh64(1.0)
    assert sketchy.xxh64(np.int16(-5)) == sketchy.xxh64(-5)
    assert sketchy.xxh64(np.uint64(2**64 - 1)) == sketchy.xxh64(2**64 - 1)
    assert sketchy.xxh64(np.float32(0.5)) == sketchy.xxh64(0.5)
    assert sketchy.xxh64(np.float64(0.1)) == sketchy.xxh64(0.1)
    assert sketchy.xxh64(np.bool_(True)) == sketchy.xxh64(1)
    assert sketchy.xxh64(np.str_("a")) == sketchy.xxh64("a")
    # 2**63 + 1 and 2**63 + 2 are different items (nothing is squeezed through a float).
    assert sketchy.xxh64(2**63 + 1) != sketchy.xxh64(2**63 + 2)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_out_of_range_ints_overflow(value):
    with pytest.raises(OverflowError, match="hashable range"):
        sketchy.xxh64(value)
    with pytest.raises(OverflowError):
        sketchy.hash_many([1, value])


# --- hash_many: every input kind equals the single-key function ---------------------------------------

ITEMS = ["", "a", "foo", "ünïcödé", "😀" * 5, "x" * 300]


def expected(name: str, items) -> list[int]:
    return [unsigned(name, item) for item in items]


@pytest.mark.parametrize("name", SINGLE)
def test_hash_many_on_python_collections(name):
    mixed = ["a", b"a", 1, -1, 2**63, 1.5, float("nan"), True, bytearray(b"z")]
    cases = [
        (ITEMS, ITEMS),
        (tuple(ITEMS), ITEMS),
        (mixed, mixed),
        (iter(ITEMS), ITEMS),
        ((s for s in ITEMS), ITEMS),
        (dict.fromkeys(ITEMS), ITEMS),
        ({"only"}, ["only"]),
    ]
    for keys, items in cases:
        assert batch_as_ints(name, sketchy.hash_many(keys, name)) == expected(name, items)
    assert batch_as_ints(name, sketchy.hash_many(range(-5, 100, 7), name)) == expected(
        name, range(-5, 100, 7)
    )
    assert batch_as_ints(name, sketchy.hash_many([], name)) == []


INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_hash_many_on_numpy_integers(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    values = rng.integers(info.min, info.max, size=500, dtype=dtype, endpoint=True)
    values[:2] = [info.min, info.max]
    for name in SINGLE:
        assert batch_as_ints(name, sketchy.hash_many(values, name)) == expected(name, values.tolist())
    # Non-contiguous and byte-swapped views of the same values hash the same.
    strided = np.repeat(values, 2)[::2]
    assert not strided.flags.c_contiguous
    swapped = values.astype(values.dtype.newbyteorder(">"))
    reference = sketchy.hash_many(values)
    np.testing.assert_array_equal(sketchy.hash_many(strided), reference)
    np.testing.assert_array_equal(sketchy.hash_many(swapped), reference)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_hash_many_on_numpy_floats(dtype):
    values = np.array([0.0, -0.0, 1.5, np.nan, -np.inf, np.finfo(dtype).max, 3.25], dtype=dtype)
    for name in SINGLE:
        assert batch_as_ints(name, sketchy.hash_many(values, name)) == expected(
            name, [float(v) for v in values]
        )


def test_hash_many_on_numpy_bool_str_bytes_object():
    flags = np.array([True, False, True])
    assert sketchy.hash_many(flags).tolist() == [sketchy.xxh3_64(v) for v in (1, 0, 1)]
    text = np.array([*ITEMS, "trailing\x00"])  # numpy strips trailing NULs: the item is "trailing"
    assert sketchy.hash_many(text).tolist() == [sketchy.xxh3_64(str(s)) for s in text]
    assert sketchy.hash_many(text[::-2]).tolist() == [sketchy.xxh3_64(str(s)) for s in text[::-2]]
    raw = np.array([b"", b"a\0b", b"abc\0"])
    assert sketchy.hash_many(raw).tolist() == [sketchy.xxh3_64(bytes(s)) for s in raw]
    objects = np.array(["a", 1, b"c", 2.5], dtype=object)
    assert sketchy.hash_many(objects).tolist() == [sketchy.xxh3_64(v) for v in objects]
    for name in SINGLE:
        assert batch_as_ints(name, sketchy.hash_many(np.array(ITEMS), name)) == expected(name, ITEMS)


def test_hash_many_on_pandas():
    pd = pytest.importorskip("pandas")
    ints = pd.Series([3, -1, 2**40])
    assert sketchy.hash_many(ints).tolist() == [sketchy.xxh3_64(v) for v in (3, -1, 2**40)]
    for dtype in (object, "string", "str", "category"):
        series = pd.Series(ITEMS, dtype=dtype)
        assert sketchy.hash_many(series).tolist() == [sketchy.xxh3_64(s) for s in ITEMS], dtype
    nullable = pd.Series([1, 2, 3], dtype="Int64")
    assert sketchy.hash_many(nullable).tolist() == [sketchy.xxh3_64(v) for v in (1, 2, 3)]
    assert sketchy.hash_many(pd.Index(["a", "b"])).tolist() == [sketchy.xxh3_64(s) for s in "ab"]
    with pytest.raises(TypeError, match="position 1"):
        sketchy.hash_many(pd.Series([1, None, 3], dtype="Int64"))
    with pytest.raises(TypeError, match="position 2"):
        sketchy.hash_many(pd.Series(["a", "b", None], dtype="string"))


def test_hash_many_on_arrow():
    pa = pytest.importorskip("pyarrow")
    raw = [s.encode() for s in ITEMS]
    for array, items in [
        (pa.array(ITEMS, pa.string()), ITEMS),
        (pa.array(ITEMS, pa.large_string()), ITEMS),
        (pa.array(raw, pa.binary()), raw),
        (pa.array(raw, pa.large_binary()), raw),
        (pa.array(ITEMS, pa.string()).slice(2, 3), ITEMS[2:5]),
        (pa.array(ITEMS).dictionary_encode(), ITEMS),
        (pa.chunked_array([ITEMS[:2], ITEMS[2:]]), ITEMS),
        (pa.chunked_array([ITEMS]), ITEMS),
        (pa.array([5, -3], pa.int8()), [5, -3]),
        (pa.array([2**64 - 1], pa.uint64()), [2**64 - 1]),
        (pa.array([0.5, -0.0], pa.float32()), [0.5, 0.0]),
    ]:
        for name in SINGLE:
            assert batch_as_ints(name, sketchy.hash_many(array, name)) == expected(name, items), array.type
    views = [
        (pa.array(ITEMS, pa.string_view()), ITEMS),
        (pa.array(raw, pa.binary_view()), raw),
        (pa.array([""] * 3 + ITEMS, pa.string_view())[3:], ITEMS),
        (pa.array([], pa.string_view()), []),
    ]
    for array, items in views:
        for name in SINGLE:
            assert batch_as_ints(name, sketchy.hash_many(array, name)) == expected(name, items), array.type
    with pytest.raises(TypeError, match="position 1"):
        sketchy.hash_many(pa.array(["a", None]))


# --- bad input ----------------------------------------------------------------------------------------


def test_unsupported_items_name_type_and_position():
    with pytest.raises(TypeError, match="'NoneType'"):
        sketchy.xxh64(None)
    with pytest.raises(TypeError, match="'tuple' at position 2"):
        sketchy.hash_many(["a", "b", (1, 2)])
    with pytest.raises(TypeError, match="'dict' at position 0"):
        sketchy.hash_many(iter([{}]))
    with pytest.raises(TypeError, match="single str"):
        sketchy.hash_many("abc")
    with pytest.raises(TypeError, match="iterable"):
        sketchy.hash_many(5)
    with pytest.raises(TypeError, match="complex"):
        sketchy.hash_many(np.array([1j]))
    with pytest.raises(ValueError, match="one-dimensional"):
        sketchy.hash_many(np.zeros((2, 2)))
    from decimal import Decimal

    with pytest.raises(TypeError, match="Decimal"):
        sketchy.murmur3_32(Decimal(1))


def test_bad_algorithm_lists_the_valid_ones():
    with pytest.raises(ValueError, match="murmur3_32, murmur3_128, xxh32, xxh64, xxh3_64, xxh3_128"):
        sketchy.hash_many(["a"], "sha1")
    assert set(sketchy.ALGORITHMS) == set(SINGLE)


@pytest.mark.parametrize("name", SINGLE)
def test_seeds_are_checked(name):
    top = 2 ** SEED_BITS[name] - 1
    SINGLE[name]("a", top)
    with pytest.raises(OverflowError, match="too large"):
        SINGLE[name]("a", top + 1)
    with pytest.raises(ValueError, match="non-negative"):
        SINGLE[name]("a", -1)
    with pytest.raises(OverflowError):
        sketchy.hash_many(["a"], name, top + 1)
    with pytest.raises(TypeError, match="seed must be an int"):
        SINGLE[name]("a", 1.5)


def test_lone_surrogates_raise_unicode_encode_error():
    # mmh3 5.3.1 crashes the interpreter on this input; we raise like str.encode does.
    with pytest.raises(UnicodeEncodeError):
        sketchy.murmur3_32("\ud800")
    with pytest.raises(UnicodeEncodeError):
        sketchy.hash_many(["ok", "bad \udfff"])
    with pytest.raises(UnicodeEncodeError, match="position 1"):
        sketchy.hash_many(np.array(["ok", "bad \udfff"]))


def test_unaligned_arrays_are_read_correctly():
    # Data received over a network can sit at an odd address; it is copied, not refused.
    values = np.arange(1000, dtype=np.int64) * 7919
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.int64)
    unaligned[:] = values
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(sketchy.hash_many(unaligned), sketchy.hash_many(values))
    text = np.array(["é", "ab", "c"])
    raw = np.zeros(text.nbytes + 1, dtype=np.uint8)
    odd = raw[1:].view(text.dtype)
    odd[:] = text
    np.testing.assert_array_equal(sketchy.hash_many(odd), sketchy.hash_many(text))


def test_hash_many_on_polars():
    pl = pytest.importorskip("polars")
    for values in ([5, -3, 2**40], [0.5, -0.0, float("inf")], ITEMS):
        assert sketchy.hash_many(pl.Series(values)).tolist() == [sketchy.xxh3_64(v) for v in values]
    with pytest.raises(TypeError, match="position 1"):
        sketchy.hash_many(pl.Series([1, None, 3]))


def text_forms(keys: list[str]):
    """The same str keys as every input ``hash_many`` takes."""
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    yield "list", keys
    yield "tuple", tuple(keys)
    yield "generator", (k for k in keys)
    yield "numpy object", np.array(keys, dtype=object)
    if all("\0" not in k for k in keys):  # numpy U strips trailing NULs, as numpy does
        yield "numpy U", np.array(keys, dtype=str)
    yield "pandas", pd.Series(keys, dtype=object)
    yield "pandas arrow", pd.Series(keys, dtype="string[pyarrow]")
    yield "arrow", pa.array(keys, type=pa.string())
    yield "arrow large", pa.array(keys, type=pa.large_string())
    yield "arrow view", pa.array(keys, type=pa.string_view())
    yield "arrow view sliced", pa.array(["x", *keys, "y"], type=pa.string_view())[1:-1]
    half = len(keys) // 2
    yield "arrow view chunked", pa.chunked_array([keys[:half], keys[half:]], type=pa.string_view())
    yield "numpy StringDType", np.array(keys, dtype=np.dtypes.StringDType())
    yield (
        "arrow chunked",
        pa.chunked_array([keys[: len(keys) // 2], keys[len(keys) // 2 :]], type=pa.string()),
    )
    yield "arrow sliced", pa.array(["x", *keys, "y"], type=pa.string())[1:-1]
    yield "polars", pl.Series(keys, dtype=pl.String)
    yield (
        "polars chunked",
        pl.concat(
            [pl.Series(keys[:half], dtype=pl.String), pl.Series(keys[half:], dtype=pl.String)], rechunk=False
        ),
    )
    yield "polars categorical", pl.Series(keys, dtype=pl.Categorical)


# Lone surrogates cannot be encoded: they are tested on their own.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(keys=st.lists(TEXT, min_size=1, max_size=80), seed=st.integers(0, 2**64 - 1))
def test_every_text_input_gives_the_reference_hashes(keys, seed):
    for name, reference in REFERENCE.items():
        seed_here = seed % 2 ** SEED_BITS[name]
        want = [reference(k.encode(), seed_here) for k in keys]
        for form, batch in text_forms(keys):
            if form == "numpy U":
                want_here = [reference(k.rstrip("\0").encode(), seed_here) for k in keys]
            else:
                want_here = want
            got = sketchy.hash_many(batch, name, seed_here)
            assert batch_as_ints(name, got) == want_here, (name, form)


INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@given(
    values=st.lists(st.integers(-(2**63), 2**64 - 1), min_size=1, max_size=300),
    seed_any=st.integers(0, 2**64 - 1),
)
def test_every_integer_input_gives_the_reference_hashes(values, seed_any):
    """Numbers go through fixed-width kernels: each must equal the reference on the 8-byte encoding."""
    import polars as pl
    import pyarrow as pa

    encoded = [struct.pack("<Q", v % 2**64) for v in values]
    for name, reference in REFERENCE.items():
        seed = seed_any % 2 ** SEED_BITS[name]
        want = [reference(e, seed) for e in encoded]
        assert batch_as_ints(name, sketchy.hash_many(values, name, seed)) == want, name
        for dtype in INT_DTYPES:
            info = np.iinfo(dtype)
            fits = [v for v in values if info.min <= v <= info.max]
            if not fits:
                continue
            want_fits = [reference(struct.pack("<Q", v % 2**64), seed) for v in fits]
            for batch in (np.array(fits, dtype=dtype), pa.array(fits, type=pa.from_numpy_dtype(dtype))):
                assert batch_as_ints(name, sketchy.hash_many(batch, name, seed)) == want_fits, (name, dtype)
        signed = [v for v in values if v < 2**63]
        if signed:
            got = sketchy.hash_many(pl.Series(signed, dtype=pl.Int64), name, seed)
            assert batch_as_ints(name, got) == [reference(struct.pack("<q", v), seed) for v in signed], name


@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=200))
def test_every_float_input_gives_the_reference_hashes(values):
    def canonical(x: float) -> bytes:
        return struct.pack("<d", float("nan") if math.isnan(x) else 0.0 if x == 0 else x)

    for name, reference in REFERENCE.items():
        want = [reference(canonical(x), 7) for x in values]
        for batch in (values, np.array(values, dtype=np.float64)):
            assert batch_as_ints(name, sketchy.hash_many(batch, name, 7)) == want, name


def test_views_outside_their_buffers_are_refused():
    pa = pytest.importorskip("pyarrow")
    good = pa.array(["a" * 20, "short"], pa.string_view())
    _, views, data = good.buffers()
    for at, value in ((8, 1), (12, 100)):  # buffer 1 of 1; offset 100 of 20 bytes
        bad = bytearray(views.to_pybytes())
        bad[at : at + 4] = value.to_bytes(4, "little")
        array = pa.Array.from_buffers(pa.string_view(), 2, [None, pa.py_buffer(bytes(bad)), data])
        with pytest.raises(ValueError, match=r"view 0 .* outside"):
            sketchy.hash_many(array)
        with pytest.raises(ValueError, match="view 0"):
            sketchy.HyperLogLog(8).update(array)
