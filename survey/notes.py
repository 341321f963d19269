"""Notes for a person, kept as a code and parameters until they are shown, so that they read in any language.

A note of the forecast or the scoring (``ForecastResult.notes``, ``ScoreResult.notes``, the
notes of an official table) is created as a :class:`Note`; whatever shows it renders it in the
reader's language with :func:`note_text`::

    note = Note("forecast.rank_target", {"top": 10})
    note.text("en")    # "rank target: top 10"
    note.text("vi")    # "mục tiêu thứ hạng: top 10"

The text is the message ``note.<code>`` of the catalogue (survey/locale/*/LC_MESSAGES/notes.po).
A plain string in a list of notes is shown as written (notes made before this, or already
rendered in a language by a job).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .i18n import _

__all__ = ["Note", "note_text", "notes_text"]


@dataclass(frozen=True)
class Note:
    """A note: ``code`` names the message ``<prefix>.<code>`` (``note.<code>``), ``params`` fill it."""

    #: the catalogue's family of these notes; a weighting's log uses ``weighting.note``
    prefix: ClassVar[str] = "note"
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a read-only copy, so that a note cannot change after it is made (and stays hashable)
        object.__setattr__(self, "params", _Params(self.params))

    @property
    def msgid(self) -> str:
        return f"{self.prefix}.{self.code}"

    def to_json(self) -> dict[str, Any]:
        """The note as JSON values, to be stored and read back with :meth:`from_json`."""
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Note":
        return cls(str(data["code"]), dict(data.get("params") or {}))

    def text(self, lang: str | None = None) -> str:
        """The note in ``lang`` (default: ``$PGI_LANG`` or Vietnamese)."""
        return _(self.msgid, lang, **self.params)

    def __str__(self) -> str:  # for logs and debugging: the English text
        return self.text("en")


class _Params(dict):
    """A dict that cannot be changed and can be hashed."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("the parameters of a note cannot be changed")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, repr(v)) for k, v in self.items())))

    def __reduce__(self):  # pickle and copy build it whole (they would set item by item)
        return (_Params, (dict(self),))


def note_text(note: Note | str, lang: str | None = None) -> str:
    """A note in ``lang``: a :class:`Note` rendered from the catalogue, a string as written."""
    return note.text(lang) if isinstance(note, Note) else str(note)


def notes_text(notes: Iterable[Note | str], lang: str | None = None) -> list[str]:
    """Each note in ``lang`` (see :func:`note_text`)."""
    return [note_text(n, lang) for n in notes]
