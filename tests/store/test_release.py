"""A quarantined row corrected and accepted (the web's "fix" button, jobs.accept_quarantined) is stored
as a one-row load and leaves the quarantine in the same transaction; the wave's counts then count it
once, as stored, not once as quarantined and again as read and stored."""
from __future__ import annotations

import pytest

from survey import jobs
from survey.errors import StoreError
from survey.store import Store
from tests.web.helpers import PERIOD, kobo_export, monthly_answers


def _fix(store: Store) -> tuple[int, dict[str, str]]:
    row = store.read_quarantine().iloc[0]
    real = str(int(monthly_answers(20).loc[3, "had_difficulty"]))  # the firm's real answer
    return int(row["id"]), {"difficulties/had_difficulty": real}


def test_an_accepted_quarantined_row_is_counted_once(any_store, tmp_path):
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3, 7)), "monthly_difficulties",
                     PERIOD)
    before = any_store.load_counts("monthly_difficulties", PERIOD)
    assert (before.read, before.accepted, before.quarantined) == (20, 18, 2)
    row_id, values = _fix(any_store)
    outcome = jobs.accept_quarantined(any_store, row_id, values, user="lan")
    assert outcome.used["stored"] and outcome.value.released == 1
    after = any_store.load_counts("monthly_difficulties", PERIOD)
    # 20 rows read, one more stored, one fewer refused: the sum still adds up
    assert (after.loads, after.read, after.accepted, after.quarantined) == (2, 20, 19, 1)
    assert after.read == after.accepted + after.corrected + after.quarantined + after.already_present
    # the web's overview of waves shows the same counts (it adds nothing up itself)
    overview = jobs.wave_counts(any_store).value.iloc[0]
    assert (overview["rows_read"], overview["accepted"], overview["quarantined"]) == (20, 19, 1)
    assert len(any_store.read_quarantine()) == 1 and row_id not in set(any_store.read_quarantine()["id"])
    # the first load's own record is as it was made; removing it takes the release out of the count too
    jobs.remove_load(any_store, 1, reason="sai tệp")
    alone = any_store.load_counts("monthly_difficulties", PERIOD)
    assert (alone.loads, alone.read, alone.accepted, alone.quarantined) == (1, 1, 1, 0)


def test_a_release_that_fails_stores_nothing(any_store, tmp_path, monkeypatch):
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3,)), "monthly_difficulties",
                     PERIOD)
    row_id, values = _fix(any_store)

    def gone(self, conn, quarantine_id, load_id):  # the row was released by a colleague meanwhile
        raise StoreError("gone", code="web.no_quarantined_row", params={"row": quarantine_id})
    monkeypatch.setattr(Store, "release_quarantined", gone)
    with pytest.raises(StoreError):
        jobs.accept_quarantined(any_store, row_id, values)
    counts = any_store.load_counts("monthly_difficulties", PERIOD)
    assert (counts.loads, counts.read, counts.accepted, counts.quarantined) == (1, 20, 19, 1)
    assert len(any_store.list_loads()) == 1 and row_id in set(any_store.read_quarantine()["id"])


def test_removing_the_correction_puts_the_row_back_in_the_quarantine(any_store, tmp_path):
    """A released row is not lost when its correction is removed: it goes back to its own load's
    quarantine, as it was, and the wave's counts are those before the release."""
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3, 7)), "monthly_difficulties",
                     PERIOD)
    quarantined = any_store.read_quarantine().sort_values("id").reset_index(drop=True)
    before = any_store.load_counts("monthly_difficulties", PERIOD)
    row_id, values = _fix(any_store)
    release = jobs.accept_quarantined(any_store, row_id, values, user="lan").value.load_id
    assert len(any_store.read_quarantine()) == 1
    removed = jobs.remove_load(any_store, release, reason="sửa nhầm").value
    assert (removed["responses"], removed["restored"]) == (1, 1)
    back = any_store.read_quarantine().sort_values("id").reset_index(drop=True)
    columns = ["id", "load_id", "wave_id", "row_number", "response_key", "raw_hash", "raw", "reasons"]
    assert back[columns].to_dict("records") == quarantined[columns].to_dict("records")
    after = any_store.load_counts("monthly_difficulties", PERIOD)
    assert (after.read, after.accepted, after.quarantined) == (before.read, before.accepted, before.quarantined)
    # and it can be corrected again
    assert jobs.accept_quarantined(any_store, row_id, values, user="lan").value.released == 1


def test_a_row_whose_own_load_was_removed_does_not_come_back(any_store, tmp_path):
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3,)), "monthly_difficulties",
                     PERIOD)
    row_id, values = _fix(any_store)
    release = jobs.accept_quarantined(any_store, row_id, values, user="lan").value.load_id
    jobs.remove_load(any_store, 1, reason="sai tệp")
    assert jobs.remove_load(any_store, release, reason="sửa nhầm").value["restored"] is None
    assert any_store.read_quarantine().empty


def test_a_row_put_back_whose_number_was_taken_meanwhile_gets_another(any_store, tmp_path):
    """SQLite gives a freed largest row number to the next row: the released row comes back under a new
    number then, beside the row that took its old one."""
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3,)), "monthly_difficulties",
                     PERIOD)
    row_id, values = _fix(any_store)
    raw = any_store.read_quarantine().iloc[0]["raw"]
    release = jobs.accept_quarantined(any_store, row_id, values, user="lan").value.load_id
    jobs.load_export(any_store, kobo_export(tmp_path / "n.csv", n=20, bad_rows=(5,), prefix="other"),
                     "monthly_difficulties", PERIOD)
    taken = set(any_store.read_quarantine()["id"])
    assert len(taken) == 1
    jobs.remove_load(any_store, release, reason="sửa nhầm")
    back = any_store.read_quarantine()
    assert len(back) == 2 and taken < set(back["id"]) and raw in list(back["raw"])


def test_the_command_line_says_the_row_is_back(tmp_path, capsys):
    from survey.cli import main

    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store(db)
    jobs.load_export(store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3,)), "monthly_difficulties", PERIOD)
    row_id, values = _fix(store)
    release = jobs.accept_quarantined(store, row_id, values, user="lan").value.load_id
    capsys.readouterr()
    assert main(["loads", "remove", str(release), "--reason", "sửa nhầm", "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"Đã gỡ lần nạp #{release}" in out
    assert "được đưa trở lại vùng cách ly của lần nạp #1" in out


def test_a_fix_looks_up_its_one_row_not_the_whole_quarantine(any_store, tmp_path, monkeypatch):
    """Fixing a row reads that row (and its wave) only: the quarantine of a large wave and the audit log are
    not read for each fix."""
    jobs.load_export(any_store, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3, 7)), "monthly_difficulties",
                     PERIOD)
    row_id, values = _fix(any_store)
    expected = any_store.read_quarantine().set_index("id").loc[row_id]

    def whole(*_a, **_k):
        raise AssertionError("the whole table was read")
    monkeypatch.setattr(Store, "read_quarantine", whole)
    monkeypatch.setattr(Store, "list_loads", whole)
    row = any_store.quarantined_row(row_id)
    assert (row["raw"], row["reasons"], row["load_id"]) == (expected["raw"], expected["reasons"], 1)
    assert (row["survey"], row["period"]) == ("monthly_difficulties", PERIOD)
    assert any_store.quarantined_row(10_000) is None
    assert jobs.accept_quarantined(any_store, row_id, values, user="lan").used["stored"]
    with pytest.raises(StoreError) as gone:
        jobs.accept_quarantined(any_store, row_id, values, user="lan")
    assert gone.value.code == "web.no_quarantined_row"
