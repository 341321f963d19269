"""Texts held as Arrow strings: how a column is recognised as such, and made one Arrow array.

A CSV's cells arrive as pandas' Arrow-backed strings and stay so through coercion and into the staged
rows (issue 18). The reader, coercion and the store's staging each need these two steps; they live here,
below all three, so the store does not import ingest nor ingest repeat them.
"""
from __future__ import annotations

from typing import Any

from .lazy_import import lazy_module

pd = lazy_module("pandas")

__all__ = ["is_arrow_text", "arrow_strings", "one_chunk", "dictionary_codes", "string_bytes"]


def is_arrow_text(column: Any) -> bool:
    """Whether pandas holds ``column`` (a Series) as Arrow strings (a CSV's cells; coercion's text answers)."""
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def one_chunk(array: Any) -> Any:
    """An Arrow array as one contiguous array (a chunked array's chunks combined; Arrow's kernels that
    take one array, and the ADBC driver's one schema per chunk, need it)."""
    import pyarrow as pa

    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def arrow_strings(column: Any) -> Any:
    """A column of texts (or missing: null) as one Arrow string array, without a copy when pandas already
    holds it as Arrow strings."""
    import pyarrow as pa

    return one_chunk(pa.array(column if is_arrow_text(column) else column.astype("string[pyarrow]")))


def dictionary_codes(column: Any) -> tuple[Any, Any]:
    """A column of texts by Arrow's dictionary encoding: each cell's code (numpy intp, -1 for a missing
    cell) and the distinct texts, an Arrow string array in order of first appearance (as
    ``pandas.factorize``)."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow_strings(column))
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return codes, encoded.dictionary


def string_bytes(array: Any) -> tuple[Any, Any] | None:
    """The UTF-8 bytes of an Arrow string array (one chunk) as numpy views, nothing copied: the offsets
    of its texts, ``len(array) + 1`` of them as int64 (text ``i`` is ``data[ends[i]:ends[i + 1]]``), and
    the data buffer as uint8 (it may hold bytes of texts outside a slice). None for another layout."""
    import numpy as np
    import pyarrow as pa

    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    _validity, offsets, data = array.buffers()
    kind = np.int64 if pa.types.is_large_string(array.type) else np.int32
    ends = np.frombuffer(offsets, dtype=kind)[array.offset:array.offset + len(array) + 1].astype(np.int64)
    return ends, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))
