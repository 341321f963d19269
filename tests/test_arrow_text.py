"""The one place texts held as Arrow strings are recognised and made one array (reader, coercion, staging)."""
import pandas as pd
import pyarrow as pa

from survey.arrow_text import arrow_strings, is_arrow_text, one_chunk


def test_arrow_strings_are_told_from_python_objects_and_from_numbers():
    assert is_arrow_text(pd.Series(["a", None], dtype="string[pyarrow]"))
    assert is_arrow_text(pd.Series(["a"], dtype=pd.StringDtype("pyarrow", na_value=float("nan"))))
    assert not is_arrow_text(pd.Series(["a", None], dtype=object))
    assert not is_arrow_text(pd.Series(["a"], dtype="string[python]"))
    assert not is_arrow_text(pd.Series([1.0, 2.0]))


def test_a_column_in_several_chunks_becomes_one_array_with_its_missing_cells_null():
    chunked = pa.chunked_array([["a", None], ["c"]])
    column = pd.Series(pd.arrays.ArrowStringArray(chunked))
    out = arrow_strings(column)
    assert isinstance(out, pa.Array) and not isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == ["a", None, "c"]
    assert arrow_strings(pd.Series(["x", None, "z"], dtype=object)).to_pylist() == ["x", None, "z"]
    assert one_chunk(chunked).to_pylist() == ["a", None, "c"] and one_chunk(out) is out
