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


def test_a_column_s_codes_and_distinct_texts_are_pandas_factorize_s():
    from survey.arrow_text import dictionary_codes

    column = pd.Series(["b", None, "a", "b", "", None], dtype="string[pyarrow]")
    codes, distinct = dictionary_codes(column)
    expected_codes, expected = pd.factorize(column.astype(object).where(column.notna(), None), use_na_sentinel=True)
    assert codes.tolist() == expected_codes.tolist() == [0, -1, 1, 0, 2, -1]
    assert distinct.to_pylist() == list(expected) == ["b", "a", ""]


def test_a_slice_s_bytes_are_its_own_texts_in_both_layouts():
    from survey.arrow_text import string_bytes

    for kind in (pa.string(), pa.large_string()):
        part = pa.array(["xy", "ệa", None, "b"], kind).slice(1, 2)
        ends, data = string_bytes(part)
        assert [bytes(data[ends[i]:ends[i + 1]]).decode() for i in range(len(part))] == ["ệa", ""]
    assert string_bytes(pa.array([1, 2])) is None
