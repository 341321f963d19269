"""Reading a large file in a process of its own, beside the checks of the chunks already read (issue 18).

``pyreadstat`` (SPSS) and ``openpyxl`` (Excel) hold the interpreter lock while they read: in a thread
they only took turns with the coercion, validation and staging of the chunks before, so a 100,000 x 300
``.sav`` took its read time *plus* its check time. In a child process the two run on two cores.

The child is a fork of this process (:func:`fork_call`: it has Python, pandas and the reader already,
and starts in milliseconds; a new interpreter took ~0.45 s to import them), not :mod:`multiprocessing`,
whose "spawn" start re-imports the caller's main script (a user's script without an ``if __name__``
guard would load itself again). Where the system will not fork, it is a plain
``python -m survey.ingest.read_worker``, which receives ``("chunks", FileInfo, options)`` pickled on
stdin. Either way it runs :func:`~survey.ingest.readers.iter_chunks` and writes each ``(frame, meta)``
pickled, with its length, to a pipe of its own (never stdout, which a library might print to). An
error of the reader is pickled too and raised in the caller, as it would have been in-process. The pipe
holds one message at a time, so the child reads at most a chunk ahead, as
:func:`~survey.ingest.readers.prefetch` did.

The same child scans a large CSV (``("scan", FileInfo, {"max_rows": n})``, :class:`ScanBeside`) while
the caller reads its rows with Arrow.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

if TYPE_CHECKING:
    from .readers import FileInfo

__all__ = ["read_in_process", "ScanBeside"]

_LENGTH = struct.Struct("<Q")
#: the length that ends a message (after its pickle and buffers)
_END = 2**64 - 1


def read_in_process(info: FileInfo, options: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """:func:`~survey.ingest.readers.iter_chunks` ``(info, **options)`` run in a child process.

    Yields what it yields; raises what it raises (a :class:`~survey.errors.SurveyError` as raised in
    the child). Closing the iterator early stops the child.

    Raises
    ------
    IngestError
        ``ingest.reader_failed`` when the child stops without a word (killed, out of memory).
    """
    child, source = _start("chunks", info, options)
    try:
        while True:
            kind, value = _receive(source, info, child)
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
            else:
                break
    finally:
        _stop(child, source)


class ScanBeside:
    """The scan of a CSV (:func:`~survey.ingest.readers.scan_csv`: every record counted and lined up with
    the header, long and NUL cells noted) run in a child process while this one reads and checks the
    rows: the scan is Python's csv module holding the interpreter lock, so in a thread it only took
    turns with the checks, and before the reading it delayed the first row by its whole length (issue 18).

    :meth:`result` waits for it: ``(RawMeta, longest record)``, or raises the scan's error (the one a
    scan run first would have raised). :meth:`close` stops it when the reading ends early.
    """

    def __init__(self, info: FileInfo, max_rows: int) -> None:
        self.info = info
        self._child, self._source = _start("scan", info, {"max_rows": max_rows})
        self._outcome: tuple[str, Any] | None = None

    def result(self) -> Any:
        if self._outcome is None:
            self._outcome = _receive(self._source, self.info, self._child)
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        _stop(self._child, self._source)


def _start(task: str, info: FileInfo, options: dict[str, Any]) -> tuple[subprocess.Popen | Forked, BinaryIO]:
    """A child running ``task`` ("chunks" or "scan") on ``info``, and the pipe its messages come through.

    The child is a fork of this process where it can be (it has Python, pandas and the readers already:
    it starts in milliseconds, not the 0.1-0.45 s of a new interpreter importing them, issue 18), else a
    new interpreter (``python -m survey.ingest.read_worker``)."""
    read_fd, write_fd = os.pipe()
    try:
        child = fork_call(lambda: _serve(write_fd, task, info, options), keep=write_fd) if FORK else None
        if child is None:
            child = _spawn(write_fd, task, info, options)
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return child, os.fdopen(read_fd, "rb", buffering=1 << 20)


def _spawn(write_fd: int, task: str, info: FileInfo, options: dict[str, Any]) -> subprocess.Popen:
    """The child as a new interpreter, told what to do on its stdin."""
    # it imports from where this process does (a checkout, a test run's path, an installed package)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child = subprocess.Popen([sys.executable, "-m", "survey.ingest.read_worker", str(write_fd)],
                             stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env)
    try:
        child.stdin.write(pickle.dumps((task, info, options), protocol=pickle.HIGHEST_PROTOCOL))
        child.stdin.close()
    except BaseException:
        child.kill()
        child.wait()
        raise
    return child


def forks_on(platform: str) -> bool:
    """Whether children are forks of the loading process on ``platform`` (``sys.platform``): on Linux
    only. macOS has fork too, but its system libraries are not safe in a child forked without exec (Python's
    multiprocessing no longer forks there either): a new interpreter, as on Windows."""
    return platform.startswith("linux") and hasattr(os, "fork") and hasattr(os, "waitstatus_to_exitcode")


#: whether children are forks of this process (Linux); set False to start a new interpreter instead
FORK = forks_on(sys.platform)


class Forked:
    """A child made by :func:`fork_call`, with the part of :class:`subprocess.Popen` this package uses:
    ``pid``, ``returncode`` (negative: the signal that ended it), :meth:`poll`, :meth:`wait`, :meth:`kill`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): ended, how is not known
                self.returncode = 0  # as subprocess.Popen says then
                return self.returncode
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """The exit code once the child has ended; :class:`subprocess.TimeoutExpired` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
            _until_ended(self.pid, deadline)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


#: one fork at a time (see :func:`fork_call`)
_FORKING = threading.Lock()


def fork_call(work: Callable[[], None], keep: int | None = None) -> Forked | None:
    """Run ``work()`` in a fork of this process: the child, or None when the system would not fork (no
    memory for it). The child keeps only stdin, stdout, stderr and descriptor ``keep`` (a pipe of another
    load's child, inherited, would hide that child's end), restores the default SIGINT and SIGTERM (a
    server's handlers would keep it alive), makes no core file nor Python traceback when it crashes (a
    crash is an answer, see :func:`survey.ingest.readers.sav_crashed`), and leaves by ``os._exit``: exit
    code 0 when ``work`` returned, 1 when it raised; no atexit handler, no buffer of the parent's flushed,
    none of the parent's objects collected or finalized (they stay alive: the child never returns).
    """
    import gc
    import warnings

    parent = os.getpid()
    # the child never collects the parent's objects: a cycle of garbage holding a database connection,
    # finalized there, would close or roll back the parent's connection from the child. (One fork at a
    # time: another thread's unfreeze must not fall between this freeze and this fork.)
    _FORKING.acquire()
    gc.freeze()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of a fork in a process with threads: a lock another thread holds stays held
            # in the child. The child does only ``work`` (reading a file) and leaves by os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:
                return None
    finally:
        if os.getpid() == parent:
            gc.unfreeze()
            _FORKING.release()
    if pid:
        return Forked(pid)
    code = 1
    try:
        _as_child(keep)
        work()
        code = 0
    finally:
        os._exit(code)


def _as_child(keep: int | None) -> None:
    import faulthandler
    import resource

    if keep is None:
        os.closerange(3, 1 << 16)
    else:
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 16)
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(number, signal.SIG_DFL)
        except ValueError:  # not the main thread (cannot happen after a fork; kept as a guard)
            pass
    faulthandler.disable()
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


def _until_ended(pid: int, deadline: float | None) -> None:
    """Wait until child ``pid`` has ended or ``deadline`` (``time.monotonic``) has passed: woken the moment
    it ends (a Linux process descriptor), else after at most 20 ms."""
    left = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+: look again shortly
        time.sleep(0.02 if left is None else min(left, 0.02))
        return
    try:
        select.select([handle], [], [], left)
    finally:
        os.close(handle)


def _stop(child: subprocess.Popen | Forked, source: BinaryIO) -> None:
    """Close the pipe and end the child: killed if it is still at work (the reading stopped early)."""
    source.close()
    if child.poll() is None:
        child.kill()
    child.wait()


def _receive(source: BinaryIO, info: FileInfo, child: subprocess.Popen | Forked) -> tuple[str, Any]:
    """One message: its pickle, then the out-of-band buffers (the columns' data), each after its length."""
    parts: list[bytearray] = []
    while True:
        head = source.read(_LENGTH.size)
        length = _LENGTH.unpack(head)[0] if len(head) == _LENGTH.size else None
        if length is None or length == _END:
            break
        part = bytearray(length)  # read straight into the memory the arrays will use (no second copy)
        if source.readinto(part) != length:
            length = None
            break
        parts.append(part)
    if length is None or not parts:  # the pipe closed before a whole message: the child died
        from ..errors import IngestError
        from .readers import sav_crashed

        if info.format == "sav" and _crashed(child):  # ReadStat (C) crashed, as on some damaged dictionaries
            raise sav_crashed(info)
        raise IngestError("the file's reader stopped before the end (out of memory, or stopped from outside); "
                          "nothing was saved", file=str(info.path),
                          hint="load the file again; if this repeats, free memory or split the file",
                          code="ingest.reader_failed", params={"file": info.name})
    return pickle.loads(parts[0], buffers=parts[1:])


def _crashed(child: subprocess.Popen | Forked) -> bool:
    """Whether ``child`` ended by crashing (SIGSEGV, SIGBUS, SIGABRT...), not killed from outside or by the
    system for memory (SIGKILL, SIGTERM, SIGINT), nor still running."""
    try:
        code = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return code < 0 and -code not in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


def _send(out: BinaryIO, message: tuple[str, Any]) -> None:
    """``message`` pickled with its large buffers out of band (protocol 5): the arrays' bytes go to the
    pipe as they are, instead of copied into the pickle and out of it again."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    for part in [data, *(b.raw() for b in buffers)]:
        out.write(_LENGTH.pack(len(part)))  # raw(): a flat memoryview of bytes, so len() is its size
        out.write(part)
    out.write(_LENGTH.pack(_END))
    out.flush()


def main(fd: int) -> None:
    """The child as a new interpreter: do what stdin asks (see :func:`_serve`)."""
    task, info, options = pickle.load(sys.stdin.buffer)
    _serve(fd, task, info, options)


def _serve(fd: int, task: str, info: FileInfo, options: dict[str, Any]) -> None:
    """The child: read every chunk of a file, or scan a CSV; send each chunk or the scan's result to
    descriptor ``fd``, then ``done`` (or the error)."""
    from . import readers

    readers.SAV_PROBE = False  # this process is the probe: if ReadStat crashes, the caller says "damaged"
    with os.fdopen(fd, "wb", buffering=1 << 20) as out:
        try:
            if task == "scan":
                _send(out, ("scan", readers.scan_csv(info, options["max_rows"])))
            else:
                for item in readers.iter_chunks(info, **options):
                    _send(out, ("chunk", item))
        except Exception as exc:  # noqa: BLE001 - every reader error goes to the caller, raised there
            try:
                _send(out, ("error", exc))
            except Exception:  # noqa: BLE001 - an error that does not pickle: its words
                _send(out, ("error", RuntimeError(f"{exc.__class__.__name__}: {exc}")))
            return
        _send(out, ("done", None))


if __name__ == "__main__":
    main(int(sys.argv[1]))
