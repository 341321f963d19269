"""The questionnaire model: immutable objects built once from a definition file.

Everything downstream (exports, ingest validation, scoring) reads these
objects; nothing reads the YAML directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..errors import LanguageError
from .expressions import Expression

__all__ = [
    "QUESTION_TYPES",
    "SELECT_TYPES",
    "NUMERIC_TYPES",
    "INDICATOR_METHODS",
    "NORMALISATIONS",
    "Sensitivity",
    "Label",
    "Choice",
    "ChoiceList",
    "Question",
    "Section",
    "SubIndex",
    "Indicator",
    "Locality",
    "Questionnaire",
]

#: pgi-survey question types.  ``likert`` and ``yesno`` are single choices with
#: an ordered or two-valued list; they are kept apart for the codebook,
#: XLSForm appearance and the analysis of ordered answers.
QUESTION_TYPES = ("single", "multiple", "likert", "yesno", "integer", "decimal", "text", "date")
SELECT_TYPES = frozenset({"single", "multiple", "likert", "yesno"})
NUMERIC_TYPES = frozenset({"integer", "decimal"})
#: How an indicator is computed from its question:
#: ``share`` - weighted share of valid answers whose code is in ``codes``;
#: ``share_within`` - the same, among the sub-population ``among``;
#: ``mean`` - weighted mean of a number (valid answers only), optionally ``among``.
INDICATOR_METHODS = ("share", "share_within", "mean")
#: How an indicator value becomes a 0-10 score: ``goalposts`` (low -> 0, high -> 10),
#: ``minmax`` (1 + 9 (x - min) / (max - min) over a benchmark set, as the PCI) or
#: ``target`` (the worse goalpost -> 0, the target -> 10).
NORMALISATIONS = ("goalposts", "minmax", "target")
LANGS = ("vi", "en")


@dataclass(frozen=True)
class Label:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def get(self, lang: str = "vi") -> str:
        """The text in ``lang`` ("vi" or "en")."""
        if lang not in LANGS:
            raise LanguageError(f"language must be one of {LANGS}, not {lang!r}", code="language",
                                params={"lang": str(lang)[:20], "known": ", ".join(LANGS)})
        return getattr(self, lang)


@dataclass(frozen=True)
class Choice:
    """One answer option: an integer code and its label."""

    code: int
    label: Label


@dataclass(frozen=True)
class ChoiceList:
    """A named list of answer options, shared by any number of questions."""

    name: str
    choices: tuple[Choice, ...]

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.choices)


@dataclass(frozen=True)
class Question:
    """One question.

    Attributes
    ----------
    id : str
        Variable name: lower-case letters, digits and ``_``; the column name in
        every export.
    type : str
        One of :data:`QUESTION_TYPES`.
    choices : str or None
        Name of the choice list (select types only).
    missing : tuple of int
        Declared missing codes (e.g. 98 don't know, 99 refused) that are valid
        answers but excluded from estimates.
    range : (min, max)
        Inclusive bounds for numbers; either may be None; ``"current_year"``
        stands for the year of data collection.
    personal : bool
        Personal data (names, phones, e-mails, firm names): collected, never reported.
    critical : bool
        An answer the indicators, the weighting or the digest depend on: a value that
        breaks one of its rules sends the whole response to quarantine. A value that
        breaks a rule of any other question is set to missing and recorded as a
        correction; the response is kept ("accepted with corrections").
    """

    id: str
    type: str
    label: Label
    section: str
    hint: Label | None = None
    choices: str | None = None
    missing: tuple[int, ...] = ()
    required: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    range: tuple[float | str | None, float | str | None] = (None, None)
    personal: bool = False
    critical: bool = False

    @property
    def is_select(self) -> bool:
        return self.type in SELECT_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Section:
    """A group of questions shown together."""

    id: str
    label: Label
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class SubIndex:
    """One of the four PGI sub-indices (10-point scale)."""

    number: int
    label: Label
    short: Label


@dataclass(frozen=True)
class Indicator:
    """One indicator of a sub-index and how to compute it.

    Attributes
    ----------
    goalposts : (low, high)
        The indicator's theoretical range in its own unit; ``low`` maps to 0
        and ``high`` to 10 on the sub-index scale (reversed when ``direction``
        is ``negative``).
    weight : float
        Relative weight within its sub-index (> 0); weights are normalised to
        sum to 1 within each sub-index.
    """

    id: str
    subindex: int
    label: Label
    question: str
    method: str
    codes: tuple[int, ...] = ()
    among: Expression | None = None
    direction: str = "positive"
    goalposts: tuple[float, float] = (0.0, 1.0)
    weight: float = 1.0
    normalisation: str = "goalposts"
    target: float | None = None


@dataclass(frozen=True)
class Sensitivity:
    """Declared alternatives for the sensitivity analysis of the scores.

    Attributes
    ----------
    weights : (low, high)
        Each indicator weight is multiplied by a factor drawn uniformly in this range.
    goalposts : float
        Each goalpost moves by up to this share of the indicator's range.
    normalisations : tuple of str
        Normalisations drawn for each indicator (minmax needs a benchmark set).
    draws : int
        Monte Carlo draws.
    """

    weights: tuple[float, float] = (0.5, 1.5)
    goalposts: float = 0.10
    normalisations: tuple[str, ...] = ("goalposts",)
    draws: int = 500


@dataclass(frozen=True)
class Locality:
    """The locality list of one province (districts before 1 July 2025, or communes).

    Attributes
    ----------
    valid_from, valid_until : str or None
        First and last month (``YYYY-MM``) of the waves that use this list; None: no bound.
    follows : tuple of str
        Keys of the lists this one replaces from ``valid_from`` (a wave of ``bac_giang`` from
        2025-07 uses the list that follows ``bac_giang``).
    """

    key: str
    province: str
    province_vi: str
    level: str
    as_of: str
    source: str
    units: ChoiceList
    valid_from: str | None = None
    valid_until: str | None = None
    follows: tuple[str, ...] = ()

    def covers(self, period: str) -> bool:
        """Whether a wave of ``period`` (``YYYY-MM``) uses this list."""
        return (self.valid_from is None or str(period) >= self.valid_from) and (
            self.valid_until is None or str(period) <= self.valid_until)

    @property
    def validity(self) -> str:
        """The months of the list, e.g. ``2025-07..`` or ``..2025-06`` (empty when unbounded)."""
        if self.valid_from is None and self.valid_until is None:
            return ""
        return f"{self.valid_from or ''}..{self.valid_until or ''}"


@dataclass(frozen=True)
class Questionnaire:
    """A validated questionnaire definition."""

    id: str
    version: str
    title: Label
    description: Label | None
    note: Label | None
    source: Path | None
    sections: tuple[Section, ...]
    choice_lists: Mapping[str, ChoiceList]
    missing_codes: Mapping[int, Label]
    subindices: tuple[SubIndex, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    locality: Locality | None = None
    #: question whose answer identifies a response (used as key when a file has no Kobo ``_uuid``)
    response_id: str | None = None
    sensitivity: Sensitivity = Sensitivity()
    #: the wave (``YYYY-MM``) it was loaded for: its locality list is that period's; None: the province's own list
    period: str | None = None
    _by_id: Mapping[str, Question] = field(default_factory=dict, repr=False, compare=False)

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in order."""
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, qid: str) -> Question:
        """The question with id ``qid``; KeyError if none."""
        if not self._by_id:
            object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})
        return self._by_id[qid]

    def choices(self, question: Question | str, with_missing: bool = True) -> tuple[Choice, ...]:
        """The answer options of a select question, then its missing codes."""
        q = self.question(question) if isinstance(question, str) else question
        base = self.choice_lists[q.choices].choices if q.choices else ()
        if not with_missing:
            return base
        return base + tuple(Choice(c, self.missing_codes[c]) for c in q.missing)

    def indicators_of(self, subindex: int) -> tuple[Indicator, ...]:
        """The indicators of one sub-index (1-4), in definition order."""
        return tuple(i for i in self.indicators if i.subindex == subindex)

    @property
    def personal_questions(self) -> tuple[str, ...]:
        """Ids of questions flagged as personal data."""
        return tuple(q.id for q in self.questions if q.personal)
