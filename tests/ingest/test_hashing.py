"""Texts hashed from Arrow's bytes give pandas' own hashes (the stored answer fingerprints), issue 18.

The expected values are pandas' (``pandas.util.hash_array`` of the same texts as Python strings), the
function every fingerprint in every store was made with.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.ingest.hashing import text_hashes

# any text Arrow can hold (no lone surrogates), of every length around SipHash's 8-byte words and past
# 255 bytes (the length's low byte only is hashed)
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


def _pandas(texts: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.array(texts, dtype=object), categorize=False)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_TEXT, max_size=40), start=st.integers(0, 5), large=st.booleans())
def test_texts_hash_as_pandas_hashes_them(texts, start, large):
    array = pa.array(texts, type=pa.large_string() if large else pa.string())
    assert np.array_equal(text_hashes(array), _pandas(texts))
    part = array.slice(min(start, len(texts)))  # a slice shares its buffers with the texts before it
    assert np.array_equal(text_hashes(part), _pandas(texts[min(start, len(texts)):]))


def test_texts_of_every_length_from_0_to_300_bytes():
    texts = ["x" * n for n in range(301)] + ["ệ" * n for n in range(0, 120, 7)]
    assert np.array_equal(text_hashes(pa.array(texts)), _pandas(texts))


def test_missing_values_or_another_layout_are_left_to_pandas():
    assert text_hashes(pa.array(["a", None])) is None
    assert text_hashes(pa.array([1, 2])) is None
    assert len(text_hashes(pa.array([], pa.string()))) == 0


def test_a_column_of_many_distinct_texts_keeps_its_fingerprints():
    """Through the fingerprints of a chunk: a column with enough distinct texts to be hashed from Arrow's
    bytes gives the stored ``_hash`` (the same texts as Python objects, missing as pd.NA)."""
    from survey.ingest.ingest import TEXT_HASHES_FROM, fingerprints

    texts = [f"Công ty TNHH {i} " * (1 + i % 7) for i in range(TEXT_HASHES_FROM + 500)] + [None, "", None]
    assert len(set(texts)) > TEXT_HASHES_FROM
    arrow = pd.DataFrame({"t": pd.Series(texts, dtype="string[pyarrow]"), "n": np.arange(len(texts), dtype=float)})
    objects = pd.DataFrame({"t": pd.Series([pd.NA if t is None else t for t in texts], dtype=object),
                            "n": arrow["n"]})
    assert (fingerprints(arrow) == pd.util.hash_pandas_object(objects, index=False).to_numpy()).all()
