"""One message catalogue for every text a person reads: Vietnamese (default) and English.

The catalogue is kept as gettext PO files, one per language, in the ``pgi_survey`` domain::

    survey/locale/vi/LC_MESSAGES/pgi_survey.po
    survey/locale/en/LC_MESSAGES/pgi_survey.po

and read at run time with Babel (no compile step at install time). Messages are keyed
by stable ids (``ingest.summary``, ``error.period.format``, ``cli.help.ingest``...),
not by their English text, so that changing a wording changes no key; argparse's own
texts ("usage: ", "the following arguments are required: %s"...) are keyed by their
English text, as argparse looks them up.

A message is a :meth:`str.format` template whose fields are named parameters. Numbers
and dates are written per locale when the field asks for it::

    {count:n}    a number, grouped      vi 1.234.567   en 1,234,567
    {x:n2}       two decimals, grouped  vi 1.234,50    en 1,234.50
    {p:%}        a percentage           vi 45%         en 45%
    {p:%1}       with one decimal       vi 45,3%       en 45.3%
    {x:+n2}      with its sign          vi +1,50       en +1.50
    {day:date}   a date                 vi 03/11/2025  en 3 Nov 2025
    {kind:@output.kind}  a word of the catalogue: the message ``output.kind.<kind>``
                         (``output.kind.report``: vi báo cáo, en report), else the value

Use::

    from survey.i18n import _
    _("ingest.summary", "vi", read=8, accepted=8, quarantined=0, present=0)

Errors (:class:`survey.errors.SurveyError`) carry a code and parameters;
:func:`error_text` renders one in a language from ``error.<code>`` (and
``error.<code>.hint``, and ``error.<code>.where`` for the place inside the file, such
as a column) when the catalogue has it, else as written; the file, line and place
are always kept in front of the message.
"""
from __future__ import annotations

import datetime as dt
import functools
import gettext
import os
import string
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from babel.dates import format_date as _babel_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent as _babel_percent

from .errors import LanguageError, Problem, SurveyError
from .resources import data_path

__all__ = ["LANGS", "DEFAULT_LANG", "FALLBACK_LANG", "DOMAIN", "LOCALE_DIR", "ENV_LANG", "resolve_lang", "translations", "_",
           "has_message", "message_ids", "format_number", "format_percent", "format_date", "error_text",
           "problem_text"]

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
#: the language a message is taken in when the asked one lacks it
FALLBACK_LANG = "en"
DOMAIN = "pgi_survey"
LOCALE_DIR = data_path("locale")
#: the environment variable that sets the language when ``--lang`` is not given
ENV_LANG = "PGI_LANG"
_DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


def resolve_lang(lang: str | None = None) -> str:
    """The language to use: ``lang`` if given, else ``$PGI_LANG``, else Vietnamese.

    Raises
    ------
    LanguageError
        For a language other than "vi" or "en" (a ``ValueError`` too).
    """
    if lang is None:
        lang = os.environ.get(ENV_LANG, "").strip() or DEFAULT_LANG
    if lang not in LANGS:
        raise LanguageError(f"language must be one of {', '.join(LANGS)}, not {str(lang)[:20]!r}",
                            params={"lang": str(lang)[:20], "known": ", ".join(LANGS)})
    return lang


def _po_paths(lang: str) -> list[Path]:
    """The language's PO files: ``pgi_survey.po`` first, then any others of the folder (one per
    part of the product, e.g. ``questionnaire.po``), in name order."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    main = folder / f"{DOMAIN}.po"
    return [main] + sorted(p for p in folder.glob("*.po") if p != main)


@functools.lru_cache(maxsize=None)
def _catalogue(lang: str) -> dict[str, str]:
    """``{msgid: msgstr}`` of one language; untranslated and fuzzy entries are left out.

    Raises
    ------
    SurveyError
        The same message id in two PO files of the language (one would silently win).
    """
    messages: dict[str, str] = {}
    for path in _po_paths(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
        for m in catalog:
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy:
                if m.id in messages:
                    raise SurveyError(f"message {m.id!r} is defined twice in the {lang} catalogue ({path.name})")
                messages[m.id] = m.string
    return messages


def message_ids(lang: str) -> frozenset[str]:
    """Every message id translated in ``lang``."""
    return frozenset(_catalogue(resolve_lang(lang)))


def has_message(msgid: str, lang: str | None = None) -> bool:
    """Whether the catalogue of ``lang`` has ``msgid``."""
    return msgid in _catalogue(resolve_lang(lang))


class _Translations(gettext.NullTranslations):
    """A :class:`gettext.NullTranslations` over one language's catalogue (what argparse and others expect)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self._messages = _catalogue(lang)

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        # Vietnamese has one form; English's two are written in the source (argparse's own)
        return self._messages.get(msgid1 if n == 1 else msgid2, msgid1 if n == 1 else msgid2)

    def info(self) -> dict[str, str]:
        return {"language": self.lang}


@functools.lru_cache(maxsize=None)
def translations(lang: str | None = None) -> gettext.NullTranslations:
    """The gettext translations object of ``lang`` (``.gettext(msgid)``, ``.ngettext(...)``)."""
    return _Translations(resolve_lang(lang))


# ---------------------------------------------------------------- formatting


