"""The store side of issue 15: stores made before it gain the new columns and table, a removal is one
transaction that keeps the load in the log, and the counts of a wave add up."""
from __future__ import annotations

import sqlite3

import pytest

from survey.errors import StoreError
from survey.ingest import ingest_file
from survey.store import Store, load_responses
from tests.fixtures import make_answers, to_kobo_csv

NEW_COLUMNS = ("corrected", "removed_at", "removed_by", "removed_reason", "replaced_by")


def test_a_store_made_before_gains_what_removal_and_corrections_need(tmp_path, monthly):
    path = tmp_path / "old.sqlite"
    store = Store(f"sqlite:///{path}")
    ingest_file(to_kobo_csv(make_answers(monthly, 5, seed=2), monthly, tmp_path / "k.csv"), monthly, "2025-11",
                store=store)
    store.dispose()
    with sqlite3.connect(path) as conn:  # as the store was before: no corrections, fewer columns in loads
        conn.execute("DROP TABLE corrections")
        for column in NEW_COLUMNS:
            conn.execute(f'ALTER TABLE loads DROP COLUMN "{column}"')
    store = Store(f"sqlite:///{path}")
    log = store.list_loads()
    assert log["corrected"].tolist() == [0] and log["removed_at"].isna().all()
    assert store.load_counts("monthly_difficulties", "2025-11").read == 5
    with store.begin() as conn:
        removed = store.remove_load(conn, 1, user="lan", reason="thử")
    assert (removed["responses"], removed["quarantined"], removed["corrections"]) == (5, 0, 0)
    assert load_responses(monthly, store=store).empty and store.read_corrections().empty


def test_a_removal_that_fails_changes_nothing(tmp_path, monthly):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    loaded = ingest_file(to_kobo_csv(make_answers(monthly, 5, seed=2), monthly, tmp_path / "k.csv"), monthly,
                         "2025-11", store=store)
    with pytest.raises(RuntimeError), store.begin() as conn:
        store.remove_load(conn, loaded.load_id, reason="thử")
        raise RuntimeError("a failure after the removal, inside its transaction")
    assert len(load_responses(monthly, store=store)) == 5
    assert store.list_loads()["removed_at"].isna().all()
    with pytest.raises(StoreError) as err, store.begin() as conn:
        store.remove_load(conn, 42)
    assert err.value.code == "store.no_load"


def test_the_counts_leave_removed_loads_out(tmp_path, monthly):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    answers = make_answers(monthly, 5, seed=2)
    first = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "a.csv"), monthly, "2025-11", store=store)
    with store.begin() as conn:
        store.remove_load(conn, first.load_id)
    ingest_file(to_kobo_csv(answers.head(3), monthly, tmp_path / "b.csv"), monthly, "2025-11", store=store)
    counts = store.load_counts("monthly_difficulties", "2025-11")
    assert (counts.loads, counts.read, counts.accepted, counts.already_present) == (1, 3, 3, 0)
    assert store.load_counts("monthly_difficulties", "2025-10").read == 0
