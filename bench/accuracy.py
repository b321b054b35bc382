"""Accuracy plots: the HyperLogLog error profile and the count-min error on a Zipf stream.

Usage::

    python bench/accuracy.py [--out-dir bench/figures] [--trials 300]

Writes two PNGs to the output directory:

``hll_error.png``
    Quantiles of the relative error of ``HyperLogLog(12, seed=trial)`` over ``trials`` streams of distinct
    integers, read at 4 points per octave up to 64·m, against the theoretical ±1/2/3 σ of the HIP
    estimator (0.8326/√m) and, lighter, of a merged sketch (1.04/√m). Same layout as the Apache
    DataSketches characterization plots.
``cms_error.png``
    Over-estimate (estimate − true count) of every distinct item of a Zipf(1.1) stream of 1,000,000 items,
    for ``CountMinSketch.from_error(0.001, 0.01)`` standard and conservative, against the bound ε·N.

Everything is seeded: two runs draw the same figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sketchy import CountMinSketch, HyperLogLog

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "figures"

HLL_PRECISION = 12
HLL_MAX_OCTAVES = 6  # up to 2**6 · m distinct items
POINTS_PER_OCTAVE = 4
# Normal quantiles at -3, -2, -1, +1, +2, +3 σ.
SIGMA_QUANTILES = {-3: 0.00135, -2: 0.02275, -1: 0.1587, 1: 0.8413, 2: 0.97725, 3: 0.99865}
HIP_RSE = 0.8326  # relative standard error × √m of a sketch fed one stream (HIP estimator)
MERGED_RSE = 1.04  # the same after a merge (classic HyperLogLog estimator)

CMS_ITEMS = 1_000_000
CMS_EPSILON, CMS_DELTA = 0.001, 0.01


def cardinality_grid(
    m: int, octaves: int = HLL_MAX_OCTAVES, per_octave: int = POINTS_PER_OCTAVE
) -> np.ndarray:
    """Distinct counts 1 … 2**octaves · m, ``per_octave`` points per doubling (rounded, deduplicated)."""
    top = np.log2(m) + octaves
    points = np.round(2.0 ** (np.arange(int(top * per_octave) + 1) / per_octave)).astype(np.int64)
    return np.unique(points)


def hll_errors(trials: int, precision: int = HLL_PRECISION) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feed each trial's sketch ``arange(n)`` incrementally and read its estimate at every grid point.

    Parameters
    ----------
    trials
        Number of independent sketches; trial ``t`` uses ``seed=t``.
    precision
        HyperLogLog precision (m = 2**precision registers).

    Returns
    -------
    grid : ndarray of int64, shape (points,)
        True cardinalities.
    errors : ndarray of float64, shape (trials, points)
        Relative errors ``estimate / n - 1``.
    dense_at : ndarray of int64, shape (trials,)
        First grid cardinality at which each sketch is no longer sparse (-1 if never).
    """
    grid = cardinality_grid(2**precision)
    items = np.arange(grid[-1], dtype=np.uint64)
    errors = np.empty((trials, grid.size))
    dense_at = np.full(trials, -1, dtype=np.int64)
    for trial in range(trials):
        hll = HyperLogLog(precision, seed=trial)
        start = 0
        for j, n in enumerate(grid):
            hll.update(items[start:n])
            start = n
            errors[trial, j] = hll.estimate() / n - 1
            if dense_at[trial] < 0 and not hll.is_sparse:
                dense_at[trial] = n
    return grid, errors, dense_at


