"""A survey period: one calendar month, written ``YYYY-MM``, parsed and checked once.

The association's surveys began after VCCI's first PGI (2022); a year before
:data:`FIRST_YEAR` or more than one year ahead is a typing mistake, not a wave.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import SurveyError

__all__ = ["Period", "PeriodRange", "FIRST_YEAR"]

FIRST_YEAR = 2000
_PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Period:
    """One month. ``str(Period(2025, 11)) == "2025-11"``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: object, *, today: dt.date | None = None) -> "Period":
        """Read ``YYYY-MM``.

        Raises
        ------
        SurveyError
            Not of that form, a month outside 01–12, or a year before
            :data:`FIRST_YEAR` or after next year.
        """
        found = _PATTERN.fullmatch(str(text).strip())
        if not found or not 1 <= int(found[2]) <= 12:
            raise SurveyError(f"the period must be written YYYY-MM, e.g. 2025-11; got {str(text)[:40]!r}",
                              code="period.format", params={"text": repr(str(text)[:40])})
        year, month = int(found[1]), int(found[2])
        last = (today or dt.date.today()).year + 1
        if not FIRST_YEAR <= year <= last:
            raise SurveyError(f"the period {text} is not a plausible survey month "
                              f"(years {FIRST_YEAR}–{last})", hint="check the year", code="period.implausible",
                              params={"text": str(text), "first": FIRST_YEAR, "last": last})
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def previous(self) -> "Period":
        """The month before."""
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)


@dataclass(frozen=True)
class PeriodRange:
    """Months ``first``..``last`` inclusive; ``str()`` is ``2025-01..2025-12`` (or one month alone)."""

    first: Period
    last: Period

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise SurveyError(f"the period range {self.first}..{self.last} ends before it starts",
                              code="period.order", params={"first": str(self.first), "last": str(self.last)})

    @classmethod
    def parse(cls, text: "str | Period | PeriodRange", *, today: dt.date | None = None) -> "PeriodRange":
        """Read ``YYYY-MM`` or ``YYYY-MM..YYYY-MM``.

        Raises
        ------
        SurveyError
            Either end not a plausible month (see :meth:`Period.parse`), or the end before the start.
        """
        if isinstance(text, PeriodRange):
            return text
        if isinstance(text, Period):
            return cls(text, text)
        first, _, last = str(text).partition("..")
        start = Period.parse(first, today=today)
        return cls(start, Period.parse(last, today=today) if last else start)

    @classmethod
    def year(cls, year: int) -> "PeriodRange":
        """January to December of ``year``."""
        return cls(Period(year, 1), Period(year, 12))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"

    def __contains__(self, period: object) -> bool:
        return isinstance(period, Period) and self.first <= period <= self.last
