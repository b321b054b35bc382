"""Sketch a Spark DataFrame column: one HyperLogLog per partition, merged.

Two ways, both without collecting the data:

1. RDD: ``mapPartitions`` yields one sketch per partition and ``treeReduce`` merges them on the
   executors, a few at a time; sketches travel with plain pickle.
2. Arrow: ``mapInArrow`` hands each partition to Python as Arrow record batches, which ``update``
   reads straight from their buffers (no Python objects per row, the fast path); each partition
   yields its sketch as bytes (``to_bytes``), and the driver merges the few partial sketches.

Run it with ``python docs/scale_out/pyspark_recipe.py`` (needs ``pyspark`` and a Java runtime).
"""

from __future__ import annotations

import functools
import operator
import os
import sys

import pyarrow as pa
import pyspark
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sketchy import HyperLogLog

PRECISION = 14  # 2**14 registers: relative error about 0.8%
ROWS = 2_000_000
DISTINCT = 100_000  # x = id * 7919 % DISTINCT takes every value (7919 is prime)
SKETCH_SCHEMA = pa.schema([("sketch", pa.binary())])


def partition_sketch(values):
    """mapPartitions: an iterator of the partition's values in, one sketch out."""
    sketch = HyperLogLog(PRECISION)
    sketch.update(list(values))
    yield sketch


def arrow_partition_sketch(batches):
    """mapInArrow: an iterator of pyarrow.RecordBatch in, one record batch with one serialized sketch out."""
    sketch = HyperLogLog(PRECISION)
    for batch in batches:
        sketch.update(batch.column("x"))
    yield pa.RecordBatch.from_pylist([{"sketch": sketch.to_bytes()}], schema=SKETCH_SCHEMA)


def check(name: str, estimate: float, truth: int) -> None:
    error = estimate / truth - 1
    print(f"{name:<32} estimate {estimate:>10,.0f}   truth {truth:>8,}   error {error:+.2%}")
    assert abs(error) < 0.05, f"{name}: {error:+.2%} off"


def main() -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this Python's sketchy
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sketchy-hyperloglog")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        frame = spark.range(ROWS, numPartitions=16).select(((F.col("id") * 7919) % DISTINCT).alias("x"))

        # 1. RDD: one sketch per partition, then a tree of merges on the executors.
        by_rdd = (
            frame.rdd.map(lambda row: row.x).mapPartitions(partition_sketch).treeReduce(operator.or_, depth=2)
        )
        check("mapPartitions + treeReduce", by_rdd.estimate(), DISTINCT)

        # 2. Arrow batches straight into `update`; the partial sketches come back as bytes.
        rows = frame.mapInArrow(arrow_partition_sketch, "sketch binary").collect()
        by_arrow = functools.reduce(operator.or_, (HyperLogLog.from_bytes(row.sketch) for row in rows))
        check("mapInArrow", by_arrow.estimate(), DISTINCT)
        assert by_arrow == by_rdd  # the same registers, whichever way the data went

        spark_estimate = frame.select(F.approx_count_distinct("x", rsd=0.01)).first()[0]
        check(f"Spark {pyspark.__version__} approx_count_distinct", spark_estimate, DISTINCT)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
