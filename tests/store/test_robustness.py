"""A load killed midway changes nothing; two loads at once both succeed; on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from survey.ingest import ingest_file
from survey.store import Store, load_responses
from tests.conftest import postgres_store
from tests.fixtures import make_answers, to_kobo_csv
from tests.ingest.test_ingest import snapshot

ROOT = Path(__file__).resolve().parents[2]
LOAD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from survey.ingest import ingest_file
    from survey.store import Store
    if len(sys.argv) > 4:  # pause inside the write transaction, after the first rows are written
        import time
        def pausing(insert):
            def paused(self, conn, table, *args, **kwargs):
                insert(self, conn, table, *args, **kwargs)
                print("writing", flush=True)
                time.sleep(float(sys.argv[4]))
            return paused
        # rows pass one way or the other: staged then copied (SQLite), or inserted (PostgreSQL)
        Store.insert_responses = pausing(Store.insert_responses)
        Store.insert_staged = pausing(Store.insert_staged)
    result = ingest_file(sys.argv[1], "monthly_difficulties", sys.argv[2], store=Store(sys.argv[3]), chunksize=200)
    print(result.rows_read, result.accepted, result.quarantined, result.already_present)
""").format(root=str(ROOT))


def _loader(path: Path, period: str, url: str, pause: float | None = None) -> subprocess.Popen:
    extra = [] if pause is None else [str(pause)]
    return subprocess.Popen([sys.executable, "-c", LOAD, str(path), period, url, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_while_writing(child: subprocess.Popen) -> None:
    """Wait until the child has written rows inside its transaction, then SIGKILL it."""
    line = child.stdout.readline()
    assert line.strip() == "writing", child.stderr.read()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def big_file(tmp_path_factory, monthly) -> Path:
    folder = tmp_path_factory.mktemp("big")
    answers = make_answers(monthly, 12_000, seed=31)
    return to_kobo_csv(answers, monthly, folder / "big.csv", uuids=[f"big-{i}" for i in range(12_000)])


def test_sigkill_midway_leaves_sqlite_unchanged_and_the_load_can_be_redone(tmp_path, monthly, big_file):
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    small = to_kobo_csv(make_answers(monthly, 20, seed=1), monthly, tmp_path / "small.csv")
    ingest_file(small, monthly, "2025-10", store=Store(url))
    before = snapshot(Store(url))
    # a wave before July 2025, whose district codes the generated answers use: the child's rows are
    # accepted, so it is killed while writing responses (not only quarantined rows)
    _kill_while_writing(_loader(big_file, "2025-06", url, pause=60))
    store = Store(url)  # opening the store rolls the interrupted transaction back
    assert snapshot(store) == before
    result = ingest_file(big_file, monthly, "2025-06", store=store)
    assert (result.rows_read, result.accepted) == (12_000, 12_000)
    assert len(load_responses(monthly, "2025-06", "2025-06", store=store)) == 12_000


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_loads_at_once_both_succeed(tmp_path, monthly, backend, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        store = Store(url)
    else:
        gen = postgres_store(request.node.name)
        store = next(gen)
        request.addfinalizer(lambda: next(gen, None))
        url = store.url
    a = to_kobo_csv(make_answers(monthly, 3000, seed=41), monthly, tmp_path / "a.csv",
                    uuids=[f"a-{i}" for i in range(3000)])
    b = to_kobo_csv(make_answers(monthly, 3000, seed=42), monthly, tmp_path / "b.csv",
                    uuids=[f"b-{i}" for i in range(3000)])
    first, second = _loader(a, "2025-06", url), _loader(b, "2025-06", url)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert [o[0].split() for o in outputs] == [["3000", "3000", "0", "0"]] * 2
    stored = load_responses(monthly, "2025-06", "2025-06", store=store)
    assert len(stored) == 6000 and stored["response_key"].is_unique
    assert len(store.list_loads()) == 2


def test_sigkill_midway_leaves_postgresql_unchanged(tmp_path, monthly, big_file, request):
    gen = postgres_store(request.node.name)
    store = next(gen)
    request.addfinalizer(lambda: next(gen, None))
    ingest_file(to_kobo_csv(make_answers(monthly, 20, seed=1), monthly, tmp_path / "small.csv"), monthly, "2025-10",
                store=store)
    before = snapshot(store)
    _kill_while_writing(_loader(big_file, "2025-06", store.url, pause=60))
    deadline = time.time() + 30  # the server notices the lost client and rolls its transaction back
    while snapshot(store) != before and time.time() < deadline:
        time.sleep(0.5)
    assert snapshot(store) == before
    result = ingest_file(big_file, monthly, "2025-06", store=store)
    assert result.accepted == 12_000


def test_a_full_disk_stops_the_load_with_what_to_do_and_changes_nothing(tmp_path, monthly, capsys, monkeypatch):
    """SQLite's "database or disk is full" (here: the store's size limit reached mid-load) is told as a
    full disk, in Vietnamese, not as a bug of the program; nothing is stored."""
    import sqlite3

    from sqlalchemy import event

    from survey.cli import main
    from survey.errors import StoreError

    db = tmp_path / "s.sqlite"
    url = f"sqlite:///{db}"
    store = Store(url)
    ingest_file(to_kobo_csv(make_answers(monthly, 5, seed=1), monthly, tmp_path / "a.csv"), monthly, "2025-11",
                store=store)
    before = snapshot(store)
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    store.dispose()  # new connections from here may grow the file by a few pages only
    event.listen(store.engine, "connect", lambda con, _r: con.execute(f"PRAGMA max_page_count = {pages + 8}"))
    big = to_kobo_csv(make_answers(monthly, 3000, seed=2), monthly, tmp_path / "b.csv")
    with pytest.raises(StoreError) as caught:
        ingest_file(big, monthly, "2025-11", store=store)
    assert caught.value.code == "store.disk_full" and caught.value.params["location"] == str(db)
    assert snapshot(store) == before
    store.dispose()

    # the same from the command line, as staff see it (the command's store given the same limit)
    real = Store.__init__

    def limited(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self.engine.dispose()
        event.listen(self.engine, "connect", lambda con, _r: con.execute(f"PRAGMA max_page_count = {pages + 8}"))
    monkeypatch.setattr(Store, "__init__", limited)
    status = main(["ingest", str(big), "--survey", "monthly_difficulties", "--period", "2025-11", "--db", url])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert status == 1 and "ổ đĩa chứa kho dữ liệu" in err and "đã đầy" in err and "lỗi nội bộ" not in err
    assert snapshot(Store(url)) == before


def test_postgresql_s_disk_full_is_told_the_same_way():
    """PostgreSQL says a full disk by its SQLSTATE (53100, disk_full); other errors are not a full disk."""
    from sqlalchemy.exc import OperationalError

    from survey.store.store import _disk_full

    class Full(Exception):
        sqlstate = "53100"

    class Conflict(Exception):
        sqlstate = "40001"
    assert _disk_full(OperationalError("COMMIT", None, Full()))
    assert not _disk_full(OperationalError("COMMIT", None, Conflict()))
