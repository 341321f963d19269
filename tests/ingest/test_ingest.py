"""Loading files into the store: exact round trips, idempotence, nothing lost, failed loads change nothing."""
from __future__ import annotations


import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from survey.errors import IngestError
from survey.ingest import ingest_file
from survey.store import Store, load_responses
from tests.fixtures import make_answers, to_kobo_csv, to_label_csv, to_sav, to_xlsx

WRITERS = {
    "kobo": (to_kobo_csv, ".csv"),
    "label_cp1258": (lambda a, q, p: to_label_csv(a, q, p, encoding="cp1258"), ".csv"),
    "label_en_utf16": (lambda a, q, p: to_label_csv(a, q, p, lang="en", encoding="utf-16", sep="\t"), ".csv"),
    "sav": (to_sav, ".sav"),
    "xlsx": (to_xlsx, ".xlsx"),
}


@pytest.fixture
def store(any_store):
    """A fresh store on SQLite and, with a server, on PostgreSQL (``any_store`` of conftest.py)."""
    return any_store


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, to compare a store before and after."""
    with store.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {n: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{n}"')).all()), key=repr) for n in names}


def _same(stored: pd.DataFrame, expected: pd.DataFrame, qn) -> None:
    for q in qn.questions:
        got, exp = stored[q.id].reset_index(drop=True), expected[q.id].reset_index(drop=True)
        if q.type == "date":
            got, exp = pd.to_datetime(got), pd.to_datetime(exp)
        as_text = lambda s: s.astype(str).where(s.notna(), "<NA>").tolist()  # noqa: E731
        assert as_text(got) == as_text(exp), q.id


@pytest.mark.parametrize("fmt", list(WRITERS))
@pytest.mark.parametrize("qid", ["monthly_difficulties", "pgi_feedback"])
def test_every_format_round_trips_exactly(tmp_path, store, fmt, qid, request):
    qn = request.getfixturevalue("monthly" if qid == "monthly_difficulties" else "pgi")
    answers = make_answers(qn, 120, seed=7)
    writer, ext = WRITERS[fmt]
    path = writer(answers, qn, tmp_path / f"export{ext}")
    result = ingest_file(path, qn, "2025-11", store=store)
    assert (result.rows_read, result.accepted, result.quarantined, result.already_present) == (120, 120, 0, 0)
    assert result.problems.empty
    _same(load_responses(qn, store=store), answers, qn)


def test_reload_adds_nothing_and_is_logged(tmp_path, store, monthly):
    path = to_kobo_csv(make_answers(monthly, 50, seed=1), monthly, tmp_path / "k.csv")
    first = ingest_file(path, monthly, "2025-11", store=store)
    before = snapshot(store)
    again = ingest_file(path, monthly, "2025-11", store=store)
    assert (again.rows_read, again.accepted, again.quarantined, again.already_present) == (50, 0, 0, 50)
    after = snapshot(store)
    assert after["responses_monthly_difficulties"] == before["responses_monthly_difficulties"]
    assert len(after["loads"]) == 2 and len(after["raw_files"]) == 1  # the file's bytes are kept once
    log = store.list_loads()
    assert log["load"].tolist() == [again.load_id, first.load_id]
    assert log["already_present"].tolist() == [50, 0] and log["accepted"].tolist() == [0, 50]


def test_overlapping_file(tmp_path, store, monthly):
    answers = make_answers(monthly, 60, seed=2)
    uuids = [f"u{i}" for i in range(60)]
    to_kobo_csv(answers.iloc[:40], monthly, tmp_path / "a.csv", uuids=uuids[:40])
    to_kobo_csv(answers.iloc[20:], monthly, tmp_path / "b.csv", uuids=uuids[20:])
    ingest_file(tmp_path / "a.csv", monthly, "2025-11", store=store)
    second = ingest_file(tmp_path / "b.csv", monthly, "2025-11", store=store)
    assert (second.rows_read, second.accepted, second.already_present) == (40, 20, 20)
    assert load_responses(monthly, store=store)["response_key"].tolist() == uuids


def test_same_id_with_other_answers_is_quarantined_not_overwritten(tmp_path, store, monthly):
    answers = make_answers(monthly, 5, seed=3)
    to_kobo_csv(answers, monthly, tmp_path / "a.csv")
    changed = answers.copy()
    changed.loc[2, "sector"] = 1.0 if changed.loc[2, "sector"] != 1.0 else 2.0
    to_kobo_csv(changed, monthly, tmp_path / "b.csv")
    first = ingest_file(tmp_path / "a.csv", monthly, "2025-11", store=store)
    second = ingest_file(tmp_path / "b.csv", monthly, "2025-11", store=store)
    assert (second.accepted, second.quarantined, second.already_present) == (0, 1, 4)
    [problem] = second.problems.to_dict("records")
    assert problem["reason"] == "conflict_stored" and problem["row"] == 4 and problem["value"] == "uuid-00002"
    assert f"load #{first.load_id}" in second.messages("en")[0]
    assert load_responses(monthly, store=store)["sector"].tolist() == answers["sector"].tolist()


def test_duplicate_uuid_in_file(tmp_path, store, monthly):
    answers = make_answers(monthly, 4, seed=4)
    to_kobo_csv(answers, monthly, tmp_path / "d.csv", uuids=["a", "b", "a", "c"])
    result = ingest_file(tmp_path / "d.csv", monthly, "2025-11", store=store)
    assert (result.accepted, result.quarantined) == (3, 1)
    q = store.read_quarantine(result.load_id)
    assert q["row_number"].tolist() == [4] and q["reasons"][0][0]["reason"] == "duplicate_in_file"
    assert q["reasons"][0][0]["params"]["first_row"] == 2
    assert q["raw"][0]["_uuid"] == "a"  # the raw row is kept as it was


@pytest.mark.parametrize("chunksize", [2, 3, 100])
def test_a_uuid_seen_in_an_earlier_chunk_is_a_duplicate_too(tmp_path, store, monthly, chunksize):
    answers = make_answers(monthly, 7, seed=4)
    to_kobo_csv(answers, monthly, tmp_path / "d.csv", uuids=["a", "b", "c", "a", "b", "d", "d"])
    result = ingest_file(tmp_path / "d.csv", monthly, "2025-11", store=store, chunksize=chunksize)
    assert (result.accepted, result.quarantined) == (4, 3)
    q = store.read_quarantine(result.load_id)
    firsts = {r: reasons[0]["params"]["first_row"] for r, reasons in zip(q["row_number"], q["reasons"])}
    assert firsts == {5: 2, 6: 3, 8: 7}  # each repeat names the first row of its id, in any chunk


def test_quarantine_keeps_raw_row_and_every_reason(tmp_path, store, monthly):
    answers = make_answers(monthly, 3, seed=5).astype({"locality": object, "sector": object})
    answers.loc[1, "locality"] = 99.0
    answers.loc[1, "sector"] = "Nông nghiệp?"
    to_kobo_csv(answers, monthly, tmp_path / "q.csv")
    result = ingest_file(tmp_path / "q.csv", monthly, "2025-11", store=store)
    assert (result.accepted, result.quarantined) == (2, 1)
    record = store.read_quarantine().iloc[0]
    assert record["row_number"] == 3
    assert {(r["question"], r["reason"]) for r in record["reasons"]} == {
        ("locality", "unknown_code"), ("sector", "unknown_label")}
    assert record["raw"]["profile/sector"] == "Nông nghiệp?"


# ----------------------------------------------------------------- a failed load changes nothing

def _fails(store, *args, match: str, **kwargs):
    before = snapshot(store)
    with pytest.raises(IngestError, match=match):
        ingest_file(*args, store=store, **kwargs)
    assert snapshot(store) == before


def test_failures_change_nothing(tmp_path, store, monthly):
    answers = make_answers(monthly, 10, seed=6)
    good = to_kobo_csv(answers, monthly, tmp_path / "good.csv")
    ingest_file(good, monthly, "2025-10", store=store)
    cut = pd.read_csv(good, sep=";", dtype=str).drop(columns=["profile/sector"])
    cut.to_csv(tmp_path / "nosector.csv", sep=";", index=False)
    _fails(store, tmp_path / "nosector.csv", monthly, "2025-11", match="the columns do not fit")
    (tmp_path / "header.csv").write_text(good.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    _fails(store, tmp_path / "header.csv", monthly, "2025-11", match="no data rows")
    (tmp_path / "empty.csv").write_bytes(b"")
    _fails(store, tmp_path / "empty.csv", monthly, "2025-11", match="empty")
    _fails(store, good, monthly, "2025-11", match="already loaded as period 2025-10")
    _fails(store, good, monthly, "2025-13", match="YYYY-MM")
    _fails(store, good, monthly, "2025-11", match="larger than the limit", max_bytes=100)


def test_an_error_midway_rolls_everything_back(tmp_path, store, monthly, monkeypatch):
    answers = make_answers(monthly, 30, seed=8)
    answers.loc[25, "locality"] = 42.0  # so the quarantine write is reached
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    before = snapshot(store)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(Store, "insert_quarantine", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(path, monthly, "2025-11", store=store, chunksize=10)  # responses of chunk 1 already written
    assert snapshot(store) == before
    monkeypatch.undo()
    result = ingest_file(path, monthly, "2025-11", store=store)
    assert (result.accepted, result.quarantined) == (29, 1)


# ----------------------------------------------------------------- nothing is ever lost

rows_strategy = st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["ok", "bad_code", "bad_number", "dup"])),
                         min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, reload_share=st.floats(0, 1))
def test_counts_always_add_up(tmp_path_factory, monthly, rows, reload_share):
    tmp = tmp_path_factory.mktemp("prop")
    store = Store(f"sqlite:///{tmp / 's.sqlite'}")
    pool = make_answers(monthly, 40, seed=9).astype({"locality": object, "year_established": object})
    frame = pool.iloc[[i for i, _ in rows]].reset_index(drop=True)
    uuids = [f"u{i}" for i, _ in rows]
    for j, (_, kind) in enumerate(rows):
        if kind == "bad_code":
            frame.loc[j, "locality"] = 77
        elif kind == "bad_number":
            frame.loc[j, "year_established"] = "hai nghìn"
        elif kind == "dup" and j:
            uuids[j] = uuids[0]
    to_kobo_csv(frame, monthly, tmp / "a.csv", uuids=uuids)
    first = ingest_file(tmp / "a.csv", monthly, "2025-11", store=store, chunksize=7)
    assert first.rows_read == len(rows) == (first.accepted + first.corrected + first.quarantined
                                            + first.already_present)
    k = int(round(reload_share * len(rows)))
    if k:
        to_kobo_csv(frame.iloc[:k], monthly, tmp / "b.csv", uuids=uuids[:k])
        second = ingest_file(tmp / "b.csv", monthly, "2025-11", store=store)
        assert second.rows_read == k == (second.accepted + second.corrected + second.quarantined
                                         + second.already_present)
        assert second.accepted == second.corrected == 0  # everything in b was seen in a
    stored = load_responses(monthly, store=store)
    assert len(stored) == first.accepted + first.corrected and stored["response_key"].is_unique
    store.dispose()


# ----------------------------------------------------------------- reading back

def test_load_responses_by_period_and_with_labels(tmp_path, store, monthly):
    for month, seed in (("2025-10", 1), ("2025-11", 2), ("2025-12", 3)):
        path = to_kobo_csv(make_answers(monthly, 5, seed=seed), monthly, tmp_path / f"{month}.csv",
                           uuids=[f"{month}-{i}" for i in range(5)])
        ingest_file(path, monthly, month, store=store)
    frame = load_responses(monthly, "2025-11", "2025-12", store=store)
    assert frame["period"].tolist() == ["2025-11"] * 5 + ["2025-12"] * 5
    labels = load_responses(monthly, "2025-12", "2025-12", store=store, labels=True, lang="en")
    codes = load_responses(monthly, "2025-12", "2025-12", store=store)
    assert set(labels["had_difficulty"]) <= {"Yes", "No"}
    row = codes.index[codes["difficulty_types"].notna()][0]
    names = {c.code: c.label.en for c in monthly.choices("difficulty_types")}
    assert labels.loc[row, "difficulty_types"] == "; ".join(names[int(t)] for t in codes.loc[row, "difficulty_types"].split())


def test_a_new_question_widens_the_table(tmp_path, store, qdir):
    from survey.questionnaire import load_questionnaire
    from tests.conftest import edit_text
    old = load_questionnaire("monthly_difficulties", root=qdir)
    ingest_file(to_kobo_csv(make_answers(old, 3, seed=1), old, tmp_path / "a.csv"), old, "2025-10", store=store)
    edit_text(qdir / "monthly_difficulties.yaml", '  - id: contact\n', '''  - id: extra
    label: {vi: "Thêm", en: "Extra"}
    questions:
      - id: employees_trained
        type: integer
        label: {vi: "Số lao động được tập huấn", en: "Employees trained"}
  - id: contact
''')
    new = load_questionnaire("monthly_difficulties", root=qdir)
    answers = make_answers(new, 3, seed=2)
    ingest_file(to_kobo_csv(answers, new, tmp_path / "b.csv", uuids=["x", "y", "z"]), new, "2025-11", store=store)
    frame = load_responses(new, store=store)
    assert frame["employees_trained"].isna().tolist() == [True] * 3 + [False] * 3


def test_raw_file_is_kept_with_unknown_columns(tmp_path, store, monthly):
    import pandas as pd
    path = to_kobo_csv(make_answers(monthly, 4, seed=13), monthly, tmp_path / "k.csv")
    frame = pd.read_csv(path, sep=";", dtype=str)
    frame["ghi_chu_rieng"] = "ghi chú của cán bộ"
    frame.to_csv(path, sep=";", index=False)
    result = ingest_file(path, monthly, "2025-11", store=store)
    assert result.unknown_columns == ["ghi_chu_rieng"]
    assert store.read_raw_file(result.sha256) == path.read_bytes()
    from survey.errors import StoreError
    with pytest.raises(StoreError, match="no loaded file"):
        store.read_raw_file("0" * 64)


def test_same_answers_under_another_id_are_stored_but_flagged(tmp_path, store, monthly):
    from survey.ingest import console_summary
    answers = make_answers(monthly, 6, seed=14)
    ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11", store=store)
    result = ingest_file(to_sav(answers.iloc[:2], monthly, tmp_path / "s.sav"), monthly, "2025-11", store=store)
    assert result.accepted == 2  # no id in the .sav: not provably the same responses
    assert [(r, stored) for r, _, stored in result.same_as_stored] == [(1, "uuid-00000"), (2, "uuid-00001")]
    assert "2 rows (1, 2) have exactly the answers of responses already stored" in console_summary(result, "en")


def test_twins_are_looked_up_only_in_a_wave_keyed_the_other_way(tmp_path, store, monthly, monkeypatch):
    """Rows with ids can only have twins among content-keyed responses, rows without among responses with
    ids: a wave holding none of the other kind is not searched chunk by chunk, and one that does is, both
    ways (a file with ids whose answers are those of rows stored without)."""
    from survey.store import Store

    calls = []
    real = Store.same_answers
    monkeypatch.setattr(Store, "same_answers", lambda self, *a, **k: calls.append(k["keyed"]) or real(self, *a, **k))
    answers = make_answers(monthly, 8, seed=15)
    ingest_file(to_kobo_csv(answers.iloc[:4], monthly, tmp_path / "a.csv"), monthly, "2025-11", store=store,
                chunksize=2)
    more = ingest_file(to_kobo_csv(answers.iloc[4:], monthly, tmp_path / "b.csv", uuids=["b1", "b2", "b3", "b4"]),
                       monthly, "2025-11", store=store, chunksize=2)
    assert more.accepted == 4 and calls == []  # only responses with ids stored: nothing to search
    keyless = ingest_file(to_sav(answers.iloc[6:8], monthly, tmp_path / "s.sav"), monthly, "2025-11", store=store)
    assert calls == [False]
    assert [(r, stored) for r, _, stored in keyless.same_as_stored] == [(1, "b3"), (2, "b4")]
    # ids again, with the answers of the two rows stored without: found under their content keys
    again = ingest_file(to_kobo_csv(answers.iloc[6:8], monthly, tmp_path / "c.csv", uuids=["c1", "c2"]),
                        monthly, "2025-11", store=store)
    assert calls == [False, True]
    assert [(r, key) for r, key, _ in again.same_as_stored] == [(2, "c1"), (3, "c2")]
    assert all(stored.startswith("h:") for _, _, stored in again.same_as_stored)
