"""The PGI's vocabulary, defined once: measures, sub-index names, scale, the 2025 merger, the unofficial notices.

Every other module imports these names from here; ``tests/test_reference.py`` checks
that the packages re-exporting them (``survey.scoring.MEASURES``,
``survey.forecast.MERGER_YEAR``, ``survey.reports.UNOFFICIAL`` ...) hand out these
very objects, and that the ``pgi_feedback`` questionnaire names its sub-indices as
:data:`NAMES` and :data:`SHORT_NAMES` do.

The PGI (VCCI, with the PCI) has four sub-indices, each on a 10-point scale, and a
total, their sum, out of 40. Up to 2024 it ranks 63 provinces; from 2025, the 34
units formed by the merger of 1 July 2025.
"""
from __future__ import annotations

import datetime as _dt
from types import MappingProxyType
from typing import Mapping

from .errors import LanguageError

__all__ = ["MEASURES", "SUBINDICES", "NAMES", "SHORT_NAMES", "SCALE", "SUBINDEX_MAX", "TOTAL_MAX", "MERGER_YEAR",
           "MERGER_DATE", "PROVINCES_BEFORE", "PROVINCES_AFTER", "UNOFFICIAL", "ESTIMATE_NOTICE", "FORECAST_NOTICE",
           "measure_name", "unofficial", "provinces_in"]

#: the languages every text here has (the languages of the package: see survey.i18n)
_LANGS = ("vi", "en")

#: the four sub-indices, in VCCI's order
SUBINDICES: tuple[str, ...] = ("sub1", "sub2", "sub3", "sub4")
#: the sub-indices and the total: the measures scored, published and forecast
MEASURES: tuple[str, ...] = SUBINDICES + ("total",)

#: full names (as in ``questionnaires/pgi_feedback.yaml``, ``subindices[].label``)
NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "sub1": MappingProxyType({"vi": "Giảm thiểu ô nhiễm môi trường và tác động tiêu cực của biến đổi khí hậu",
                              "en": "Minimizing the risk of climate hazards and pollution to firms"}),
    "sub2": MappingProxyType({"vi": "Đảm bảo tuân thủ các tiêu chuẩn môi trường tối thiểu",
                              "en": "Maintaining minimum environmental standards"}),
    "sub3": MappingProxyType({"vi": "Vai trò lãnh đạo của chính quyền tỉnh trong thúc đẩy thực hành xanh",
                              "en": "Environmental leadership of the provincial government"}),
    "sub4": MappingProxyType({"vi": "Chính sách và dịch vụ hỗ trợ doanh nghiệp trong bảo vệ môi trường",
                              "en": "Environmental incentives and support services"}),
    "total": MappingProxyType({"vi": "Tổng điểm PGI", "en": "PGI total"}),
})
#: short names, for tables and charts (``subindices[].short`` in the questionnaire)
SHORT_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "sub1": MappingProxyType({"vi": "Giảm thiểu rủi ro", "en": "Minimizing risk"}),
    "sub2": MappingProxyType({"vi": "Tuân thủ tiêu chuẩn", "en": "Maintaining standards"}),
    "sub3": MappingProxyType({"vi": "Vai trò lãnh đạo", "en": "Environmental leadership"}),
    "sub4": MappingProxyType({"vi": "Chính sách hỗ trợ", "en": "Environmental incentives"}),
    "total": MappingProxyType({"vi": "Tổng điểm", "en": "Total"}),
})

#: the most a sub-index can score
SUBINDEX_MAX = 10.0
#: the most the total can score: the sum of the four sub-indices
TOTAL_MAX = SUBINDEX_MAX * len(SUBINDICES)
#: the most each measure can score; a score outside ``[0, SCALE[m]]`` is impossible
SCALE: Mapping[str, float] = MappingProxyType({**{m: SUBINDEX_MAX for m in SUBINDICES}, "total": TOTAL_MAX})

#: the year from which the PGI ranks the provinces formed on :data:`MERGER_DATE`
MERGER_YEAR = 2025
#: the day 63 provinces became 34
MERGER_DATE = _dt.date(2025, 7, 1)
#: provinces ranked up to 2024
PROVINCES_BEFORE = 63
#: provinces ranked from :data:`MERGER_YEAR`
PROVINCES_AFTER = 34

#: what every figure pgi-survey computes is: ``UNOFFICIAL[kind][lang]``, kind ``estimate`` or ``forecast``
UNOFFICIAL: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "estimate": MappingProxyType({"vi": "Ước tính không chính thức", "en": "unofficial estimate"}),
    "forecast": MappingProxyType({"vi": "Dự báo không chính thức", "en": "unofficial forecast"}),
})


def unofficial(kind: str = "estimate", lang: str | None = None) -> str:
    """The notice for an ``estimate`` or a ``forecast``: in ``lang``, or both (``"vi / en"``) when None."""
    texts = UNOFFICIAL[kind]
    if lang is None:
        return f"{texts['vi']} / {texts['en']}"
    if lang not in _LANGS:
        raise LanguageError(f"language must be one of {_LANGS}, not {lang!r}", code="language",
                            params={"known": ", ".join(_LANGS), "lang": str(lang)[:20]})
    return texts[lang]


#: "Ước tính không chính thức / unofficial estimate": on every estimate, table, chart and report page
ESTIMATE_NOTICE = unofficial("estimate")
#: "Dự báo không chính thức / unofficial forecast": on every forecast
FORECAST_NOTICE = unofficial("forecast")


def measure_name(measure: str, lang: str = "vi", short: bool = True) -> str:
    """The name of ``sub1``..``sub4`` or ``total`` in ``lang`` (short by default)."""
    if lang not in _LANGS:
        raise LanguageError(f"language must be one of {_LANGS}, not {lang!r}", code="language",
                            params={"known": ", ".join(_LANGS), "lang": str(lang)[:20]})
    return (SHORT_NAMES if short else NAMES)[measure][lang]


def provinces_in(year: int) -> int:
    """How many provinces the PGI ranks in ``year``: 63 up to 2024, 34 from 2025."""
    return PROVINCES_AFTER if year >= MERGER_YEAR else PROVINCES_BEFORE
