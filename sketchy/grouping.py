"""Sketches per group of a table's column: a table in, a table of one row per group out.

:func:`sketchy.group_sketches` builds the sketches (one pass, in Rust); :func:`group_table` takes
a Polars, pandas or Arrow table and gives back the same kind of table, with the group, its sketch
(or the sketch's bytes, or its DataSketches image, ready to write to Parquet) and its estimate.
"""

from __future__ import annotations

from typing import Any, Literal

from sketchy._native import group_sketches

__all__ = ["group_table"]

_Output = Literal["sketch", "bytes", "datasketches"]


def group_table(
    table: Any,
    by: str,
    column: str,
    template: Any,
    *,
    output: _Output = "sketch",
) -> Any:
    """One row per group of ``table[by]``: the group, the sketch of its ``table[column]`` values,
    and, for a sketch with an ``estimate()``, its estimate.

    ``table`` is a Polars or pandas DataFrame, or a pyarrow Table (or RecordBatch), and the result
    the same kind of table, the groups in the order they first appear. ``output`` is the sketch
    column: ``"sketch"`` (the sketches, a column of Python objects), ``"bytes"`` (their
    ``to_bytes()``) or ``"datasketches"`` (their ``to_datasketches()`` images, for Spark, Druid or
    BigQuery); a binary column can be written to Parquet as it is.

    >>> import pyarrow as pa
    >>> import sketchy
    >>> visits = pa.table({"country": ["fr", "de", "fr", "fr"], "user": ["ann", "bob", "cy", "ann"]})
    >>> out = group_table(visits, "country", "user", sketchy.HyperLogLog(12), output="bytes")
    >>> out.column_names, [round(e) for e in out["estimate"].to_pylist()]
    (['country', 'bytes', 'estimate'], [2, 1])
    """
    if output not in ("sketch", "bytes", "datasketches"):
        raise ValueError(f'output must be "sketch", "bytes" or "datasketches", not {output!r}')
    if not isinstance(by, str) or not isinstance(column, str):
        raise TypeError("by and column must be column names (str)")
    kind = _kind(table)
    names = list(table.columns) if kind != "arrow" else table.column_names
    for argument, name in (("by", by), ("column", column)):
        if name not in names:
            raise ValueError(f"{argument}: no column {name!r} in the table (its columns: {names})")
    if kind == "arrow" and output == "sketch":
        raise ValueError('output: Arrow has no column of Python objects; use "bytes" or "datasketches"')
    if output == "datasketches":
        if not hasattr(template, "to_datasketches"):
            raise ValueError(f"output: a {type(template).__name__} has no DataSketches image")
        template.to_datasketches()  # a sketch that has none says why, before any work
    sketches = group_sketches(table[by], table[column], template)
    keys = list(sketches)
    if output == "sketch":
        cells: list[Any] = list(sketches.values())
    elif output == "bytes":
        cells = [s.to_bytes() for s in sketches.values()]
    else:
        cells = [s.to_datasketches() for s in sketches.values()]
    columns: dict[str, Any] = {by: keys, output: cells}
    if hasattr(template, "estimate"):
        columns["estimate"] = [s.estimate() for s in sketches.values()]
    return _table(kind, table, by, columns)


def _kind(table: Any) -> str:
    module = type(table).__module__.partition(".")[0]
    name = type(table).__name__
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    raise TypeError(f"table must be a Polars or pandas DataFrame or a pyarrow Table, not {name}")


def _table(kind: str, table: Any, by: str, columns: dict[str, Any]) -> Any:
    """The result as a table of `kind`, its group column of the input's type."""
    if kind == "polars":
        import polars as pl

        key_type = table.schema[by]
        return pl.DataFrame(
            {
                name: pl.Series(
                    name, values, dtype=key_type if name == by else (pl.Object if name == "sketch" else None)
                )
                for name, values in columns.items()
            }
        )
    if kind == "pandas":
        import pandas as pd

        frame = pd.DataFrame(columns)
        frame[by] = frame[by].astype(table[by].dtype)
        return frame
    import pyarrow as pa

    key_type = table.schema.field(by).type
    if pa.types.is_dictionary(key_type):
        key_type = key_type.value_type
    return pa.table(
        {name: pa.array(values, type=key_type if name == by else None) for name, values in columns.items()}
    )
