"""Reference data shipped with the package, each with its source; the one way to find package data.

Everything the package ships is found with :func:`data_path` (``importlib.resources``),
so an ordinary ``pip install .`` finds it as an editable install does:

- ``questionnaires/``: the questionnaire definitions (:func:`questionnaires_path`;
  ``$PGI_QUESTIONNAIRES`` overrides it, see :func:`survey.questionnaire.default_root`);
- ``data/reference/provinces.csv``: the 63 provinces with the unit each belongs to after
  the merger of 1 July 2025 (:func:`load_provinces`, :func:`crosswalk`, :func:`provinces_of`,
  :func:`match_province`);
- ``data/reference/official_pgi.csv``: the official PGI figures that could be verified
  (partial; every row names a source key explained in ``SOURCES.md``)
  (:func:`load_official`, :func:`official_panel`, :func:`last_official`, :func:`sources_text`);
- ``data/reference/national_means.csv``: published national averages (:func:`national_means`);
- ``data/reference/pgi_indicator_benchmarks.csv``: shares VCCI published for single PGI survey indicators,
  each beside the association's comparable indicator, with its source key (:func:`pgi_indicator_benchmarks`);
- ``data/targets/<key>.yaml``: a province's PGI targets from its plan (:func:`load_targets`
  -> :class:`Targets`);
- ``data/margins/<province>_<year>.yaml``: population margins (:func:`margins_path`; read by
  :func:`survey.weights.load_margins`).

Enterprise counts by province are **not shipped**: no verified table of active
enterprises for the 63 provinces was found. Where they matter (combining a merged
province's old provinces, :func:`survey.forecast.forecast_province`), the caller passes them as
``enterprise_weights`` (number of enterprises by old province, English name); without them, the
shares are drawn around equal and the forecast says so.

The vocabulary (measures, scale, merger year, notices) is in :mod:`survey.vocabulary`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from .resources import ReferenceDataError, data_path  # noqa: F401  (importable from here as before)
import yaml

from .vocabulary import MEASURES, MERGER_YEAR, SUBINDICES

__all__ = ["data_path", "questionnaires_path", "margins_path", "targets_folder", "ReferenceDataError",
           "load_provinces", "crosswalk", "provinces_of", "province_names", "province_key", "match_province",
           "load_official", "official_panel", "last_official", "sources_text", "national_means",
           "pgi_indicator_benchmarks",
           "TableInfo", "official_tables", "pilot_years", "province_name_vi", "province_name",
           "Targets", "load_targets", "targets_for"]

#: a file-name key (province of a targets file): no path separators, no dots
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def questionnaires_path() -> Path:
    """The questionnaire definitions shipped with the package (``survey/questionnaires``)."""
    return data_path("questionnaires")


def margins_path(province: str, year: int) -> Path:
    """The shipped margins file of a province and year (``survey/data/margins/<province>_<year>.yaml``)."""
    return data_path("data", "margins", f"{province}_{year}.yaml")


def targets_folder() -> Path:
    """The shipped targets files (``survey/data/targets``)."""
    return data_path("data", "targets")


def _reference(name: str) -> Path:
    return data_path("data", "reference", name)


# ------------------------------------------------------------------ provinces and the 2025 crosswalk

@lru_cache(maxsize=1)
def _provinces() -> pd.DataFrame:
    with _reference("provinces.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str)


def load_provinces() -> pd.DataFrame:
    """The 63 provinces: ``province`` (English), ``province_vi``, ``province_from_2025`` (a copy, yours to change)."""
    return _provinces().copy()


def crosswalk() -> dict[str, str]:
    """Each of the 63 provinces (English name) -> the unit it belongs to from 1 July 2025."""
    p = _provinces()
    return dict(zip(p["province"], p["province_from_2025"]))


def provinces_of(year: int) -> list[str]:
    """The provinces the PGI ranks in ``year`` (sorted English names): 63 up to 2024, 34 from 2025."""
    p = _provinces()
    return sorted(p["province_from_2025"].unique()) if year >= MERGER_YEAR else sorted(p["province"])


@lru_cache(maxsize=1)
def province_names() -> frozenset[str]:
    """English names of every province, before and after the 2025 merger."""
    df = _provinces()
    return frozenset(df["province"]) | frozenset(df["province_from_2025"])


def _fold(name: str) -> str:
    """No diacritics (đ -> d), lower case."""
    text = unicodedata.normalize("NFD", str(name)).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def province_key(name: str) -> str:
    """A name compared loosely: no diacritics (đ -> d), lower case, no 'tỉnh'/'thành phố', no punctuation."""
    text = _fold(name)
    text = re.sub(r"^(tinh|thanh pho|tp\.?|province of|city of)\s+", "", text.strip())
    text = re.sub(r"\b(province|city)$", "", text).strip()
    return re.sub(r"[^a-z0-9]+", "", text)


_ALIASES = {"HCMC": "Ho Chi Minh City", "TP HCM": "Ho Chi Minh City", "Hồ Chí Minh": "Ho Chi Minh City",
            "Hue": "Thua Thien Hue", "BRVT": "Ba Ria - Vung Tau", "Hanoi": "Ha Noi"}


@lru_cache(maxsize=2)
def _name_index(after_merger: bool) -> Mapping[str, str]:
    p = _provinces()
    index: dict[str, str] = {}
    if after_merger:
        for new in p["province_from_2025"].unique():
            index[province_key(new)] = new
            vi = p.loc[p["province"] == new, "province_vi"]
            if len(vi):
                index[province_key(vi.iloc[0])] = new
    else:
        for en, vi in zip(p["province"], p["province_vi"]):
            index[province_key(en)] = en
            index[province_key(vi)] = en
    index.update({province_key(a): b for a, b in _ALIASES.items() if b in index.values()})
    return MappingProxyType(index)


#: Vietnamese names of units that changed their name with the reorganisation (Huế has been a centrally run
#: city since 1 January 2025); the English key stays the old province's
_NAMES_VI_FROM_2025 = {"Thua Thien Hue": "Huế"}


def province_name_vi(name: str, year: int) -> str:
    """The Vietnamese name (with diacritics) of a province or unit by its English key, as it was in ``year``."""
    if year >= MERGER_YEAR and name in _NAMES_VI_FROM_2025:
        return _NAMES_VI_FROM_2025[name]
    p = _provinces()
    vi = p.loc[p["province"] == name, "province_vi"]
    return str(vi.iloc[0]) if len(vi) else name


def province_name(name: str, year: int, lang: str) -> str:
    """A province or unit (English key) as a reader of ``lang`` knows it: the list's ``province_<lang>`` name
    (Vietnamese with diacritics) where it has one, else the key."""
    renamed = _NAMES_VI_FROM_2025 if year >= MERGER_YEAR else {}
    p = _provinces()
    column = f"province_{lang}"
    if column not in p.columns:
        return name
    if name in renamed and column == "province_vi":
        return renamed[name]
    found = p.loc[p["province"] == name, column]
    return str(found.iloc[0]) if len(found) else name


def match_province(name: str, year: int) -> str | None:
    """The English name of a province as the reference list has it for ``year``, or None."""
    return _name_index(year >= MERGER_YEAR).get(province_key(name))


# ------------------------------------------------------------------ the official record

def load_official() -> pd.DataFrame:
    """Official PGI figures: year, province, measure (sub1..sub4, total), score, rank, source."""
    with _reference("official_pgi.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"province": str, "measure": str, "source": str})


def official_panel(imported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Shipped figures plus imported ones; an imported figure replaces a shipped one for the same cell."""
    shipped = load_official()
    if imported is None or imported.empty:
        return shipped
    both = pd.concat([shipped.assign(_order=0), imported.assign(_order=1)])
    both = both.sort_values("_order").drop_duplicates(["year", "province", "measure"], keep="last")
    return both.drop(columns="_order").sort_values(["year", "province", "measure"]).reset_index(drop=True)


