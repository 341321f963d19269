"""The queries a load runs for every batch of rows use an index, so a load is linear in the rows (issue 18).

``Store.same_answers`` looks up stored responses by answer fingerprint among those with a real id.
The partial index ``ix_responses_<id>_hash`` covers exactly those rows (``_key NOT LIKE 'h:%'``);
SQLite uses a partial index only when the query repeats that term as written, so the pattern must be
in the SQL, not bound as a parameter. The statements are the ones the store really sends (caught on the
engine), explained by SQLite itself.
"""
from __future__ import annotations

import pytest

from sqlalchemy import event

from survey.ingest import ingest_file
from survey.store import Store
from tests.fixtures import make_answers, to_kobo_csv


def _plan(store: Store, conn, run) -> tuple[str, list[str]]:
    """The SQL ``run()`` sends on ``conn`` (the last statement) and SQLite's plan of it."""
    sent: list[tuple[str, object]] = []

    def catch(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", catch)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)
    statement, parameters = sent[-1]
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters)).all()
    return statement, [r[-1] for r in rows]


@pytest.fixture
def loaded(tmp_path, monthly) -> Store:
    """A store holding one small wave."""
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_file(to_kobo_csv(make_answers(monthly, 20, seed=3), monthly, tmp_path / "k.csv"), monthly, "2025-11",
                store=store)
    return store


def test_same_answers_uses_the_partial_hash_index(loaded, monthly):
    store = loaded
    with store.begin() as conn:
        table = store.existing_response_table(conn, monthly)
        wave = store.find_wave(conn, monthly.id, "2025-11")
        hashes = [h for (h,) in conn.exec_driver_sql(f'SELECT _hash FROM "{table.name}"').all()]
        statement, plan = _plan(store, conn, lambda: store.same_answers(conn, table, wave, hashes, keyed=False))
        found = store.same_answers(conn, table, wave, hashes, keyed=False)
    assert "NOT LIKE 'h:%'" in statement  # the pattern as the index declares it, not a bound parameter
    assert any(f"USING INDEX ix_{table.name}_hash" in step for step in plan), plan
    assert not any(step.startswith("SCAN") and table.name in step for step in plan), plan
    assert set(found) == set(hashes)  # the index finds every stored response with a real id


def test_the_other_batch_lookups_use_an_index(loaded, monthly):
    """Content-keyed look-ups and stored keys go through the (wave, key) unique index."""
    store = loaded
    with store.begin() as conn:
        table = store.existing_response_table(conn, monthly)
        wave = store.find_wave(conn, monthly.id, "2025-11")
        keys = [k for (k,) in conn.exec_driver_sql(f'SELECT _key FROM "{table.name}"').all()]
        for run in (lambda: store.same_answers(conn, table, wave, ["abc", "def"], keyed=True),
                    lambda: store.stored_keys(conn, table, wave, keys)):
            _, plan = _plan(store, conn, run)
            assert any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan), plan
            assert not any(step.startswith("SCAN") and table.name in step for step in plan), plan


@pytest.mark.parametrize("keyed", [True, False])
def test_the_look_for_responses_keyed_the_other_way_searches_an_index(loaded, monthly, keyed):
    """Once per load: content keys as a range of the key index (rows with ids), responses with ids
    through the partial fingerprint index (rows without); never a scan of the wave."""
    store = loaded
    with store.begin() as conn:
        table = store.existing_response_table(conn, monthly)
        wave = store.find_wave(conn, monthly.id, "2025-11")
        _statement, plan = _plan(store, conn, lambda: store.holds_other_keys(conn, table, wave, keyed))
        assert store.holds_other_keys(conn, table, wave, keyed) is (not keyed)  # the wave: Kobo ids only
    index = f"uq_{table.name}_key" if keyed else f"ix_{table.name}_hash"
    assert any(step.startswith("SEARCH") and index in step for step in plan), plan
    assert not any(step.startswith("SCAN") and table.name in step for step in plan), plan
