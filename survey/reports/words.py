"""Names readers know for the codes the statistics keep: margins, their categories, models.

The weighting's log keeps margin and category names as the margins file spells them
(``sector_group``, ``agriculture_services``); a report shows them through the catalogue
(``rpt.margin.<name>``, ``rpt.category.<name>``), so no internal code reaches a reader.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..i18n import _
from ..notes import Note, note_text

__all__ = ["word", "reader_log"]

_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+")


def word(prefix: str, name: str, lang: str) -> str:
    """The catalogue's word ``<prefix>.<name>``; a name the catalogue lacks is shown without underscores."""
    text = _(f"{prefix}.{name}", lang)
    return name.replace("_", " ") if text == f"{prefix}.{name}" else text


def _named(value: object, lang: str) -> object:
    """Margin and category names inside a note's parameter replaced by their words."""
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        name = m.group()
        for prefix in ("rpt.margin", "rpt.category"):
            if _(f"{prefix}.{name}", lang) != f"{prefix}.{name}":
                return _(f"{prefix}.{name}", lang)
        return name
    return _NAME.sub(one, value)


def reader_log(log: Iterable[Note | str], lang: str) -> list[str]:
    """A weighting's log in ``lang``, its margin and category names as readers know them."""
    return [note_text(type(n)(n.code, {k: word("rpt.replicates", v, lang) if k == "type" else _named(v, lang)
                                       for k, v in n.params.items()}), lang)
            if isinstance(n, Note) else str(n) for n in log]
