"""The ``sketchy`` command line.

``sketchy demo`` hashes a generated stream of keys and compares the result and the speed with the
reference packages when they are installed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence


def demo(n: int = 1_000_000, seed: int = 0) -> None:
    import numpy as np

    import sketchy

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 2**40, size=n, dtype=np.uint64)
    keys = [f"user-{i:012x}" for i in ids.tolist()]
    print(f"sketchy {sketchy.__version__}: hashing {n:,} keys like {keys[0]!r}")

    start = time.perf_counter()
    hashes = sketchy.hash_many(keys, "murmur3_32").view(np.int32)
    elapsed = time.perf_counter() - start
    print(
        f"  hash_many(list of str, 'murmur3_32'): {elapsed * 1e3:8.1f} ms  ({n / elapsed / 1e6:6.1f} M keys/s)"
    )
    start = time.perf_counter()
    sketchy.hash_many(ids, "xxh3_64")
    elapsed = time.perf_counter() - start
    print(
        f"  hash_many(uint64 array, 'xxh3_64'):   {elapsed * 1e3:8.1f} ms  ({n / elapsed / 1e6:6.1f} M keys/s)"
    )
    try:
        import mmh3
    except ImportError:
        print("  (pip install mmh3 to compare with mmh3.hash)")
        return
    start = time.perf_counter()
    reference = [mmh3.hash(k) for k in keys]
    elapsed_ref = time.perf_counter() - start
    same = bool(np.array_equal(hashes, np.array(reference, dtype=np.int32)))
    print(f"  [mmh3.hash(k) for k in keys]:         {elapsed_ref * 1e3:8.1f} ms  (identical results: {same})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sketchy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="run on a built-in sample and show speed and accuracy")
    run_demo.add_argument("-n", type=int, default=1_000_000, help="number of keys (default 1,000,000)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.n)
    return 0
