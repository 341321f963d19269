"""Readers: every format and encoding, chunked reading, and every unreadable file."""
from __future__ import annotations

import codecs

import pandas as pd
import pytest

from survey.errors import IngestError
from survey.ingest import detect_encoding, iter_chunks, read_csv, read_file, read_kobo_csv, read_sav, read_xlsx
from tests.fixtures import make_answers, to_kobo_csv, to_label_csv, to_sav, to_xlsx, windows_1258


@pytest.fixture(scope="module")
def answers(monthly):
    return make_answers(monthly, 40, seed=3)


@pytest.mark.parametrize("sep", [";", ","])
def test_kobo_csv_is_recognised_with_either_separator(tmp_path, monthly, answers, sep):
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", sep=sep)
    frame, meta = read_file(path)
    assert meta.info.format == "kobo_csv" and meta.info.separator == sep and meta.info.encoding == "utf-8"
    assert len(frame) == 40 and frame.index[0] == 2  # spreadsheet row numbers, header is row 1
    assert "difficulties/had_difficulty" in meta.columns and "_uuid" in meta.columns
    assert frame.loc[2, "_uuid"] == "uuid-00000"


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1258", "cp1258")])
def test_encodings_give_the_same_nfc_text(tmp_path, monthly, answers, encoding, detected):
    path = to_label_csv(answers, monthly, tmp_path / "l.csv", encoding=encoding)
    frame, meta = read_csv(path)
    assert meta.info.encoding == detected
    header = monthly.question("had_difficulty").label.vi
    assert header in meta.columns  # NFC after reading, whatever the file used
    assert set(frame[header]) == {"Có", "Không"}


def test_windows_1258_really_uses_combining_tones():
    raw = windows_1258("Việt Yên").encode("cp1258")
    assert raw != "Việt Yên".encode("utf-8") and b"\xf2" in raw  # 0xF2: combining dot below
    assert detect_encoding(raw) == "cp1258"


def test_detect_encoding_by_hand():
    assert detect_encoding(codecs.BOM_UTF8 + b"a,b") == "utf-8-sig"
    assert detect_encoding("a,b\n".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("Bắc Giang".encode("utf-8")) == "utf-8"
    assert detect_encoding("Bắc Giang".encode("utf-8")[:2]) == "utf-8"  # cut inside a letter


def test_sav_keeps_missing_codes_and_labels(tmp_path, monthly, answers):
    frame, meta = read_sav(to_sav(answers, monthly, tmp_path / "m.sav"))
    assert meta.info.format == "sav" and frame.index[0] == 1  # SPSS case numbers
    assert meta.value_labels["severity"][98.0] == "Không biết"
    assert frame["severity"].dropna().isin([1, 2, 3, 4, 98]).all()
    assert "difficulty_types_3" in meta.columns


def test_chunks_cover_the_file_with_continuing_row_numbers(tmp_path, monthly, answers):
    for path, first in ((to_sav(answers, monthly, tmp_path / "m.sav"), 1),
                        (to_kobo_csv(answers, monthly, tmp_path / "k.csv"), 2)):
        pieces = list(iter_chunks(path, chunksize=7))
        assert [len(f) for f, _ in pieces] == [7] * 5 + [5]
        whole = pd.concat(f for f, _ in pieces)
        assert whole.index.tolist() == list(range(first, first + 40))


def test_xlsx(tmp_path, monthly, answers):
    frame, meta = read_xlsx(to_xlsx(answers, monthly, tmp_path / "m.xlsx"))
    assert meta.info.format == "xlsx" and len(frame) == 40 and frame.index[0] == 2
    assert frame["locality"].iloc[0] == answers["locality"].iloc[0]


# ----------------------------------------------------------------- unreadable files

def _error(path, **options) -> str:
    with pytest.raises(IngestError) as err:
        read_file(path, **options)
    text = str(err.value)
    assert str(path) in text  # every message names the file
    return text


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    assert "the file is empty (0 bytes)" in _error(tmp_path / "e.csv")


def test_header_only(tmp_path):
    (tmp_path / "h.csv").write_text("a;b;c\n", encoding="utf-8")
    assert "column names but no data rows" in _error(tmp_path / "h.csv")


def test_wrong_separator(tmp_path):
    (tmp_path / "w.csv").write_text("a|b|c\n1|2|3\n", encoding="utf-8")
    msg = _error(tmp_path / "w.csv")
    assert "single column" in msg and "'|'" in msg


def test_truncated_sav(tmp_path, monthly, answers):
    path = to_sav(answers, monthly, tmp_path / "t.sav")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "damaged or incomplete" in _error(path)


def test_sav_renamed_csv(tmp_path, monthly, answers):
    path = to_sav(answers, monthly, tmp_path / "t.sav")
    path = path.rename(tmp_path / "t.csv")
    msg = _error(path)
    assert "ends with .csv but the file is SPSS .sav" in msg and "rename it" in msg


def test_wrong_encoding_named(tmp_path, monthly, answers):
    path = to_label_csv(answers, monthly, tmp_path / "l.csv", encoding="cp1258")
    msg = _error(path, encoding="utf-8")
    assert "cannot be read as utf-8 text" in msg and "cp1258" in msg


def test_unknown_encoding(tmp_path):
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    assert "unknown encoding 'klingon'" in str(pytest.raises(IngestError, read_file, tmp_path / "a.csv",
                                                             encoding="klingon").value)


def test_larger_than_the_limit(tmp_path):
    (tmp_path / "big.csv").write_text("a,b\n" + "1,2\n" * 1000)
    msg = _error(tmp_path / "big.csv", max_bytes=1000)
    assert "larger than the limit" in msg and "--max-size" in msg


def test_old_xls(tmp_path):
    (tmp_path / "o.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "old Excel .xls" in _error(tmp_path / "o.xls")


def test_ragged_rows(tmp_path):
    (tmp_path / "r.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    assert "row 3 has 4 fields but the header has 2" in _error(tmp_path / "r.csv")


def test_binary_garbage_named_csv(tmp_path):
    (tmp_path / "g.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestError):
        read_file(tmp_path / "g.csv")


def test_damaged_xlsx(tmp_path):
    (tmp_path / "d.xlsx").write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    assert "cannot be opened" in _error(tmp_path / "d.xlsx")


def test_requested_format_must_match(tmp_path, monthly, answers):
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    assert "holds CSV data, not SPSS .sav" in _error(path, format="sav")


def test_named_readers_agree(tmp_path, monthly, answers):
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    a, _ = read_kobo_csv(path)
    b, meta = read_csv(path)
    assert meta.info.format == "csv"  # the caller said so
    pd.testing.assert_frame_equal(a, b)
