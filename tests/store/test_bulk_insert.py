"""Responses go in through each driver's bulk path (SQLite: one prepared executemany per chunk;
PostgreSQL: COPY) and come back exactly as given (issue 18)."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from survey.questionnaire import load_questionnaire

#: texts COPY's text format must escape (tab, newline, backslash, its own NULL marker), and Vietnamese
TEXTS = ["a\tb", "dòng 1\ndòng 2", "C:\\thư mục\\", "\\N", "Khó khăn về thủ tục môi trường", None]
NUMBERS = [1.5, float("nan"), 0.0, 1e9, -2.25, 0.1]  # 0.1: not a float32
DATES = [dt.date(2025, 11, 30), None, dt.date(2024, 2, 29), dt.date(2025, 1, 1), None, dt.date(2025, 7, 1)]


def _insert(store, qn, frame_of, period: str = "2025-11") -> None:
    """One load of the wave ``period`` holding ``frame_of(wave id, load id)``, written as ingest writes."""
    with store.begin() as conn:
        wave = store.wave_id(conn, qn, period)
        table = store.response_table(conn, qn)
        load = store.start_load(conn, wave, file_name=f"{period}.csv", sha256="0" * 64, size=1, format="csv",
                                encoding="utf-8", user="test")
        store.insert_responses(conn, table, frame_of(wave, load))


def test_responses_round_trip_through_the_bulk_path(any_store, monkeypatch):
    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    copied = []
    if any_store.engine.dialect.name == "postgresql":  # the rows must go through COPY, not INSERTs
        import psycopg

        copy = psycopg.Cursor.copy
        monkeypatch.setattr(psycopg.Cursor, "copy", lambda self, sql, *a, **k: copied.append(sql) or
                            copy(self, sql, *a, **k))
    n = len(TEXTS)
    _insert(any_store, qn, lambda wave, load: pd.DataFrame({
        "_wave_id": wave, "_load_id": load, "_row": range(2, n + 2), "_key": [f"k{i}" for i in range(n)],
        "_hash": [f"{i:016x}" for i in range(n)], "description": pd.Series(TEXTS, dtype=object),
        "cost_estimate": NUMBERS, "reported_date": pd.Series(DATES, dtype=object)}))
    back = any_store.read_responses(qn).set_index("response_key").loc[[f"k{i}" for i in range(n)]]
    assert [None if v is None or v != v else v for v in back["description"]] == TEXTS
    got = back["cost_estimate"].astype(float).tolist()
    assert [math.isnan(g) if math.isnan(e) else g == e for g, e in zip(got, NUMBERS)] == [True] * n
    dates = [None if pd.isna(d) else pd.Timestamp(d).date() for d in back["reported_date"]]
    assert dates == DATES
    if any_store.engine.dialect.name == "postgresql":
        assert len(copied) == 1 and copied[0].startswith('COPY "')


def test_responses_come_back_by_period_then_as_stored(any_store, monkeypatch):
    """Read in one pass in stored order, then put in period order: a wave loaded later but of an earlier
    month comes first, each wave's rows as they were stored; a period range keeps only its waves."""
    qn_nov = load_questionnaire("monthly_difficulties", period="2025-11")

    def load(period: str, keys: list[str], costs: list[float]) -> None:
        _insert(any_store, qn_nov, lambda wave, lid: pd.DataFrame({
            "_wave_id": wave, "_load_id": lid, "_row": range(2, len(keys) + 2), "_key": keys,
            "_hash": [f"{i:016x}" for i in range(len(keys))], "cost_estimate": costs}), period)

    load("2025-12", ["d2", "d1", "d3"], [12.0, 11.0, 13.0])
    load("2025-10", ["o2", "o1"], [2.0, 1.0])
    load("2025-12", ["d4"], [14.0])
    load("2025-11", ["n1"], [float("nan")])
    named = []
    if any_store.engine.dialect.name == "postgresql":  # streamed by a server-side cursor, not held whole
        import psycopg

        cursor = psycopg.Connection.cursor
        monkeypatch.setattr(psycopg.Connection, "cursor", lambda self, *a, **k: named.append(k.get("name")) or
                            cursor(self, *a, **k))
    back = any_store.read_responses(qn_nov)
    if any_store.engine.dialect.name == "postgresql":
        assert "pgi_read_batches" in named
    assert back["period"].tolist() == ["2025-10"] * 2 + ["2025-11"] + ["2025-12"] * 4
    assert back["response_key"].tolist() == ["o2", "o1", "n1", "d2", "d1", "d3", "d4"]
    assert back["cost_estimate"].tolist()[:2] == [2.0, 1.0] and math.isnan(back["cost_estimate"][2])
    assert back["cost_estimate"].tolist()[3:] == [12.0, 11.0, 13.0, 14.0]
    ranged = any_store.read_responses(qn_nov, period_from="2025-11", period_to="2025-11")
    assert ranged["response_key"].tolist() == ["n1"] and ranged["period"].tolist() == ["2025-11"]