def format_number(value: float, lang: str | None = None, digits: int | None = None) -> str:
    """A number written per locale: ``format_number(1234.5, "vi") == "1.234,5"``.

    ``digits``: exactly that many decimals (default: as needed, at most three).
    """
    lang = resolve_lang(lang)
    if digits is None:
        return format_decimal(value, locale=lang)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=lang)


def format_percent(value: float, lang: str | None = None, digits: int = 0) -> str:
    """A share (0.453) as a percentage per locale: "45%", or with ``digits`` decimals "45,3%" (vi)."""
    lang = resolve_lang(lang)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _babel_percent(value, format=pattern, locale=lang)


def format_date(value: dt.date, lang: str | None = None) -> str:
    """A date per locale: ``03/11/2025`` in Vietnamese, ``3 Nov 2025`` in English."""
    lang = resolve_lang(lang)
    return _babel_date(value, _DATE_PATTERNS[lang], locale=lang)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or (
        hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf")


class _LocaleFormatter(string.Formatter):
    """:meth:`str.format` with the locale specs ``n``, ``n<digits>``, ``%``, ``%<digits>`` and ``date``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith("@"):  # a word of the catalogue: {kind:@output.kind} is output.kind.<kind>
            return _template(f"{format_spec[1:]}.{value}", self.lang) or str(value)
        if format_spec == "province":  # English province keys ("Bac Giang, Bac Ninh") as the reader names them
            from .reference import province_name  # here: the reference data imports this module
            return ", ".join(province_name(n.strip(), 2024, self.lang) for n in str(value).split(","))
        if format_spec == "date" and isinstance(value, dt.date):
            return format_date(value, self.lang)
        if format_spec[:2] in ("+n", "+%") and _is_number(value):  # {x:+n2}: the sign written for a positive too
            text = self.format_field(value, format_spec[1:])
            return text if text.startswith("-") or float(value) < 0 else "+" + text
        kind, rest = format_spec[:1], format_spec[1:]
        if kind in ("n", "%") and (rest.isdigit() or rest == "") and _is_number(value):
            digits = int(rest) if rest else None
            if kind == "%":
                return format_percent(float(value), self.lang, digits or 0)
            return format_number(value, self.lang, digits)
        return super().format_field(value, format_spec)


def _template(msgid: str, lang: str) -> str | None:
    for candidate in dict.fromkeys((lang, FALLBACK_LANG)):
        found = _catalogue(candidate).get(msgid)
        if found is not None:
            return found
    return None


def _format(template: str, lang: str, params: Mapping[str, Any]) -> str:
    return _LocaleFormatter(lang).vformat(template, (), params)


def _(msgid: str, lang: str | None = None, /, **params: Any) -> str:
    """The message ``msgid`` in ``lang`` (default: ``$PGI_LANG`` or Vietnamese), filled with ``params``.

    A message the language lacks is taken in English, one the catalogue lacks is the
    id itself; a template whose parameters are not all given is returned unfilled
    rather than failing (a message must never be what breaks a program).
    """
    lang = resolve_lang(lang)
    filled = _filled(msgid, lang, params)
    return filled if filled is not None else (_template(msgid, lang) or msgid)


def _filled(msgid: str, lang: str, params: Mapping[str, Any]) -> str | None:
    """The message filled with ``params``, or None when the catalogue lacks it or a parameter is missing."""
    template = _template(msgid, lang)
    if template is None:
        return None
    try:
        return _format(template, lang, params)
    except (KeyError, IndexError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------- errors


def problem_text(problem: Problem, lang: str | None = None) -> str:
    """One :class:`Problem` in ``lang``: its place, its message (translated when it has a code the
    catalogue knows) and its hint."""
    lang = resolve_lang(lang)
    message = problem.message
    hint = problem.hint
    where = problem.where
    if problem.code:
        message = _filled(f"error.{problem.code}", lang, problem.params or {}) or message
        hint = _filled(f"error.{problem.code}.hint", lang, problem.params or {}) or hint
        where = _filled(f"error.{problem.code}.where", lang, problem.params or {}) or where
    head = ""
    if problem.file:
        head = problem.file + (f":{problem.line}" if problem.line else "") + ": "
    elif problem.line:
        head = _("error.line", lang, line=problem.line) + ": "
    if where:
        head += f"{where}: "
    text = head + message
    if hint:
        text += f" ({hint})"
    return text


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """What to show a person for ``exc``, in ``lang``.

    A :class:`SurveyError` is written from ``error.<code>`` with its parameters when the
    catalogue has that message (and ``error.<code>.hint`` for its hint, ``error.<code>.where``
    for the place in the file, such as "column 3"), else as written
    when raised; its problems follow, one a line. Anything else is ``str(exc)``.
    """
    lang = resolve_lang(lang)
    if not isinstance(exc, SurveyError):
        return str(exc)
    message = _filled(f"error.{exc.code}", lang, exc.params)
    if message is None:
        message = exc.message
    problems = exc.problems
    if not problems:
        return message
    if len(problems) == 1 and problems[0].message == exc.message:
        hint = _filled(f"error.{exc.code}.hint", lang, exc.params) or problems[0].hint
        where = _filled(f"error.{exc.code}.where", lang, exc.params) or problems[0].where
        return problem_text(replace(problems[0], message=message, hint=hint, where=where, code=None), lang)
    return "\n".join([message] + [f"  - {problem_text(p, lang)}" for p in problems])
