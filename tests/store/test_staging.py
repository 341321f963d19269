"""On SQLite a load's rows are staged in a file of their own (ADBC, from Arrow) while it prepares, then
copied under the write lock by one INSERT ... SELECT (issue 18): the store must hold exactly what the
plain path (one executemany per chunk) stores, value for value and storage type for type."""
from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from survey.errors import StoreError
from survey.ingest import ingest_file
from survey.questionnaire import load_questionnaire
from survey.store import Store
from survey.store.staging import STAGING_SCHEMA, StagedRows
from tests.fixtures import make_answers, to_kobo_csv
from tests.ingest.test_ingest import snapshot
from tests.store.test_bulk_insert import DATES, NUMBERS, TEXTS


@pytest.fixture
def monthly_nov():
    return load_questionnaire("monthly_difficulties", period="2025-11")


def _contents(path) -> list[tuple]:
    """Every stored response, each value with SQLite's storage class (REAL, TEXT, NULL...), in id order."""
    con = sqlite3.connect(path)
    try:
        table = "responses_monthly_difficulties"
        names = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        cells = ", ".join(f'"{c}", typeof("{c}")' for c in names)
        return con.execute(f'SELECT {cells} FROM "{table}" ORDER BY _id').fetchall()
    finally:
        con.close()


def test_a_staged_load_stores_what_the_plain_path_stores(tmp_path, monthly_nov, monkeypatch):
    # answers with every kind of column: numbers and codes, texts, multiple choices, dates, missing cells
    path = to_kobo_csv(make_answers(monthly_nov, 700, seed=12), monthly_nov, tmp_path / "m.csv")
    staged_db, plain_db = tmp_path / "staged.sqlite", tmp_path / "plain.sqlite"
    calls = []
    real = Store.insert_staged
    monkeypatch.setattr(Store, "insert_staged", lambda self, *a: calls.append(a) or real(self, *a))
    staged = ingest_file(path, monthly_nov, "2025-11", db=f"sqlite:///{staged_db}", chunksize=150)
    assert len(calls) == 1  # the rows came through the staging file, in one copy
    monkeypatch.setattr(Store, "stages", property(lambda self: False))
    plain = ingest_file(path, monthly_nov, "2025-11", db=f"sqlite:///{plain_db}", chunksize=150)
    assert len(calls) == 1
    assert (staged.accepted, staged.corrected, staged.quarantined) == (plain.accepted, plain.corrected,
                                                                       plain.quarantined)
    a, b = _contents(staged_db), _contents(plain_db)
    assert len(a) == staged.accepted + staged.corrected > 600
    assert a == b
    # in file order: the copy keeps the order the rows were staged in
    rows = [r[6] for r in a]  # _row (each column comes with its storage class)
    assert rows == sorted(rows)


@pytest.mark.parametrize("texts", [object, "string[pyarrow]"])  # as Python objects, or Arrow strings (coercion's)
def test_staged_rows_round_trip_texts_numbers_and_dates(tmp_path, monthly_nov, texts):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    n = len(TEXTS)
    frame = pd.DataFrame({"_row": range(2, n + 2), "_key": [f"k{i}" for i in range(n)],
                          "_hash": [f"{i:016x}" for i in range(n)], "description": pd.Series(TEXTS, dtype=texts),
                          "cost_estimate": NUMBERS, "reported_date": pd.Series(DATES, dtype=object)})
    staged = StagedRows(tmp_path / "rows.sqlite", store.response_types(monthly_nov))
    staged.add(frame.iloc[:3])
    staged.add(frame.iloc[3:])
    staged.close()
    with store.begin(staged=staged.path) as conn:
        wave = store.wave_id(conn, monthly_nov, "2025-11")
        table = store.response_table(conn, monthly_nov)
        load = store.start_load(conn, wave, file_name="x.csv", sha256="0" * 64, size=1, format="csv",
                                encoding="utf-8", user="test")
        assert store.insert_staged(conn, table, staged.columns, wave, load) == n
    back = store.read_responses(monthly_nov).set_index("response_key").loc[[f"k{i}" for i in range(n)]]
    assert [None if v is None or v != v else v for v in back["description"]] == TEXTS
    got = back["cost_estimate"].astype(float).tolist()
    assert [g != g if e != e else g == e for g, e in zip(got, NUMBERS)] == [True] * n
    assert [None if pd.isna(d) else pd.Timestamp(d).date() for d in back["reported_date"]] == DATES