def plot_hll(path: Path, trials: int, precision: int = HLL_PRECISION) -> None:
    """Draw the relative-error quantiles of HyperLogLog against the true cardinality."""
    import matplotlib.pyplot as plt

    grid, errors, dense_at = hll_errors(trials, precision)
    m = 2**precision
    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    colors = {1: "tab:green", 2: "tab:orange", 3: "tab:red"}
    for k in (3, 2, 1):
        ax.axhline(k * MERGED_RSE / np.sqrt(m), color="0.75", linewidth=0.8, linestyle=":")
        ax.axhline(-k * MERGED_RSE / np.sqrt(m), color="0.75", linewidth=0.8, linestyle=":")
        for sign in (-1, 1):
            q = SIGMA_QUANTILES[sign * k]
            ax.plot(
                grid,
                np.quantile(errors, q, axis=0),
                color=colors[k],
                linewidth=1.2,
                label=f"Q({SIGMA_QUANTILES[-k]}), Q({SIGMA_QUANTILES[k]}): ±{k}σ" if sign > 0 else None,
            )
            ax.axhline(sign * k * HIP_RSE / np.sqrt(m), color=colors[k], linewidth=0.9, linestyle="--")
    ax.plot(grid, np.median(errors, axis=0), color="black", linewidth=1.5, label="median")
    ax.plot([], [], color="0.4", linestyle="--", label=f"theory ±1/2/3σ, HIP: {HIP_RSE}/√m")
    ax.plot([], [], color="0.75", linestyle=":", label=f"theory ±1/2/3σ, merged: {MERGED_RSE}/√m")
    dense = dense_at[dense_at > 0]
    if dense.size:
        first = int(np.median(dense))
        spread = "" if dense.min() == dense.max() else f" (median; {dense.min():,}–{dense.max():,})"
        ax.axvline(first, color="tab:blue", linestyle="--", linewidth=1)
        ax.text(
            first * 1.05,
            0.97,
            f"dense from n = {first:,}{spread}",
            color="tab:blue",
            transform=ax.get_xaxis_transform(),
            va="top",
            fontsize=9,
        )
    ax.set_xscale("log", base=2)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(-4.5 * HIP_RSE / np.sqrt(m), 4.5 * HIP_RSE / np.sqrt(m))
    ax.yaxis.set_major_formatter(lambda y, _: f"{y:+.1%}")
    ax.grid(alpha=0.3)
    ax.set_xlabel("true cardinality n (distinct items, log scale)")
    ax.set_ylabel("relative error  estimate / n − 1")
    ax.set_title(f"HyperLogLog relative error: precision {precision} (m = {m:,}), {trials:,} trials")
    ax.legend(loc="lower left", fontsize=8, ncol=2)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_cms(path: Path) -> None:
    """Draw the count-min over-estimate of every distinct item of a Zipf(1.1) stream, against ε·N."""
    import matplotlib.pyplot as plt

    stream = np.random.default_rng(0).zipf(1.1, CMS_ITEMS) % 100_000
    keys, counts = np.unique(stream, return_counts=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharey=True, layout="constrained")
    for ax, conservative in zip(axes, (False, True), strict=True):
        cms = CountMinSketch.from_error(CMS_EPSILON, CMS_DELTA, conservative=conservative)
        cms.update(stream)
        error = cms.estimate_many(keys).astype(np.int64) - counts
        bound = cms.epsilon * cms.total
        above = int(np.count_nonzero(error > bound))
        ax.scatter(counts, error, s=3, alpha=0.25, color="tab:blue", linewidths=0, rasterized=True)
        ax.axhline(bound, color="tab:red", linestyle="--")
        ax.text(
            0.98,
            bound,
            f"ε·N = {bound:,.0f}",
            color="tab:red",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="bottom",
        )
        ax.set_xscale("log")
        ax.set_ylim(min(-0.05 * bound, error.min()), max(1.15 * bound, 1.05 * error.max()))
        ax.grid(alpha=0.3)
        ax.set_xlabel("true count (log scale)")
        kind = "conservative" if conservative else "standard"
        ax.set_title(f"{kind}: width {cms.width}, depth {cms.depth}")
        ax.text(
            0.98,
            0.78,
            f"{above:,} of {keys.size:,} distinct items ({above / keys.size:.2%}) above ε·N; δ = {CMS_DELTA:g}\n"
            f"error: mean {error.mean():,.0f}, max {error.max():,}; exact for {np.mean(error == 0):.1%}",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.8"},
        )
    axes[0].set_ylabel("over-estimate  (estimate − true count)")
    fig.suptitle(
        f"CountMinSketch.from_error(ε={CMS_EPSILON:g}, δ={CMS_DELTA:g}) on Zipf(1.1) % 100,000, "
        f"N = {CMS_ITEMS:,} items"
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="default: %(default)s")
    parser.add_argument("--trials", type=int, default=300, help="HyperLogLog trials (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be at least 1")

    import matplotlib

    matplotlib.use("Agg")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    hll_path, cms_path = args.out_dir / "hll_error.png", args.out_dir / "cms_error.png"
    plot_hll(hll_path, args.trials)
    plot_cms(cms_path)
    print(f"wrote {hll_path} and {cms_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