def complete_totals(panel: pd.DataFrame) -> pd.DataFrame:
    """The official record (long: ``year, province, measure, score``, and ``rank``, ``source`` when
    there) with a ``derived`` column, and a total added for each (year, province) that has all four
    sub-indices but no published total: their sum, rounded to 2 decimals as published, its sources
    joined, no rank (``derived`` True). The one rule for completing totals: the score's official
    record, the forecast's history and the annual report's table and chart all come through here.
    """
    out = panel.assign(derived=False)
    subs = panel[panel["measure"].isin(SUBINDICES)]
    if subs.empty:
        return out
    has_total = set(map(tuple, panel.loc[panel["measure"] == "total", ["year", "province"]].to_numpy().tolist()))
    groups = subs.groupby(["year", "province"], sort=True)
    whole = groups["measure"].nunique() == len(SUBINDICES)
    sums = groups["score"].sum()[whole]
    keys = [k for k in sums.index if tuple(k) not in has_total]
    if not keys:
        return out
    added = pd.DataFrame({"year": [k[0] for k in keys], "province": [k[1] for k in keys], "measure": "total",
                          "score": [round(float(sums[k]), 2) for k in keys], "derived": True})
    if "rank" in panel.columns:
        added["rank"] = float("nan")
    if "source" in panel.columns:
        sources = groups["source"].agg(lambda v: " + ".join(sorted(set(v))))
        added["source"] = [sources[k] for k in keys]
    return pd.concat([out, added[[c for c in out.columns if c in added.columns]]], ignore_index=True)


