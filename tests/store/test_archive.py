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
