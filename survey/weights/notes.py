"""Notes of a weighting (merges, passes, replicates, trimming), kept as a code and parameters.

A :class:`Note` is written in a language only when shown: ``note.text("vi")`` renders the
catalogue message ``weighting.note.<code>`` (``survey/locale/*/LC_MESSAGES/weighting.po``)
with its parameters; ``str(note)`` is the English text. Notes are stored as JSON dicts
``{"code": ..., "params": {...}}``; weightings stored before notes had codes hold plain
strings, which are read back as they are and shown as written, in any language.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

from ..notes import Note as _Note
from ..notes import note_text

__all__ = ["Note", "note_text", "log_text", "log_to_json", "log_from_json", "NOTE_CODES"]

#: every note code a weighting writes (``weighting.note.<code>`` must exist in both languages)
NOTE_CODES = ("merged", "sparse_kept", "replicates", "replicates_seeded", "raked", "raked_dropped",
              "raked_bounded", "poststratified", "trimmed", "calibrated", "calibrated_dropped")


@dataclass(frozen=True)
class Note(_Note):
    """One line of a weighting's log: a :class:`survey.notes.Note` of the ``weighting.note`` family."""

    prefix: ClassVar[str] = "weighting.note"


def log_text(log: Iterable[Note | str], lang: str | None = "vi") -> list[str]:
    """Every entry of a log in ``lang``."""
    return [note_text(entry, lang) for entry in log]


def log_to_json(log: Iterable[Note | str]) -> list[Any]:
    """A log as JSON values: notes as ``{"code", "params"}`` dicts, plain strings as they are."""
    return [entry.to_json() if isinstance(entry, Note) else str(entry) for entry in log]


def log_from_json(data: Iterable[Any] | None) -> tuple[Note | str, ...]:
    """The inverse of :func:`log_to_json`; old stores' plain strings are kept as strings."""
    return tuple(Note.from_json(item) if isinstance(item, Mapping) else str(item) for item in (data or ()))