def last_official(panel: pd.DataFrame, province: str, measure: str, before: int | None = None) -> tuple[float, int] | None:
    """The province's latest official value of a measure (before ``before``), with its year."""
    rows = panel[(panel["province"] == province) & (panel["measure"] == measure)]
    if before is not None:
        rows = rows[rows["year"] < before]
    if rows.empty:
        return None
    row = rows.sort_values("year").iloc[-1]
    return float(row["score"]), int(row["year"])


def sources_text() -> str:
    """``SOURCES.md``: where each source key of ``official_pgi.csv`` and ``pgi_indicator_benchmarks.csv`` comes from."""
    return _reference("SOURCES.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class TableInfo:
    """What is public of one year's official table (``official_tables.csv``).

    ``pilot``: the edition is a pilot on a scale of its own (2022), not comparable in level with later years;
    ``top``: only the totals of the top ``top`` provinces were published (else None);
    ``outside_top_listed``: every province outside that top is listed (with its sub-indices), so a province
    with no value that year is one of the top whose total was not published.
    """

    year: int
    pilot: bool = False
    top: int | None = None
    outside_top_listed: bool = False
    source: str = ""


def official_tables() -> dict[int, TableInfo]:
    """Each published year's :class:`TableInfo`, by year."""
    with _reference("official_tables.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str).fillna("")
    return {int(r.year): TableInfo(int(r.year), r.edition == "pilot", int(r.top) if r.top else None,
                                   r.outside_top_listed == "yes", r.source) for r in frame.itertuples()}


def pilot_years() -> frozenset[int]:
    """The years whose edition was a pilot on a scale of its own (2022)."""
    return frozenset(y for y, info in official_tables().items() if info.pilot)


def national_means() -> pd.DataFrame:
    """Published national averages (year, measure, mean, source), as printed (not computed from the partial record)."""
    with _reference("national_means.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


#: the text columns of ``pgi_indicator_benchmarks.csv`` (read as text; an empty cell is "")
_BENCHMARK_TEXT = ("indicator", "vcci_indicator_vi", "vcci_indicator_en", "scope", "unit", "comparability",
                   "source", "note")


def pgi_indicator_benchmarks() -> pd.DataFrame:
    """Indicator-level figures VCCI published for the PGI, as printed, each with its source key (``SOURCES.md``).

    Columns: ``indicator`` (the association's indicator id in ``pgi_feedback.yaml`` it compares with, "" when
    none), ``vcci_indicator_vi``, ``vcci_indicator_en``, ``year`` (PGI edition), ``scope`` ("national" or a
    province's English name), ``value`` (float, in ``unit``: "share" 0-1, "days", "million VND" or "count"),
    ``comparability`` ("same", "similar" or "different"), ``source`` and ``note`` (how the wording or base
    differs). Partial: only the figures found in public pages are shipped.
    """
    with _reference("pgi_indicator_benchmarks.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={c: str for c in _BENCHMARK_TEXT}, keep_default_na=False)
    return frame.astype({"year": int, "value": float})


# ------------------------------------------------------------------ targets

#: what a target may be set on: a minimum score of a measure, or the rank to reach at most
TARGET_KEYS = MEASURES + ("rank",)


@dataclass(frozen=True)
class Targets:
    """A province's PGI targets, from its plan.

    Attributes
    ----------
    province : the province's English name, as the plan names it.
    source : the plan the targets come from.
    years : ``{year: {key: value}}``, key one of ``sub1``..``sub4``, ``total`` (minimum scores)
        or ``rank`` (at most); a year without targets is absent.
    key : the file's key (``bac_giang`` for ``data/targets/bac_giang.yaml``).
    baseline_year, baseline : the plan's starting point, when it gives one.
    rank_of : how many provinces the rank target counts among (63 for a plan written before the 2025
        merger), when the file says.
    scale_year : the edition whose scale the score targets were set on (2022, the pilot, for Bac Giang's
        plan), when the file says: score targets are compared with official values of that scale only.
    """

    province: str
    years: Mapping[int, Mapping[str, float]]
    source: str
    key: str = ""
    baseline_year: int | None = None
    baseline: Mapping[str, float] = field(default_factory=dict)
    rank_of: int | None = None
    scale_year: int | None = None

    def for_year(self, year: int) -> dict[str, float]:
        """The targets in force in ``year`` (empty when none)."""
        return dict(self.years.get(int(year), {}))

    @classmethod
    def from_dict(cls, data: Any, key: str = "", file: str | None = None) -> "Targets":
        """Build from a targets file's content; every problem is reported at once.

        The file has ``province``, ``source``, an optional ``baseline`` (``year`` and values)
        and ``targets``: a list of ``{from: YYYY, to: YYYY, sub1: ..., rank: ...}``; where two
        periods cover a year, the first listed wins.
        """
        if not isinstance(data, Mapping):
            raise ReferenceDataError("a targets file is a mapping with province, source and targets", file=file,
                                     code="reference.targets_form")
        problems: list[str] = []
        for name in ("province", "source"):
            if not isinstance(data.get(name), str) or not data.get(name).strip():
                problems.append(f"'{name}' must be a text")
        periods = data.get("targets", [])
        if not isinstance(periods, list):
            problems.append("'targets' must be a list of {from: YYYY, to: YYYY, sub1: ..., rank: ...}")
            periods = []
        years: dict[int, dict[str, float]] = {}
        for i, period in enumerate(periods):
            where = f"targets[{i}]"
            if not isinstance(period, Mapping):
                problems.append(f"{where}: must be a mapping {{from: YYYY, to: YYYY, ...}}")
                continue
            first, last = period.get("from"), period.get("to")
            if not (_is_year(first) and _is_year(last) and first <= last):
                problems.append(f"{where}: 'from' and 'to' must be years, from <= to (got {first!r}, {last!r})")
                continue
            values = _values(period, where, problems, skip=("from", "to"))
            for year in range(first, last + 1):
                years.setdefault(year, values)
        baseline_year, baseline = None, {}
        if data.get("baseline") is not None:
            raw = data["baseline"]
            if not isinstance(raw, Mapping) or not _is_year(raw.get("year")):
                problems.append("baseline: must be a mapping with a 'year'")
            else:
                baseline_year, baseline = raw["year"], _values(raw, "baseline", problems, skip=("year",))
        for name in ("rank_of", "scale_year"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                problems.append(f"'{name}' must be a whole number, not {value!r}")
        if problems:
            raise ReferenceDataError(f"the targets file '{key or file}' cannot be used", code="reference.targets_invalid",
                                     params={"name": key or file, "problems": "; ".join(problems)},
                                     hint="; ".join(problems), file=file)
        return cls(province=data["province"], source=data["source"], key=key,
                   years={y: dict(v) for y, v in sorted(years.items())}, baseline_year=baseline_year,
                   baseline=baseline, rank_of=data.get("rank_of"), scale_year=data.get("scale_year"))


def _is_year(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100


def _values(raw: Mapping, where: str, problems: list[str], skip: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for k, v in raw.items():
        if k in skip:
            continue
        if k not in TARGET_KEYS:
            problems.append(f"{where}: unknown key {k!r} (known: {', '.join(TARGET_KEYS)})")
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            problems.append(f"{where}.{k}: must be a number, not {v!r}")
        else:
            out[k] = float(v)
    return out


def load_targets(key: str, folder: Path | None = None) -> Targets | None:
    """The targets of a province (``survey/data/targets/<key>.yaml``), or None when it has no file.

    Raises
    ------
    ReferenceDataError
        When ``key`` is not a file key (``bac_giang``) or the file is not a valid targets file.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ReferenceDataError(f"{key!r} is not a targets key", code="reference.bad_key",
                                 params={"key": repr(key)}, hint="the name of a file in data/targets/, "
                                                                       "e.g. 'bac_giang'")
    path = Path(folder or targets_folder()) / f"{key}.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReferenceDataError(f"cannot read the targets file: {exc}", file=str(path), code="reference.unreadable",
                                 params={"reason": str(exc)}) from None
    return Targets.from_dict(data, key=key, file=str(path))


def targets_for(targets: Targets | Mapping | None, year: int) -> dict[str, float]:
    """Targets in force in ``year``: sub1..sub4 (minimum scores) and rank (at most); empty when none.

    ``targets`` is what :func:`load_targets` returns (a targets file's content as a plain
    mapping is also taken).
    """
    if not targets:
        return {}
    if not isinstance(targets, Targets):
        targets = Targets.from_dict(targets)
    return targets.for_year(year)
