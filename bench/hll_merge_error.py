"""The error of a 16-way merged HyperLogLog over many hash seeds, on the data of ``bench/dask_hll.py``.

Usage: ``python bench/hll_merge_error.py [--precisions 16 18] [--hash-seeds 12]``. The column (20M
seeded random ints in [0, 5.1M), about 5M distinct) is split in 16 chunks, one sketch per chunk,
merged; the merged estimate is compared with the exact count for each hash seed. One data set has
nearly one distinct set whatever its seed, so only the hash seed makes independent trials: this is
the error to compare with Dask's ``nunique_approx`` (one fixed hash) in the README.
"""

from __future__ import annotations

import argparse

import numpy as np

from sketchy import HyperLogLog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precisions", type=int, nargs="+", default=[16, 18])
    parser.add_argument("--hash-seeds", type=int, default=12)
    args = parser.parse_args()
    values = np.random.default_rng(0).integers(0, 5_100_000, 20_000_000)
    exact = len(np.unique(values))
    chunks = np.array_split(values, 16)
    print(f"{len(values):,} values, {exact:,} distinct, 16 chunks, {args.hash_seeds} hash seeds\n")
    print("| precision | memory | merged RMSE | mean error | largest error |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for precision in args.precisions:
        errors = []
        for seed in range(args.hash_seeds):
            merged = HyperLogLog(precision, seed=seed)
            for chunk in chunks:
                part = HyperLogLog(precision, seed=seed)
                part.update(chunk)
                merged |= part
            errors.append(merged.estimate() / exact - 1)
        e = np.array(errors)
        print(
            f"| {precision} | {2**precision // 1024} KiB | {np.sqrt((e**2).mean()):.2%} | {e.mean():+.2%} "
            f"| {np.abs(e).max():.2%} |"
        )


if __name__ == "__main__":
    main()
