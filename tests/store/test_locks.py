"""Issue 19: a long load never blocks a colleague's; reads never wait for a writer.

A load prepares every row without a lock and holds the write lock only to
store; if another load of the same wave committed meanwhile, it looks its
keys up again under the lock.
"""
from __future__ import annotations

import threading
import time

import pytest

import survey.ingest.ingest as ingest_module
from survey.ingest import ingest_file
from survey.store import Store, load_responses
from tests.conftest import postgres_store
from tests.fixtures import make_answers, to_kobo_csv


def _store(backend: str, tmp_path, request) -> Store:
    if backend == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    gen = postgres_store(request.node.name)
    store = next(gen)
    request.addfinalizer(lambda: next(gen, None))
    return store


class _Holder(threading.Thread):
    """Holds the store's write lock for ``seconds``; ``released`` is when it let go."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url, self.seconds = url, seconds
        self.held = threading.Event()
        self.released = None

    def run(self) -> None:
        store = Store(self.url)
        with store.begin():
            self.held.set()
            time.sleep(self.seconds)
            self.released = time.monotonic()
        store.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reading_the_store_never_waits_for_a_writer(tmp_path, monthly, backend, request):
    store = _store(backend, tmp_path, request)
    ingest_file(to_kobo_csv(make_answers(monthly, 10), monthly, tmp_path / "a.csv"), monthly, "2025-11", store=store)
    holder = _Holder(store.url, 4.0)
    holder.start()
    holder.held.wait()
    start = time.monotonic()
    reader = Store(store.url)  # opening an existing store takes no lock
    assert len(reader.list_loads()) == 1
    assert len(load_responses(monthly, "2025-11", "2025-11", store=reader)) == 10
    reader.read_quarantine()
    waited = time.monotonic() - start
    holder.join()
    assert waited < 2.0, f"reads waited {waited:.1f} s for the writer"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_load_prepares_while_another_holds_the_lock_then_succeeds(tmp_path, monthly, backend, request,
                                                                     monkeypatch):
    store = _store(backend, tmp_path, request)
    path = to_kobo_csv(make_answers(monthly, 400, seed=3), monthly, tmp_path / "b.csv")
    coerced: list[float] = []
    real = ingest_module.coerce_answers

    def timed(*args, **kwargs):
        out = real(*args, **kwargs)
        coerced.append(time.monotonic())
        return out
    monkeypatch.setattr(ingest_module, "coerce_answers", timed)
    holder = _Holder(store.url, 4.0)
    holder.start()
    holder.held.wait()
    result = ingest_file(path, monthly, "2025-11", store=store, chunksize=50)
    holder.join()
    assert result.accepted + result.quarantined == 400
    assert len(coerced) == 8 and max(coerced) < holder.released, "rows were prepared only after the lock was free"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_wave_changed_while_preparing_is_looked_up_again_under_the_lock(tmp_path, monthly, backend, request,
                                                                          monkeypatch):
    store = _store(backend, tmp_path, request)
    path = to_kobo_csv(make_answers(monthly, 60, seed=4), monthly, tmp_path / "c.csv")
    real = ingest_module._Load.prepare
    calls = []

    def prepare_then_a_colleague_loads(self, conn, folder, **options):
        state = real(self, conn, folder, **options)
        calls.append(folder.name)
        if len(calls) == 1:  # between this load's two steps, a colleague loads the same file
            monkeypatch.setattr(ingest_module._Load, "prepare", real)
            ingest_file(path, monthly, "2025-11", store=Store(store.url))
            monkeypatch.setattr(ingest_module._Load, "prepare", prepare_then_a_colleague_loads)
        return state
    monkeypatch.setattr(ingest_module._Load, "prepare", prepare_then_a_colleague_loads)
    result = ingest_file(path, monthly, "2025-11", store=store)
    assert calls == ["first", "again"]
    assert (result.accepted, result.quarantined) == (0, 0) and result.already_present == 60
    assert len(load_responses(monthly, "2025-11", "2025-11", store=store)) == 60 - len(
        store.read_quarantine()["response_key"].unique())
