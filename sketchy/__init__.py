"""sketchy: feature hashing and probabilistic sketches for streams, with a Rust core.

Hashing that is bit-exact with ``mmh3`` and ``xxhash``, one key at a time or a whole batch at once:

>>> import sketchy
>>> sketchy.murmur3_32("foo")  # == mmh3.hash("foo")
-156908512
>>> sketchy.hash_many(["foo", "bar"], "xxh64")
array([3728699739546630719, 5234164152756840025], dtype=uint64)
"""

from importlib import metadata as _metadata

from sketchy._native import (
    ALGORITHMS,
    KLL,
    CountMinSketch,
    DDSketch,
    HyperLogLog,
    ReadReport,
    TopK,
    group_sketches,
    hash_many,
    murmur3_32,
    murmur3_128,
    update_from,
    xxh3_64,
    xxh3_128,
    xxh32,
    xxh64,
)

# The one version string is pyproject's; the Rust crates repeat it (tests/test_version.py).
__version__ = _metadata.version("sketchy")

# Imported on first use, so that `import sketchy` does not import numpy.
_LAZY = {
    "FeatureHasher": "sketchy.feature_hashing",
    "HashingVectorizer": "sketchy.text",
    "group_table": "sketchy.grouping",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sketchy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ALGORITHMS",
    "KLL",
    "CountMinSketch",
    "DDSketch",
    "FeatureHasher",
    "HashingVectorizer",
    "HyperLogLog",
    "ReadReport",
    "TopK",
    "group_sketches",
    "group_table",
    "hash_many",
    "murmur3_32",
    "murmur3_128",
    "update_from",
    "xxh3_64",
    "xxh3_128",
    "xxh32",
    "xxh64",
]
