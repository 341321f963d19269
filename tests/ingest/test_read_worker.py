"""A large .sav or .xlsx is read in a child process beside the checks (issue 18): the same chunks, the
same stored rows and the same errors as reading in a thread, and a child that dies is an error, not a
smaller file."""
from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from survey.errors import IngestError
from survey.ingest import ingest_file, readers
from survey.ingest import read_worker
from survey.ingest.readers import iter_chunks, prepare, read_ahead
from survey.store import Store, load_responses
from tests.fixtures import make_answers, to_sav, to_xlsx
from tests.ingest.test_ingest import snapshot


def _in_process(monkeypatch) -> list:
    """From now on every .sav and .xlsx is read in a child, whatever its size; the list of children started."""
    started = []
    real = read_worker.read_in_process
    monkeypatch.setattr(readers, "PROCESS_READ_BYTES", {"sav": 0, "xlsx": 0})
    monkeypatch.setattr(read_worker, "read_in_process", lambda *a: started.append(a) or real(*a))
    return started


@pytest.fixture
def in_process(monkeypatch):
    return _in_process(monkeypatch)


@pytest.mark.parametrize("write", [to_sav, to_xlsx])
def test_a_child_yields_the_chunks_a_thread_yields(tmp_path, monthly, write, in_process):
    path = write(make_answers(monthly, 130, seed=5), monthly, tmp_path / f"f.{write.__name__[3:]}")
    info = prepare(path)
    expected = list(iter_chunks(info, chunksize=50))
    got = list(read_ahead(info, chunksize=50))
    assert len(in_process) == 1
    assert [len(f) for f, _m in got] == [50, 50, 30]
    for (f, m), (g, n) in zip(expected, got):
        pd.testing.assert_frame_equal(f, g)
        assert (m.columns, m.rows, m.value_labels, m.cell_problems) == (n.columns, n.rows, n.value_labels,
                                                                        n.cell_problems)


def test_a_load_read_in_a_child_stores_what_a_load_read_in_a_thread_stores(tmp_path, monthly, monkeypatch):
    path = to_sav(make_answers(monthly, 240, seed=6), monthly, tmp_path / "f.sav")
    thread = ingest_file(path, monthly, "2025-06", db=f"sqlite:///{tmp_path / 'a.sqlite'}", chunksize=100)
    started = _in_process(monkeypatch)
    child = ingest_file(path, monthly, "2025-06", db=f"sqlite:///{tmp_path / 'b.sqlite'}", chunksize=100)
    assert len(started) == 1
    assert (child.rows_read, child.accepted, child.corrected, child.quarantined) == (
        thread.rows_read, thread.accepted, thread.corrected, thread.quarantined)
    a = load_responses(monthly, db=f"sqlite:///{tmp_path / 'a.sqlite'}")
    b = load_responses(monthly, db=f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert len(a) == 240
    pd.testing.assert_frame_equal(a, b)


def test_a_reader_error_in_the_child_is_raised_as_in_a_thread(tmp_path, monthly, in_process):
    path = to_sav(make_answers(monthly, 60, seed=7), monthly, tmp_path / "t.sav")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IngestError) as thread:
        list(iter_chunks(prepare(path)))
    with pytest.raises(IngestError) as child:
        list(read_ahead(prepare(path)))
    assert len(in_process) == 1
    assert (child.value.code, str(child.value)) == (thread.value.code, str(thread.value))


