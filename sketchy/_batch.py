"""Normalization of batch inputs for the Rust extension (called from ``sketchy._native``).

Lists, tuples and plain numeric numpy arrays are read by Rust directly; everything else comes here
first and leaves as one of:

- a one-dimensional, C-contiguous, native-endian numeric numpy array (borrowed by Rust);
- ``("var32" | "var64", "utf8" | "str" | "bytes", offsets, data)``: an Arrow variable-width layout,
  read straight from the Arrow buffers (no Python object per item); ``"utf8"`` is text that Arrow
  has validated, ``"str"`` text still to be checked;
- ``("view", "utf8" | "bytes", views, [data, ...])``: an Arrow ``string_view``/``binary_view``
  layout (what Polars holds), its 16-byte views and data buffers read in place;
- ``("fixed_bytes", uint8 array, width)`` / ``("fixed_ucs4", uint32 array, width)``: numpy ``S``/``U``;
- a list, or any other iterable, whose items Rust converts one by one.

pandas and pyarrow are never imported here unless the input already comes from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def normalize(keys: Any) -> Any:
    if isinstance(keys, np.ndarray):
        return _numpy(keys)
    module = type(keys).__module__.partition(".")[0]
    if module == "pandas":
        return _pandas(keys)
    if module == "pyarrow":
        return _arrow(keys)
    if module == "polars" and type(keys).__name__ == "Series":
        if keys.dtype.is_numeric() and not keys.null_count():
            return _numpy(keys.to_numpy())  # zero copy, and no pyarrow import
        import pyarrow as pa

        # Through the Arrow C stream, Polars' own string views come as they are; `to_arrow()` would
        # copy them into a `large_string`.
        return _arrow(pa.chunked_array(keys) if hasattr(keys, "__arrow_c_stream__") else keys.to_arrow())
    if isinstance(keys, range):
        if keys and -(2**63) <= min(keys[0], keys[-1]) and max(keys[0], keys[-1]) < 2**63:
            return np.arange(keys.start, keys.stop, keys.step, dtype=np.int64)
        return keys
    if hasattr(keys, "__arrow_c_array__") or hasattr(keys, "__arrow_c_stream__"):
        import pyarrow as pa

        return _arrow(pa.chunked_array(keys) if hasattr(keys, "__arrow_c_stream__") else pa.array(keys))
    if not hasattr(keys, "__iter__"):
        raise TypeError(f"keys must be an iterable of items, not {type(keys).__name__}")
    return keys


def _numpy(array: np.ndarray) -> Any:
    if array.ndim != 1:
        raise ValueError(f"keys must be a one-dimensional array, got shape {array.shape}")
    kind = array.dtype.kind
    if kind in "iu":
        return _aligned(array, array.dtype.newbyteorder("="))
    if kind == "f":
        # float16 widens exactly to float32; longdouble narrows to float64, the canonical encoding.
        return _aligned(array, {2: np.float32, 4: np.float32}.get(array.dtype.itemsize, np.float64))
    if kind == "b":
        return np.ascontiguousarray(array).view(np.uint8)
    if kind == "U":
        width = array.dtype.itemsize // 4
        if width == 0:
            return [""] * len(array)
        native = _aligned(array, np.dtype(f"=U{width}"))
        return ("fixed_ucs4", native.view(np.uint32), width)
    if kind == "S":
        width = array.dtype.itemsize
        if width == 0:
            return [b""] * len(array)
        return ("fixed_bytes", np.ascontiguousarray(array).view(np.uint8), width)
    if kind == "T":  # numpy 2's StringDType: its strings are read through Arrow when it is there
        try:
            import pyarrow as pa

            strings = pa.array(array, type=pa.large_string())
        except (ImportError, TypeError):  # no pyarrow, or one that predates StringDType
            return array.tolist()
        return _arrow(strings)
    if kind == "O":
        return array.tolist()
    raise TypeError(
        f"unsupported array dtype {array.dtype}: expected integers, floats, str, bytes or objects"
    )


def _aligned(array: np.ndarray, dtype: Any) -> np.ndarray:
    """`array` as a C-contiguous, aligned array of `dtype`: a copy only if it is not one already
    (data received over a network can sit at an address that is not a multiple of its item size)."""
    return np.require(array, dtype=dtype, requirements=("C", "A"))


def _pandas(obj: Any) -> Any:
    values = getattr(obj, "array", None)
    if values is None:  # a DataFrame or something else without one column of values
        raise TypeError(f"keys must be one column of values (a Series or Index), not {type(obj).__name__}")
    if hasattr(values, "__arrow_array__"):
        return _arrow(values.__arrow_array__())
    mask = getattr(values, "_mask", None)  # nullable Int64/Float64/boolean arrays
    if mask is not None:
        if mask.any():
            raise TypeError(f"missing value (NA) at position {int(np.argmax(mask))}: items cannot be missing")
        return _numpy(np.asarray(values._data))
    return _numpy(obj.to_numpy())


def _arrow(obj: Any) -> Any:
    import pyarrow as pa

    if isinstance(obj, pa.ChunkedArray):
        if obj.num_chunks == 0:
            return []
        if obj.num_chunks > 1 and (pa.types.is_string(obj.type) or pa.types.is_binary(obj.type)):
            # Combined int32 offsets could overflow past 2 GiB: widen before concatenating.
            obj = obj.cast(pa.large_string() if pa.types.is_string(obj.type) else pa.large_binary())
        obj = obj.chunk(0) if obj.num_chunks == 1 else obj.combine_chunks()
    if not isinstance(obj, pa.Array):
        raise TypeError(f"unsupported Arrow object {type(obj).__name__}")
    t = obj.type
    if pa.types.is_dictionary(t):
        if pa.types.is_string_view(t.value_type) or pa.types.is_binary_view(t.value_type):
            # Polars' categoricals: Arrow has no `take` of views, so the (small) dictionary is cast.
            wide = pa.large_string() if pa.types.is_string_view(t.value_type) else pa.large_binary()
            obj = pa.DictionaryArray.from_arrays(obj.indices, obj.dictionary.cast(wide))
        return _arrow(obj.dictionary_decode())
    if obj.null_count:
        import pyarrow.compute as pc  # a quarter of a second to import: only when needed

        first = pc.index(obj.is_null(), True).as_py()
        raise TypeError(f"missing value (null) at position {first}: items cannot be missing")
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        _, views, *buffers = obj.buffers()
        views, *arrays = (
            np.frombuffer(b, dtype=np.uint8) if b is not None else np.zeros(0, np.uint8)
            for b in (views, *buffers)
        )
        views = views[obj.offset * 16 : (obj.offset + len(obj)) * 16]
        return ("view", "utf8" if pa.types.is_string_view(t) else "bytes", views, arrays)
    if (
        pa.types.is_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_string(t)
        or pa.types.is_large_binary(t)
    ):
        large = pa.types.is_large_string(t) or pa.types.is_large_binary(t)
        offset_type = np.int64 if large else np.int32
        _, offsets, data = obj.buffers()
        offsets = _aligned(
            np.frombuffer(offsets, dtype=offset_type)[obj.offset : obj.offset + len(obj) + 1], offset_type
        )
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        # "utf8": Arrow has checked the data (Rust checks only the offsets); "str" would check again.
        kind = "utf8" if (pa.types.is_string(t) or pa.types.is_large_string(t)) else "bytes"
        return ("var64" if large else "var32", kind, offsets, data)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return _numpy(obj.to_numpy(zero_copy_only=False))
    raise TypeError(f"unsupported Arrow type {t}: expected strings, binary, integers or floats")


def counts(values: Any) -> np.ndarray:
    """The ``counts`` of a batch update as a contiguous uint64 array (non-negative integers only)."""
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"counts must be integers, got {type(values).__name__} of dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(
            f"counts must be an int or a one-dimensional sequence of ints, got shape {array.shape}"
        )
    if array.dtype.kind == "i" and (array < 0).any():
        raise ValueError(
            f"counts must be non-negative, got {array[array < 0][0]} at position {int(np.argmax(array < 0))}"
        )
    return _aligned(array, np.uint64)
