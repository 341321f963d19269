"""Reading a large file in a process of its own, beside the checks of the chunks already read (issue 18).

``pyreadstat`` (SPSS) and ``openpyxl`` (Excel) hold the interpreter lock while they read: in a thread
they only took turns with the coercion, validation and staging of the chunks before, so a 100,000 x 300
``.sav`` took its read time *plus* its check time. In a child process the two run on two cores.

The child is a plain ``python -m survey.ingest.read_worker`` (not :mod:`multiprocessing`, whose
"spawn" start re-imports the caller's main script: a user's script without an ``if __name__`` guard
would load itself again). It receives ``("chunks", FileInfo, options)`` pickled on stdin, runs
:func:`~survey.ingest.readers.iter_chunks` and writes each ``(frame, meta)`` pickled, with its length,
to a pipe of its own (never stdout, which a library might print to). An error of the reader is
pickled too and raised in the caller, as it would have been in-process. The pipe holds one message at a
time, so the child reads at most a chunk ahead, as :func:`~survey.ingest.readers.prefetch` did.

The same child scans a large CSV (``("scan", FileInfo, {"max_rows": n})``, :class:`ScanBeside`) while
the caller reads its rows with Arrow.
"""
from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

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


def _start(task: str, info: FileInfo, options: dict[str, Any]) -> tuple[subprocess.Popen, BinaryIO]:
    """A child running ``task`` ("chunks" or "scan") on ``info``, and the pipe its messages come through."""
    read_fd, write_fd = os.pipe()
    # the child imports from where this process does (a checkout, a test run's path, an installed package)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        child = subprocess.Popen([sys.executable, "-m", "survey.ingest.read_worker", str(write_fd)],
                                 stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env)
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    source = os.fdopen(read_fd, "rb", buffering=1 << 20)
    try:
        child.stdin.write(pickle.dumps((task, info, options), protocol=pickle.HIGHEST_PROTOCOL))
        child.stdin.close()
    except BaseException:
        _stop(child, source)
        raise
    return child, source


def _stop(child: subprocess.Popen, source: BinaryIO) -> None:
    """Close the pipe and end the child: killed if it is still at work (the reading stopped early)."""
    source.close()
    if child.poll() is None:
        child.kill()
    child.wait()


def _receive(source: BinaryIO, info: FileInfo, child: subprocess.Popen) -> tuple[str, Any]:
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


def _crashed(child: subprocess.Popen) -> bool:
    """Whether ``child`` ended by crashing (SIGSEGV, SIGBUS, SIGABRT...), not killed from outside or by the
    system for memory (SIGKILL, SIGTERM, SIGINT), nor still running."""
    import signal

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
    """The child: do what stdin asks (read every chunk of a file, or scan a CSV), send each chunk or the
    scan's result, then ``done`` (or the error)."""
    task, info, options = pickle.load(sys.stdin.buffer)
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
