"""Feed one HyperLogLog from a Polars query, batch by batch, without collecting the whole result.

``LazyFrame.collect_batches()`` runs the query on Polars' streaming engine and yields DataFrames of
bounded size; each column goes to ``update`` as Arrow (``Series.to_arrow()`` is zero-copy), so
memory stays at one batch plus the sketch, whatever the size of the data. On a Polars without
``collect_batches``, ``DataFrame.iter_slices()`` over a collected frame gives the same batches.

Run it with ``python docs/scale_out/polars_batches.py`` (needs ``polars``).
"""

from __future__ import annotations

import polars as pl

from sketchy import HyperLogLog

PRECISION = 14  # 2**14 registers: relative error about 0.8%
ROWS = 2_000_000
DISTINCT = 100_000  # every residue of i * 7919 mod DISTINCT occurs (7919 is prime)
BATCH_ROWS = 100_000


def batches(query: pl.LazyFrame):
    """The result of ``query`` as DataFrames of about BATCH_ROWS rows."""
    if hasattr(query, "collect_batches"):  # the streaming engine (recent Polars)
        yield from query.collect_batches(chunk_size=BATCH_ROWS)
    else:
        yield from query.collect().iter_slices(BATCH_ROWS)


def check(name: str, estimate: float, truth: int) -> None:
    error = estimate / truth - 1
    print(f"{name:<30} estimate {estimate:>10,.0f}   truth {truth:>8,}   error {error:+.2%}")
    assert abs(error) < 0.05, f"{name}: {error:+.2%} off"


def main() -> None:
    query = pl.LazyFrame({"i": pl.int_range(ROWS, eager=True)}).select(
        user=pl.format("user-{}", (pl.col("i") * 7919) % DISTINCT),
        amount=pl.col("i") % 1_000,
    )
    users, amounts = HyperLogLog(PRECISION), HyperLogLog(PRECISION)
    rows = 0
    for batch in batches(query):
        users.update(batch["user"].to_arrow())
        amounts.update(batch["amount"].to_arrow())
        rows += batch.height
    assert rows == ROWS

    check("users (streamed batches)", users.estimate(), DISTINCT)
    check("amounts (sparse: near exact)", amounts.estimate(), 1_000)
    polars_estimate = query.select(pl.col("user").approx_n_unique()).collect().item()
    check(f"Polars {pl.__version__} approx_n_unique", polars_estimate, DISTINCT)


if __name__ == "__main__":
    main()
