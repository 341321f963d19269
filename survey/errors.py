"""One error tree for pgi-survey.

Every error a person may see derives from :class:`SurveyError` and carries
where the problem is (file, row or line, column or field), the value found,
what was expected and a hint, so that a message can always say *where* and
*what to do*, not only *what*.  Each layer of the data flow has its own
subclass; validation collects every problem in one pass as :class:`Problem`
records rather than stopping at the first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

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
    """

    message: str
    file: str | None = None
    where: str | None = None
    line: int | None = None
    value: Any = None
    hint: str | None = None

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

    Parameters
    ----------
    message : str
        What went wrong.
    problems : iterable of Problem, optional
        Every individual problem found, when validation collected several.
    file, where, line, value, hint
        As in :class:`Problem`, for a single problem.
    """

    def __init__(
        self,
        message: str,
        *,
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


class ExportError(SurveyError):
    """A questionnaire or data set could not be exported."""


class IngestError(SurveyError):
    """A file cannot be loaded at all (empty, unreadable, a required column missing...).

    Nothing is written to the store when this is raised.
    """


class StoreError(SurveyError):
    """The store cannot be opened or written, or holds something unexpected."""


class WeightingError(SurveyError):
    """Weights cannot be computed: bad margins, empty cells, no convergence."""


class EstimationError(SurveyError):
    """An estimate cannot be computed from the design (unknown variable, empty domain...)."""


class OutputError(SurveyError):
    """An output cannot be written where asked: a bad name or type, an input, an existing file, no access.

    Raised before any work is done when the check can be made in advance, so nothing is
    loaded or computed for an output that would then fail.
    """
