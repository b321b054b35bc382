"""sketchy: feature hashing and probabilistic sketches for streams, with a Rust core.

Hashing that is bit-exact with ``mmh3`` and ``xxhash``, one key at a time or a whole batch at once:

>>> import sketchy
>>> sketchy.murmur3_32("foo")  # == mmh3.hash("foo")
-156908512
>>> sketchy.hash_many(["foo", "bar"], "xxh64")
array([3728699739546630719, 5234164152756840025], dtype=uint64)
"""

from sketchy._native import (
    ALGORITHMS,
    hash_many,
    murmur3_32,
    murmur3_128,
    xxh3_64,
    xxh3_128,
    xxh32,
    xxh64,
)

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS",
    "hash_many",
    "murmur3_32",
    "murmur3_128",
    "xxh3_64",
    "xxh3_128",
    "xxh32",
    "xxh64",
]
