"""Loaded files are archived with zstd (issue 18) and come back byte for byte; files archived with zlib
before still do."""
from __future__ import annotations

import hashlib
import sqlite3
import zlib

from survey.ingest import ingest_file
from survey.store import Store
from tests.fixtures import make_answers, to_kobo_csv


def test_a_loaded_file_is_archived_with_zstd_and_read_back_as_it_was(tmp_path, monthly):
    path = to_kobo_csv(make_answers(monthly, 30, seed=4), monthly, tmp_path / "k.csv")
    db = tmp_path / "s.sqlite"
    store = Store(f"sqlite:///{db}")
    result = ingest_file(path, monthly, "2025-11", store=store)
    original = path.read_bytes()
    assert result.sha256 == hashlib.sha256(original).hexdigest()
    assert store.read_raw_file(result.sha256) == original
    with sqlite3.connect(db) as conn:
        codec, content = conn.execute("SELECT compression, content FROM raw_files").fetchone()
    assert codec == "zstd" and content[:4] == b"\x28\xb5\x2f\xfd"  # the zstd frame's magic number


def test_a_file_archived_with_zlib_before_is_still_read(tmp_path, monthly):
    path = to_kobo_csv(make_answers(monthly, 10, seed=5), monthly, tmp_path / "k.csv")
    db = tmp_path / "s.sqlite"
    store = Store(f"sqlite:///{db}")
    result = ingest_file(path, monthly, "2025-11", store=store)
    store.dispose()
    with sqlite3.connect(db) as conn:  # as a store made before issue 18 holds it
        conn.execute("UPDATE raw_files SET compression = 'zlib', content = ?", (zlib.compress(path.read_bytes()),))
    assert Store(f"sqlite:///{db}").read_raw_file(result.sha256) == path.read_bytes()


def test_a_load_hashes_its_file_as_it_archives_it_not_before_reading_it(tmp_path, monthly, monkeypatch):
    """The file is read for its SHA-256 once, by the archiving beside the reading (hashing it first was
    0.6 s of a 280 MB file before its first row, issue 18); the checksum is still the file's, in the result,
    the audit log and the archive, and a file loaded as another period is still refused."""
    import pytest

    import survey.ingest.readers as readers
    from survey.errors import IngestError, SurveyWarning

    def not_first(path):
        raise AssertionError("the file was hashed before its rows were read")
    monkeypatch.setattr(readers, "_sha256", not_first)
    path = to_kobo_csv(make_answers(monthly, 30, seed=6), monthly, tmp_path / "k.csv")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    result = ingest_file(path, monthly, "2025-11", store=store)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sha256 == expected
    assert store.list_loads()["sha256"].tolist() == [expected]
    assert store.read_raw_file(expected) == path.read_bytes()
    with pytest.raises(IngestError, match="already loaded as period 2025-11"), \
            pytest.warns(SurveyWarning):  # its submissions are dated in 2025-11, too
        ingest_file(path, monthly, "2025-12", store=store)
    assert len(store.list_loads()) == 1
