"""Where commands write: outputs checked before any work, never over an input, written atomically.

A command calls :func:`check_output` (one file) or :func:`check_output_dir` (several
files in a folder) *before* it loads or computes anything, so a bad name, an input
given as the output, an existing file or a folder that cannot be written is reported
at once, and the store is left untouched.  Writers then go through
:func:`atomic_path`: the file is written under a temporary name in the same folder
and renamed onto the target only when complete, so a failure never leaves a partial
file behind (and never damages the file it was to replace).

>>> target = check_output("out/scores.csv", suffixes=(".csv", ".xlsx"), kind="table")  # doctest: +SKIP
>>> with atomic_path(target) as tmp:                                                  # doctest: +SKIP
...     table.to_csv(tmp, index=False)
"""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .errors import OutputError

__all__ = ["OutputError", "check_output", "check_output_dir", "atomic_path"]

PathLike = str | os.PathLike
#: the kinds of output a message may name (``kind=``); each has its word in the catalogue, ``output.kind.<kind>``
KINDS = ("file", "export", "report", "table")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (through ``..``, symbolic or hard links)."""
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _writable(folder: Path, creating: bool) -> None:
    """Create and remove a temporary entry in ``folder``; permission bits do not stop root, this does."""
    try:
        if creating:
            os.rmdir(tempfile.mkdtemp(prefix=".pgi-check-", dir=folder))
        else:
            fd, name = tempfile.mkstemp(prefix=".pgi-check-", dir=folder)
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        what = "create a folder in" if creating else "write in"
        raise OutputError(f"cannot {what} the folder {folder}: {exc.strerror or exc}",
                          hint="choose a folder you can write to",
                          code="output.folder_not_creatable" if creating else "output.folder_not_writable",
                          params={"folder": str(folder), "reason": exc.strerror or str(exc)}) from None


def _check_folder(folder: Path, target: Path) -> None:
    """``folder`` is a folder that can be written, or can be created under one that can.

    Raises
    ------
    OutputError
        If ``folder`` or one of its parents is a file, or the nearest existing folder
        cannot be written.
    """
    for part in (folder, *folder.parents):
        if part.is_dir():
            _writable(part, creating=part != folder)
            return
        if os.path.lexists(part):
            raise OutputError(f"{part} is a file, not a folder", file=str(target),
                              hint="choose an output in a folder, or move that file away",
                              code="output.parent_is_file", params={"part": str(part)})
    raise OutputError(f"no folder to write in for {target}", file=str(target),  # pragma: no cover
                      code="output.no_folder", params={"target": str(target)})


def _check_name(path: Path) -> None:
    """The system accepts the name (not too long, no access problem on the way to it)."""
    try:
        os.lstat(path)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):  # absent, or under a file: checked later
            raise OutputError(f"cannot use this name: {exc.strerror or exc}", file=str(path),
                              hint="choose a shorter name or another folder", code="output.bad_name",
                              params={"reason": exc.strerror or str(exc)}) from None


def _check_suffix(target: Path, suffixes: Iterable[str], kind: str) -> None:
    """The target's extension is one of ``suffixes`` (any case); the message lists them."""
    allowed = [s.lower() for s in suffixes]
    if target.suffix.lower() not in allowed:
        found = repr(target.suffix) if target.suffix else "a name without one"
        names = " or ".join(allowed)
        raise OutputError(f"a {kind} is {names}, not {found}", file=str(target),
                          hint=f"choose a name ending in {names}",
                          code="output.suffix" if target.suffix else "output.no_suffix",
                          params={"kind": kind, "names": names, "list": ", ".join(allowed), "found": found})


def check_output(path: PathLike, *, inputs: Iterable[PathLike | None] = (), force: bool = False,
                 suffixes: Iterable[str] | None = None, kind: str = "file") -> Path:
    """Check that a file may be written at ``path``, before any work is done.

    Parameters
    ----------
    path : str or path
        Where the output is to be written.
    inputs : iterable of paths, optional
        The command's input files; the output may never be one of them, even with ``force``.
        ``None`` entries are ignored.
    force : bool
        Allow replacing an existing file (``--force``).
    suffixes : iterable of str, optional
        Allowed extensions, such as ``(".csv", ".xlsx")``; any when not given.
    kind : str
        What the output is, one of :data:`KINDS` ("report", "table"...), for messages.

    Returns
    -------
    Path
        The output path.

    Raises
    ------
    OutputError
        If the path is a folder, is one of the inputs, has another extension, already
        exists (without ``force``), lies under a file, or its folder cannot be written.
    """
    target = Path(path).expanduser()
    _check_name(target)
    if target.is_dir():
        raise OutputError(f"the {kind} would replace a folder", file=str(target),
                          hint="give a file name, not a folder", code="output.is_folder", params={"kind": kind})
    for source in inputs:
        if source is not None and _same_file(target, Path(source).expanduser()):
            raise OutputError(f"the {kind} would be written over the input file {source}", file=str(target),
                              hint=f"choose another name for the {kind}; an input is never overwritten",
                              code="output.is_input", params={"kind": kind, "source": str(source)})
    if suffixes is not None:
        _check_suffix(target, suffixes, kind)
    if os.path.lexists(target) and not force:
        raise OutputError(f"the {kind} already exists", file=str(target),
                          hint="use --force to replace it, or choose another name", code="output.exists",
                          params={"kind": kind})
    _check_folder(target.parent, target)
    return target


def check_output_dir(folder: PathLike, names: Iterable[str], *, force: bool = False,
                     inputs: Iterable[PathLike | None] = ()) -> list[Path]:
    """Check that the files ``names`` may be written in ``folder``, before any work is done.

    Parameters
    ----------
    folder : str or path
        The output folder (``--out``); created when writing if it does not exist.
    names : iterable of str
        The file names the command writes there.
    force : bool
        Allow replacing existing files (``--force``).
    inputs : iterable of paths, optional
        The command's input files, never to be overwritten.

    Returns
    -------
    list of Path
        The output paths, in the order of ``names``.

    Raises
    ------
    OutputError
        If ``folder`` is a file or lies under one, cannot be written or created, or one
        of the files cannot be written (see :func:`check_output`).
    """
    folder = Path(folder).expanduser()
    _check_name(folder)
    if os.path.lexists(folder) and not folder.is_dir():
        raise OutputError("the output folder is a file", file=str(folder),
                          hint="give a folder with --out, or move that file away", code="output.folder_is_file")
    _check_folder(folder, folder)
    return [check_output(folder / name, inputs=inputs, force=force) for name in names]


def _mode_for(target: Path) -> int:
    """Permissions of the file being replaced, else the usual ones for a new file."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Write a file all at once: yield a temporary path next to ``path``, rename it onto ``path`` on success.

    The temporary file has the target's extension (writers choose the format by it) and
    lives in the same folder, so the final :func:`os.replace` is atomic.  If the body
    raises, the temporary file is removed and the target is left as it was (absent, or
    the previous version).  The folder is created when missing.

    Raises
    ------
    OutputError
        For an operating-system error while writing (no space, no permission, a parent
        that is a file...), naming the file.
    """
    target = Path(path)
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        yield tmp
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write the file: {exc.strerror or exc}", file=str(target),
                          hint="check that the folder exists, can be written and has free space",
                          code="output.write_failed", params={"reason": exc.strerror or str(exc)}) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
