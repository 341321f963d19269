"""One error tree for pgi-survey.

Every error a person may see derives from :class:`SurveyError` and carries
where the problem is (file, row or line, column or field), the value found,
what was expected and a hint, so that a message can always say *where* and
*what to do*, not only *what*.  Each layer of the data flow has its own
subclass; validation collects every problem in one pass as :class:`Problem`
records rather than stopping at the first.

Every error has a **code**: a class default (``SurveyError.code == "survey"``,
``IngestError.code == "ingest"``...) that an instance may refine with a more
specific one (``"period.format"``) and the **parameters** its message is made
of.  The code and parameters are what :func:`survey.i18n.error_text` turns into
words in Vietnamese or English; the message given when raising is the English
text used when the catalogue has no entry for the code.

Where a caller used to catch a built-in exception (``KeyError`` for an unknown
margin or data column, ``ValueError`` for an expression or a language), the
error still is one: :class:`UnknownMarginError` is a ``WeightingError`` *and* a
``KeyError``, and so on, so nothing built-in reaches a user and old ``except``
clauses keep working.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping

__all__ = [
    "Problem",
    "SurveyError",
    "SurveyWarning",
    "QuestionnaireError",
    "ExportError",
    "IngestError",
    "StoreError",
    "WeightingError",
    "EstimationError",
    "OutputError",
    "OfficialError",
    "LanguageError",
    "ExpressionError",
    "MissingColumnError",
    "UnknownMarginError",
    "CheckFailedError",
    "ERROR_CLASSES",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong at one place.

    Parameters
    ----------
    message : str
        What is wrong, in words a staff member understands.
    file : str, optional
        The file the problem is in.
    where : str, optional
        The place inside the file: a path such as ``sections[1].questions[4].choices``
        for a definition, or a column name for a data file.
    line : int, optional
        1-based line of the file (definitions) or 1-based row (data files).
    value : Any, optional
        The offending value, when there is one.
    hint : str, optional
        What to do about it.
    code : str, optional
        A stable code of the kind of problem, the key of its message in the catalogue.
    params : mapping, optional
        The values the message is made of (not compared, not hashed).
    """

    message: str
    file: str | None = None
    where: str | None = None
    line: int | None = None
    value: Any = None
    hint: str | None = None
    code: str | None = None
    params: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        head = ""
        if self.file:
            head = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            head = f"line {self.line}: "
        if self.where:
            head += f"{self.where}: "
        text = head + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class SurveyError(Exception):
    """Root of every error raised by pgi-survey.

    Attributes
    ----------
    code : str
        The kind of error: the class default (:attr:`SurveyError.code` is ``"survey"``, each
        subclass has its own) or the more specific code given when raising.
    params : dict
        The values the message is made of, for its translation.

    Parameters
    ----------
    message : str
        What went wrong, in English (shown when the catalogue has no text for ``code``).
    code : str, optional
        A specific code (default: the class's).
    params : mapping, optional
        The values of the message, by name.
    problems : iterable of Problem, optional
        Every individual problem found, when validation collected several.
    file, where, line, value, hint
        As in :class:`Problem`, for a single problem.
    """

    code: ClassVar[str] = "survey"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        problems: Iterable[Problem] = (),
        file: str | None = None,
        where: str | None = None,
        line: int | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        self.problems = list(problems)
        if not self.problems and (file or where or line or hint):
            self.problems = [Problem(message, file, where, line, value, hint)]
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # the instance's own, more specific code
        self.params = dict(params or {})
        super().__init__(message)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        if len(self.problems) == 1 and self.problems[0].message == self.message:
            return str(self.problems[0])
        lines = [self.message] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class SurveyWarning(UserWarning):
    """Base class of every warning pgi-survey emits through :mod:`warnings`."""


class QuestionnaireError(SurveyError):
    """A questionnaire definition is invalid; ``problems`` lists every issue."""

    code = "questionnaire"


class ExportError(SurveyError):
    """A questionnaire or data set could not be exported."""

    code = "export"


class IngestError(SurveyError):
    """A file cannot be loaded at all (empty, unreadable, a required column missing...).

    Nothing is written to the store when this is raised.
    """

    code = "ingest"


class StoreError(SurveyError):
    """The store cannot be opened or written, or holds something unexpected."""

    code = "store"


class WeightingError(SurveyError):
    """Weights cannot be computed: bad margins, empty cells, no convergence."""

    code = "weighting"


class EstimationError(SurveyError):
    """An estimate cannot be computed from the design (unknown variable, empty domain...)."""

    code = "estimation"


class OutputError(SurveyError):
    """An output cannot be written where asked: a bad name or type, an input, an existing file, no access.

    Raised before any work is done when the check can be made in advance, so nothing is
    loaded or computed for an output that would then fail.
    """

    code = "output"


class OfficialError(SurveyError):
    """An official table cannot be imported as it is."""

    code = "official"


class LanguageError(SurveyError, ValueError):
    """A language other than Vietnamese ("vi") or English ("en") was asked for."""

    code = "language"


class ExpressionError(QuestionnaireError, ValueError):
    """An expression of a questionnaire (relevance, constraint, sub-population) cannot be read."""

    code = "expression"


class MissingColumnError(SurveyError, KeyError):
    """The data lack a column an expression needs."""

    code = "missing_column"


class UnknownMarginError(WeightingError, KeyError):
    """A margins file has no margin of that name."""

    code = "weighting.unknown_margin"


class CheckFailedError(IngestError, RuntimeError):
    """A validation check could not be evaluated on a column; the load stops rather than pass the data."""

    code = "ingest.check_failed"


#: every error class, by its default code
ERROR_CLASSES: dict[str, type[SurveyError]] = {
    cls.code: cls for cls in (SurveyError, QuestionnaireError, ExportError, IngestError, StoreError,
                              WeightingError, EstimationError, OutputError, OfficialError, LanguageError,
                              ExpressionError, MissingColumnError, UnknownMarginError, CheckFailedError)
}