def test_a_child_that_dies_stops_the_load_and_changes_nothing(tmp_path, monthly, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_file(to_sav(make_answers(monthly, 20, seed=1), monthly, tmp_path / "a.sav"), monthly, "2025-05",
                store=store)
    before = snapshot(store)
    monkeypatch.setattr(readers, "PROCESS_READ_BYTES", {"sav": 0, "xlsx": 0})
    real = read_worker._receive
    received = []

    def receive_then_kill(source, info, child):  # the child is killed (out of memory...) after a chunk
        message = real(source, info, child)
        received.append(message[0])
        if len(received) == 1:
            os.kill(child.pid, signal.SIGKILL)
        return message
    monkeypatch.setattr(read_worker, "_receive", receive_then_kill)
    # many chunks, more than the pipe holds: the child is still writing when it is killed
    path = to_sav(make_answers(monthly, 4000, seed=2), monthly, tmp_path / "b.sav")
    with pytest.raises(IngestError) as caught:
        ingest_file(path, monthly, "2025-06", store=store, chunksize=50)
    assert caught.value.code == "ingest.reader_failed"
    assert snapshot(store) == before


@pytest.mark.parametrize("offset", [553, 749])
def test_a_file_that_crashes_the_reading_child_is_a_damaged_file(tmp_path, monthly, offset, in_process):
    """The flipped dictionary bytes that crash ReadStat (tests/ingest/test_nothing_lost.py) crash the reading
    child, not the load: the load says the file is damaged, as the in-process probe does."""
    data = bytearray(to_sav(make_answers(monthly, 30, seed=5), monthly, tmp_path / "m.sav").read_bytes())
    data[offset] ^= 0xFF
    (tmp_path / "d.sav").write_bytes(bytes(data))
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    with pytest.raises(IngestError, match="damaged") as caught:
        ingest_file(tmp_path / "d.sav", monthly, "2025-06", store=store)
    assert caught.value.code != "ingest.reader_failed"
    assert store.list_loads().empty and len(in_process) == 1


@pytest.mark.parametrize("write", [to_sav, to_xlsx])
def test_a_file_is_read_in_a_child_from_its_format_s_size_on(tmp_path, monthly, write, monkeypatch):
    """Below its format's size a file is read in a thread (the child's start would cost more than it saves);
    from that size on, in a child. The same chunks either way."""
    started = []
    real = read_worker.read_in_process
    monkeypatch.setattr(read_worker, "read_in_process", lambda *a: started.append(a) or real(*a))
    info = prepare(write(make_answers(monthly, 70, seed=8), monthly, tmp_path / f"f.{write.__name__[3:]}"))
    other = "xlsx" if info.format == "sav" else "sav"
    monkeypatch.setattr(readers, "PROCESS_READ_BYTES", {info.format: info.size + 1, other: 0})
    thread = list(read_ahead(info, chunksize=50))
    assert started == []
    monkeypatch.setattr(readers, "PROCESS_READ_BYTES", {info.format: info.size, other: 2**60})
    child = list(read_ahead(info, chunksize=50))
    assert len(started) == 1 and [len(f) for f, _m in child] == [50, 20]
    for (f, _m), (g, _n) in zip(thread, child):
        pd.testing.assert_frame_equal(f, g)


def test_where_a_pipe_cannot_be_handed_to_a_child_a_thread_reads(tmp_path, monthly, monkeypatch):
    """On Windows (no descriptors passed to a child) a .sav is read in a thread, as before: same chunks."""
    import types

    started = _in_process(monkeypatch)
    monkeypatch.setattr(readers, "os", types.SimpleNamespace(name="nt"))
    path = to_sav(make_answers(monthly, 70, seed=8), monthly, tmp_path / "w.sav")
    info = prepare(path)
    got = list(read_ahead(info, chunksize=50))
    assert started == [] and [len(f) for f, _m in got] == [50, 20]
    for (f, _m), (g, _n) in zip(iter_chunks(info, chunksize=50), got):
        pd.testing.assert_frame_equal(f, g)


def test_the_reading_child_is_a_fork_and_a_new_interpreter_reads_alike(tmp_path, monthly, monkeypatch, in_process):
    """A fork starts in milliseconds (a new interpreter importing pandas and the reader took ~0.45 s until
    its first chunk); where the system will not fork, a new interpreter yields the same chunks."""
    import subprocess

    info = prepare(to_sav(make_answers(monthly, 130, seed=5), monthly, tmp_path / "f.sav"))
    spawned = []
    real = subprocess.Popen
    monkeypatch.setattr(read_worker.subprocess, "Popen", lambda *a, **k: spawned.append(a) or real(*a, **k))
    forked = list(read_ahead(info, chunksize=50))
    assert spawned == []
    monkeypatch.setattr(read_worker, "fork_call", lambda *a, **k: None)  # the system refused to fork
    interpreted = list(read_ahead(info, chunksize=50))
    assert len(spawned) == 1 and [len(f) for f, _m in forked] == [50, 50, 30]
    for (f, _m), (g, _n) in zip(forked, interpreted, strict=True):
        pd.testing.assert_frame_equal(f, g)


def test_a_forked_child_keeps_only_its_own_pipe(tmp_path):
    """Another load's pipe, inherited, would keep that pipe open after its own child died: that load would
    wait for an end that never comes. The child keeps stdin, stdout, stderr and the descriptor it is given."""
    import time

    other_read, other_write = os.pipe()  # another load's pipe
    mine_read, mine_write = os.pipe()
    child = read_worker.fork_call(lambda: time.sleep(30), keep=mine_write)
    try:
        deadline = time.monotonic() + 5
        while True:  # the child closes the others first thing: look until it has
            kept = {int(fd) for fd in os.listdir(f"/proc/{child.pid}/fd")}
            if kept == {0, 1, 2, mine_write} or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert kept == {0, 1, 2, mine_write}
    finally:
        child.kill()
        child.wait()
        for fd in (other_read, other_write, mine_read, mine_write):
            os.close(fd)


def test_a_forked_child_ends_on_sigterm_whatever_the_parent_does_with_it():
    """A server that handles SIGTERM (to finish its requests) must not make its reading child survive one."""
    import time

    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        child = read_worker.fork_call(lambda: time.sleep(30))
    finally:
        signal.signal(signal.SIGTERM, before)
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGTERM)
    try:
        assert child.wait(timeout=5) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()


def test_a_forked_child_s_exit_code_says_whether_its_work_raised():
    assert read_worker.fork_call(lambda: None).wait(timeout=10) == 0
    assert read_worker.fork_call(lambda: 1 / 0).wait(timeout=10) == 1


def test_a_forked_child_finalizes_none_of_its_parent_s_garbage(tmp_path):
    """A cycle of garbage not yet collected when the child was forked (say, one holding a database
    connection) must not be finalized in the child: it would close or roll back the parent's connection."""
    import gc

    log = tmp_path / "finalized"

    class Held:
        def __del__(self):
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()}\n")

    gc.disable()
    try:
        cycle = Held()
        cycle.me = cycle
        del cycle  # garbage, not yet collected
        child = read_worker.fork_call(gc.collect)
        assert child.wait(timeout=10) == 0
        assert not log.exists()  # not finalized in the child
        gc.collect()
        assert log.read_text().split() == [str(os.getpid())]  # but here, where it belongs
    finally:
        gc.enable()


def test_a_forked_child_reaped_elsewhere_has_ended():
    """With SIGCHLD ignored (a server may set it so) the system reaps children itself: waiting for one
    must not fail, as subprocess.Popen's does not."""
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        child = read_worker.fork_call(lambda: None)
        assert child.wait(timeout=10) == 0
        child.kill()  # nothing to kill: no error either
    finally:
        signal.signal(signal.SIGCHLD, before)


def test_children_are_forks_on_linux_only():
    """macOS's system libraries are not safe in a child forked without exec: a new interpreter there."""
    assert read_worker.forks_on("linux") and not read_worker.forks_on("darwin")
    assert not read_worker.forks_on("win32") and not read_worker.forks_on("cygwin")