def test_a_staging_file_that_cannot_be_written_stops_the_load_and_changes_nothing(tmp_path, monthly_nov,
                                                                                  monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_file(to_kobo_csv(make_answers(monthly_nov, 20, seed=1), monthly_nov, tmp_path / "a.csv"),
                monthly_nov, "2025-10", store=store)
    before = snapshot(store)

    def full(self, table):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(StagedRows, "_write", full)
    path = to_kobo_csv(make_answers(monthly_nov, 300, seed=2), monthly_nov, tmp_path / "b.csv")
    with pytest.raises(StoreError) as caught:
        ingest_file(path, monthly_nov, "2025-11", store=store, chunksize=100)
    assert caught.value.code == "store.staging" and "No space left" in caught.value.params["reason"]
    assert snapshot(store) == before


@pytest.mark.parametrize("fail", [False, True])
def test_the_staging_file_is_detached_when_the_transaction_ends(tmp_path, monthly_nov, monkeypatch, fail):
    """A pooled connection goes back without the staging file attached, after a commit or a rollback."""
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    path = to_kobo_csv(make_answers(monthly_nov, 50, seed=3), monthly_nov, tmp_path / "c.csv")
    attached = []
    real = Store.insert_staged

    def copy(self, conn, *args):
        attached.append([r[1] for r in conn.exec_driver_sql("PRAGMA database_list")])
        done = real(self, conn, *args)
        if fail:
            raise RuntimeError("after the copy")
        return done
    monkeypatch.setattr(Store, "insert_staged", copy)
    if fail:
        with pytest.raises(RuntimeError):
            ingest_file(path, monthly_nov, "2025-11", store=store)
    else:
        ingest_file(path, monthly_nov, "2025-11", store=store)
    assert STAGING_SCHEMA in attached[0]
    with store.engine.connect() as conn:  # the pool's connection (one per thread)
        assert STAGING_SCHEMA not in [r[1] for r in conn.exec_driver_sql("PRAGMA database_list")]
    assert len(store.read_responses(monthly_nov)) == (0 if fail else 50)


def _indexes(path) -> list[tuple]:
    """(name, SQL) of every index of the responses table, constraints' too (their SQL is None)."""
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = 'responses_monthly_difficulties' ORDER BY name").fetchall()
    finally:
        con.close()


def _statements(store: Store) -> list[str]:
    """The statements ``store`` sends from now on (appended as they run)."""
    from sqlalchemy import event

    sent = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    return sent


def test_a_large_copy_builds_the_indexes_again_after_its_rows(tmp_path, monthly_nov, monkeypatch):
    """A copy of many rows into a table holding less than half as many drops its indexes and builds them
    after the rows (sorting once is faster than inserting random keys): the store ends with the same
    indexes and rows as a copy into the indexes; a copy into a table holding more than half keeps them."""
    import survey.store.store as store_module

    first = to_kobo_csv(make_answers(monthly_nov, 300, seed=21), monthly_nov, tmp_path / "a.csv")
    second = to_kobo_csv(make_answers(monthly_nov, 450, seed=22), monthly_nov, tmp_path / "b.csv",
                         uuids=[f"second-{i}" for i in range(450)])
    kept_db, rebuilt_db = tmp_path / "kept.sqlite", tmp_path / "rebuilt.sqlite"
    after_first = {}
    for db, least in ((kept_db, 10 ** 9), (rebuilt_db, 100)):
        monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", least)
        store = Store(f"sqlite:///{db}")
        sent = _statements(store)
        ingest_file(first, monthly_nov, "2025-11", store=store)
        drops = [s for s in sent if s.startswith("DROP INDEX")]
        assert len(drops) == (2 if db == rebuilt_db else 0), drops
        after_first[db] = _indexes(db)  # (a later load would create a missing hash index again)
        del sent[:]
        ingest_file(second, monthly_nov, "2025-11", store=store)  # 450 rows into a table of 300: kept
        assert not [s for s in sent if s.startswith("DROP INDEX")]
        store.dispose()
    assert after_first[rebuilt_db] == after_first[kept_db] == _indexes(kept_db) == _indexes(rebuilt_db)
    assert [name for name, _ in _indexes(kept_db)] == ["ix_responses_monthly_difficulties_hash",
                                                       "uq_responses_monthly_difficulties_key"]
    assert _contents(rebuilt_db) == _contents(kept_db)


@pytest.mark.parametrize("old_store", [False, True])
def test_a_key_staged_twice_fails_the_rebuilt_copy_and_changes_nothing(tmp_path, monthly_nov, monkeypatch,
                                                                       old_store):
    """Were a duplicated key to pass the load's checks, building the unique index again refuses it and the
    whole load is rolled back, indexes included; a store made before (its keys unique by a table
    constraint, which cannot be dropped) keeps that constraint and refuses it the same way."""
    import survey.ingest.ingest as ingest_module
    import survey.store.store as store_module
    from sqlalchemy import Column, MetaData, Table, UniqueConstraint
    from sqlalchemy.exc import IntegrityError

    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 10)
    db = tmp_path / "s.sqlite"
    store = Store(f"sqlite:///{db}")
    if old_store:  # the responses table as stores made before 29 November 2026 created it
        name = store_module.response_table_name(monthly_nov.id)
        with store.begin() as conn:
            Table(name, MetaData(), *store_module._fixed_columns(),
                  *[Column(q.id, store_module._sql_type(q.type)()) for q in monthly_nov.questions],
                  UniqueConstraint("_wave_id", "_key", name=f"uq_{name}_key")).create(conn)
    ingest_file(to_kobo_csv(make_answers(monthly_nov, 5, seed=1), monthly_nov, tmp_path / "a.csv"),
                monthly_nov, "2025-10", store=store)
    before, indexes = snapshot(store), _indexes(db)
    # the constraint's index has no SQL
    assert len(indexes) == 2 and any(sql is None for _, sql in indexes) == old_store
    monkeypatch.setattr(ingest_module, "_duplicates", lambda rows, values, state: [])  # the check defeated
    twice = to_kobo_csv(make_answers(monthly_nov, 40, seed=2), monthly_nov, tmp_path / "b.csv",
                        uuids=[f"k{i % 30}" for i in range(40)])
    with pytest.raises(IntegrityError):
        ingest_file(twice, monthly_nov, "2025-11", store=store)
    assert snapshot(store) == before and _indexes(db) == indexes
