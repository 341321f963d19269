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
    monkeypatch.setattr(Store, "insert_staged", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
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

    def copy(self, conn, *args, **kwargs):
        attached.append([r[1] for r in conn.exec_driver_sql("PRAGMA database_list")])
        done = real(self, conn, *args, **kwargs)
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


def _copies(store: Store) -> list[tuple[str, set]]:
    """Each staged copy ``store`` runs from now on: (statement, the opcodes of SQLite's plan for it, read
    just after it ran: whether it moved records whole, ``RowData``, or decoded values, ``Column``)."""
    from sqlalchemy import event

    found = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO main.") and STAGING_SCHEMA in statement:
            plan = cursor.connection.execute("EXPLAIN " + statement, parameters or ()).fetchall()
            found.append((statement, {row[1] for row in plan}))
    event.listen(store.engine, "after_cursor_execute", after)
    return found


def _plain_store(tmp_path, name, files, qn, monkeypatch) -> list[tuple]:
    """What the plain path (no staging: one executemany per chunk) stores for ``files`` loaded in turn."""
    with monkeypatch.context() as m:
        m.setattr(Store, "stages", property(lambda self: False))
        store = Store(f"sqlite:///{tmp_path / name}")
        for path, period in files:
            ingest_file(path, qn, period, store=store)
        store.dispose()
    return _contents(tmp_path / name)


def test_a_large_copy_moves_whole_records_and_stores_what_the_plain_path_stores(tmp_path, monthly_nov,
                                                                               monkeypatch):
    """The staged rows hold their ids and the responses table's layout, so a copy whose table keeps no
    index (dropped to be built again) moves each record whole (SQLite's plan reads no value); a copy into
    the indexes decodes them. Either way the store holds, id for id, what the plain path stores; foreign
    keys (off for the copy) hold and are enforced again after."""
    import survey.store.store as store_module

    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 100)
    files = [(to_kobo_csv(make_answers(monthly_nov, 300, seed=31), monthly_nov, tmp_path / "a.csv"), "2025-11"),
             (to_kobo_csv(make_answers(monthly_nov, 450, seed=32), monthly_nov, tmp_path / "b.csv",
                          uuids=[f"b-{i}" for i in range(450)]), "2025-11")]
    db = tmp_path / "staged.sqlite"
    store = Store(f"sqlite:///{db}")
    copies = _copies(store)
    for path, period in files:
        ingest_file(path, monthly_nov, period, store=store)
    (first, whole), (second, decoded) = copies
    assert first.endswith('SELECT * FROM pgi_staging."rows"') and second == first
    assert "RowData" in whole and not {"Column", "MakeRecord"} & whole  # 300 rows into an empty table
    assert "Column" in decoded  # 450 rows into a table of 300: its indexes kept, values inserted into them
    with store.engine.connect() as conn:  # the pool's connection, as the next user gets it
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    store.dispose()
    stored = _contents(db)
    assert len(stored) > 700 and stored == _plain_store(tmp_path, "plain.sqlite", files, monthly_nov, monkeypatch)


def test_ids_another_load_took_first_are_not_used(tmp_path, monthly_nov, monkeypatch):
    """A load of another month committed while this one prepared takes the ids its rows were staged with
    (the next response ids and load id): the rows are copied by their values and given the ids after, as
    the plain path gives them."""
    import survey.ingest.ingest as ingest_module

    early = to_kobo_csv(make_answers(monthly_nov, 40, seed=41), monthly_nov, tmp_path / "early.csv")
    late = to_kobo_csv(make_answers(monthly_nov, 60, seed=42), monthly_nov, tmp_path / "late.csv",
                       uuids=[f"late-{i}" for i in range(60)])
    db = tmp_path / "staged.sqlite"
    store = Store(f"sqlite:///{db}")
    real, done = ingest_module._Load.store, []

    def store_after_another(self, *args, **kwargs):
        if not done:  # the other load commits between this one's preparing and storing
            done.append(True)
            ingest_file(early, monthly_nov, "2025-10", store=store)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(ingest_module._Load, "store", store_after_another)
    copies = _copies(store)
    result = ingest_file(late, monthly_nov, "2025-11", store=store)
    assert result.load_id == 2 and len(copies) == 2
    assert copies[0][0].endswith("SELECT * FROM pgi_staging.\"rows\"")  # the other load's ids were its own
    assert "SELECT ?, ?" in copies[1][0]  # this one's were taken: copied by value
    store.dispose()
    monkeypatch.setattr(ingest_module._Load, "store", real)
    plain = _plain_store(tmp_path, "plain.sqlite", [(early, "2025-10"), (late, "2025-11")], monthly_nov, monkeypatch)
    assert _contents(db) == plain


