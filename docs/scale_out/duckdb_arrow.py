"""Feed sketches from a DuckDB query through an Arrow record batch reader.

DuckDB streams a query's result as Arrow record batches (``to_arrow_reader``; ``fetch_record_batch``
on DuckDB < 1.5); ``update`` reads each column straight from the Arrow buffers, so the result is never
materialized as Python objects nor held whole in memory.

Run it with ``python docs/scale_out/duckdb_arrow.py`` (needs ``duckdb``).
"""

from __future__ import annotations

import duckdb

from sketchy import HyperLogLog, TopK

PRECISION = 14  # 2**14 registers: relative error about 0.8%
QUERY = """
    select
        range % 1000 as x,
        'user-' || ((range * 7919) % 100000) as user,
        case when range % 10 < 7 then 'ok' when range % 10 < 9 then 'retry' else 'error' end as status
    from range(2000000)
"""


def record_batches(relation: duckdb.DuckDBPyRelation, rows_per_batch: int = 100_000):
    """The relation's rows as a pyarrow.RecordBatchReader."""
    if hasattr(relation, "to_arrow_reader"):
        return relation.to_arrow_reader(rows_per_batch)
    return relation.fetch_record_batch(rows_per_batch)  # DuckDB < 1.5


def check(name: str, estimate: float, truth: int, bound: float | None = 0.05) -> None:
    """Prints the estimate's error; fails past `bound` (None: only reported)."""
    error = estimate / truth - 1
    print(f"{name:<34} estimate {estimate:>10,.0f}   truth {truth:>8,}   error {error:+.2%}")
    assert bound is None or abs(error) < bound, f"{name}: {error:+.2%} off"


def main() -> None:
    with duckdb.connect() as con:
        xs, users, statuses = HyperLogLog(PRECISION), HyperLogLog(PRECISION), TopK(2)
        for batch in record_batches(con.sql(QUERY)):
            xs.update(batch.column("x"))
            users.update(batch.column("user"))
            statuses.update(batch.column("status"))

        [(exact_x, exact_users, duckdb_users)] = con.sql(
            "select count(distinct x), count(distinct user), approx_count_distinct(user) from (" + QUERY + ")"
        ).fetchall()

    check("x (sparse: near exact)", xs.estimate(), exact_x)
    check("user", users.estimate(), exact_users)
    # For comparison only: DuckDB 1.5's approx_count_distinct is 33% off on this column, 2.0's is not.
    check(f"DuckDB {duckdb.__version__} approx_count_distinct", duckdb_users, exact_users, bound=None)
    print("most common statuses", statuses.most_common())
    assert statuses.most_common() == [("ok", 1_400_000), ("retry", 400_000)]  # exact: 3 < capacity items


if __name__ == "__main__":
    main()
