"""A load's look-ups (stored keys, same answers under another key, rows quarantined before) find exactly
what is stored, on SQLite and PostgreSQL, for a chunk of any size, in one statement (issue 18).

The expected answers come from the rows this test wrote, not from the store's own queries.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import event

from survey.questionnaire import load_questionnaire

#: keys a user's export can hold: Vietnamese, quotes and brackets (JSON and SQL must carry them as they are)
ODD_KEYS = ['uuid:"quoted"', "Phiếu số 7", "a'b", "[1, 2]", "\\N", "  spaced  "]
N = 1_300  # more than one batch of the old look-ups (500 placeholders)


def _wave(store):
    """A wave of N responses with real ids (ODD_KEYS among them) and N keyed by their answers, and one
    quarantined row; returns (questionnaire, table, wave id, load id, keys, hashes of both kinds)."""
    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    real = ODD_KEYS + [f"id-{i}" for i in range(N - len(ODD_KEYS))]
    real_hashes = [f"{i:016x}" for i in range(N)]
    content_hashes = [f"{i + 10 * N:016x}" for i in range(N)]
    with store.begin() as conn:
        wave = store.wave_id(conn, qn, "2025-11")
        table = store.response_table(conn, qn)
        load = store.start_load(conn, wave, file_name="a.csv", sha256="0" * 64, size=1, format="csv",
                                encoding="utf-8", user="test")
        store.insert_responses(conn, table, pd.DataFrame({
            "_wave_id": wave, "_load_id": load, "_row": range(2, 2 * N + 2),
            "_key": real + ["h:" + h for h in content_hashes], "_hash": real_hashes + content_hashes}))
        store.insert_quarantine(conn, [{"load_id": load, "wave_id": wave, "row_number": 9, "response_key": "x",
                                        "raw_hash": "q" * 64, "raw": "{}", "reasons": "[]"}])
    return qn, table, wave, load, real, real_hashes, content_hashes


def _statements(store, run):
    sent = []

    def catch(_conn, _cursor, statement, _parameters, _context, _many):
        sent.append(statement)
    event.listen(store.engine, "before_cursor_execute", catch)
    try:
        found = run()
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)
    return found, sent


def test_lookups_find_exactly_what_is_stored(any_store):
    store = any_store
    qn, table, wave, load, real, real_hashes, content_hashes = _wave(store)
    absent = ["id-missing", "h:" + "f" * 16, "Phiếu số 8"]
    asked = real[::-1] + absent + real[:5]  # reversed, with absent keys and repeats
    with store.begin() as conn:
        stored, sent = _statements(store, lambda: store.stored_keys(conn, table, wave, asked))
        assert stored == {k: (h, load) for k, h in zip(real, real_hashes)}
        assert len(sent) == 1  # the whole chunk in one statement
        # stored rows of this load do not count when it is the load being replaced
        assert store.stored_keys(conn, table, wave, asked, exclude_load=load) == {}
        # rows without an id: stored responses WITH an id holding the same answers
        twins, sent = _statements(store, lambda: store.same_answers(
            conn, table, wave, real_hashes[100:] + content_hashes + ["e" * 16], keyed=False))
        assert twins == dict(zip(real_hashes[100:], real[100:])) and len(sent) == 1
        # rows with an id: stored responses keyed by the same answers
        twins = store.same_answers(conn, table, wave, content_hashes[:700] + real_hashes, keyed=True)
        assert twins == {h: "h:" + h for h in content_hashes[:700]}
        assert store.quarantined_hashes(conn, wave, ["q" * 64, "r" * 64]) == {"q" * 64}
        assert store.quarantined_hashes(conn, wave, ["q" * 64], exclude_load=load) == set()
        assert store.stored_keys(conn, table, wave, []) == {}