def test_the_staging_layout_is_the_responses_tables(tmp_path, monthly_nov):
    """The layout given to a new table's staging file is the table SQLite then creates, column for column;
    a table that lacks a question (the load will add it) gives none."""
    from sqlalchemy import Column, MetaData, Table

    import survey.store.store as store_module

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    name = store_module.response_table_name(monthly_nov.id)
    with store.begin() as conn:
        planned = store.staging_layout(conn, monthly_nov, None)
        store.response_table(conn, monthly_nov)
        declared = [(r[1], r[2], bool(r[3]), bool(r[5]))
                    for r in conn.exec_driver_sql(f'PRAGMA table_info("{name}")')]
        existing = store.existing_response_table(conn, monthly_nov)
        assert store.staging_layout(conn, monthly_nov, existing) == planned == declared
        assert len(planned) == 6 + len(monthly_nov.questions) and planned[0] == ("_id", "INTEGER", True, True)
    narrow = Store(f"sqlite:///{tmp_path / 'n.sqlite'}")
    with narrow.begin() as conn:
        Table(name, MetaData(), *store_module._fixed_columns(),
              *[Column(q.id, store_module._sql_type(q.type)()) for q in monthly_nov.questions[:-1]]).create(conn)
        existing = narrow.existing_response_table(conn, monthly_nov)
        assert narrow.staging_layout(conn, monthly_nov, existing) is None


@pytest.mark.parametrize("declared_alike", [True, False])
def test_staged_records_are_moved_whole_only_when_declared_as_the_table(tmp_path, monthly_nov, declared_alike):
    """Records are moved whole only from a staging table declared as the responses table (a column of
    another type would keep the staging's storage class): else the values are copied, and converted."""
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    frame = pd.DataFrame({"_row": [2, 3], "_key": ["a", "b"], "_hash": ["0" * 16, "1" * 16],
                          "cost_estimate": [1.5, 2.0]})
    with store.read() as conn:
        layout = store.staging_layout(conn, monthly_nov, None)
        ids = store.next_ids(conn, None, None)
    if not declared_alike:  # the answer kept as text in the staging file
        layout = [(n, "TEXT" if n == "cost_estimate" else t, nn, pk) for n, t, nn, pk in layout]
    staged = StagedRows(tmp_path / "rows.sqlite", store.response_types(monthly_nov), layout, ids)
    staged.add(frame)
    staged.close()
    copies = _copies(store)
    with store.begin(staged=staged.path) as conn:
        wave = store.wave_id(conn, monthly_nov, "2025-11")
        table = store.response_table(conn, monthly_nov)
        load = store.start_load(conn, wave, file_name="x.csv", sha256="0" * 64, size=1, format="csv",
                                encoding="utf-8", user="test")
        assert (wave, load) == ids[1:]
        assert store.insert_staged(conn, table, staged.columns, wave, load, preset=staged.preset) == 2
    assert ("SELECT ?, ?" not in copies[0][0]) == declared_alike
    con = sqlite3.connect(tmp_path / "s.sqlite")
    got = con.execute('SELECT _id, _key, cost_estimate, typeof(cost_estimate) FROM '
                      '"responses_monthly_difficulties" ORDER BY _id').fetchall()
    con.close()
    assert got == [(1, "a", 1.5, "real"), (2, "b", 2.0, "real")]
