"""Texts held as Arrow strings: how a column is recognised as such, and made one Arrow array.

A CSV's cells arrive as pandas' Arrow-backed strings and stay so through coercion and into the staged
rows (issue 18). The reader, coercion and the store's staging each need these two steps; they live here,
below all three, so the store does not import ingest nor ingest repeat them.
"""
from __future__ import annotations

from typing import Any

from .lazy_import import lazy_module

pd = lazy_module("pandas")

__all__ = ["is_arrow_text", "arrow_strings", "one_chunk"]


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
