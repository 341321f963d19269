"""The probe that reads a .sav's dictionary in a child first (ReadStat can crash a process on a damaged
file): a fork of the loading process where there is one, a new interpreter otherwise (issue 18). Either
way a crash is the "damaged file" error, a dictionary that never ends is stopped, and no child is left."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from survey.errors import IngestError
from survey.ingest import readers
from survey.ingest.readers import prepare
from tests.fixtures import make_answers, to_sav

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the probe forks on POSIX only")


class _Reader:
    """A stand-in for pyreadstat whose dictionary read does ``action`` (in the probe: the child)."""

    def __init__(self, action):
        self.action = action

    def read_sav(self, *args, **kwargs):
        self.action()


@pytest.fixture
def sav(tmp_path, monthly):
    return prepare(to_sav(make_answers(monthly, 20, seed=2), monthly, tmp_path / "m.sav"))


def _children() -> set[int]:
    """Processes whose parent is this one (zombies included: a child not waited for is still listed)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry))
    return found


def test_the_probe_is_a_fork_not_a_new_interpreter(sav, monkeypatch):
    """A new interpreter importing pyreadstat took 0.11 s per load, a third of a 10,000-row load's time."""
    started = []
    real = subprocess.run
    monkeypatch.setattr(readers.subprocess, "run", lambda *a, **k: started.append(a) or real(*a, **k))
    readers._check_sav_survives(sav)
    assert started == []


def test_a_crash_in_the_probe_is_a_damaged_file_and_the_load_goes_on_living(sav, monkeypatch):
    monkeypatch.setattr(readers, "pyreadstat", _Reader(lambda: os.kill(os.getpid(), signal.SIGSEGV)))
    before = _children()
    with pytest.raises(IngestError, match="damaged") as caught:
        readers._check_sav_survives(sav)
    assert caught.value.code == "ingest.sav_damaged" and _children() == before


def test_a_reader_error_in_the_probe_is_left_to_the_reading_that_follows(sav, monkeypatch):
    """The probe only guards against crashes: a file the reader refuses (exit 1, an exception) is refused
    by the reading after it, with that reader's own message."""
    def refuse():
        raise ValueError("not a dictionary")

    monkeypatch.setattr(readers, "pyreadstat", _Reader(refuse))
    readers._check_sav_survives(sav)  # no error: no crash


def test_a_dictionary_that_never_ends_is_stopped_and_its_child_killed(sav, monkeypatch):
    monkeypatch.setattr(readers, "pyreadstat", _Reader(lambda: time.sleep(60)))
    monkeypatch.setattr(readers, "SAV_PROBE_TIMEOUT", 0.3)
    before = _children()
    begin = time.perf_counter()
    with pytest.raises(IngestError, match="did not end"):
        readers._check_sav_survives(sav)
    assert time.perf_counter() - begin < 5 and _children() == before


def test_where_the_system_will_not_fork_a_new_interpreter_probes(sav, tmp_path, monthly, monkeypatch):
    """Out of memory for a fork (or no fork at all): the probe of before, a crash still the damaged file."""
    monkeypatch.setattr(readers, "_probe_forked", lambda info: None)
    started = []
    real = subprocess.run
    monkeypatch.setattr(readers.subprocess, "run", lambda *a, **k: started.append(a) or real(*a, **k))
    readers._check_sav_survives(sav)
    assert len(started) == 1
    data = bytearray(to_sav(make_answers(monthly, 30, seed=5), monthly, tmp_path / "c.sav").read_bytes())
    data[553] ^= 0xFF  # a flipped byte that crashes ReadStat (tests/ingest/test_nothing_lost.py)
    (tmp_path / "d.sav").write_bytes(bytes(data))
    with pytest.raises(IngestError, match="damaged"):
        readers._check_sav_survives(prepare(tmp_path / "d.sav"))
    assert len(started) == 2


def test_a_refused_fork_falls_back(sav, monkeypatch):
    def no_memory():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(readers.os, "fork", no_memory)
    assert readers._probe_forked(sav) is None
