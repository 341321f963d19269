"""Places over time: which locality list a wave uses, and how districts and communes compare.

On 1 July 2025 Vietnam abolished the district level and Bac Giang became part of the new Bac Ninh.
A wave before 2025-07 records a firm's district (``localities/bac_giang.yaml``), a wave from 2025-07
its commune or ward (``localities/bac_ninh_2025.yaml``, the 99 units of Resolution 1658/NQ-UBTVQH15,
with their official codes). :func:`locality_for` picks the list of a province and a period
(the questionnaire loader does the same with ``load_questionnaire(..., period=...)``).

Analysis over time compares the two at the level both support, the **former district**:

    A district answer is its own former district. A commune or ward counts in the 2023 district
    of the former unit whose official code it kept (the statistics office gives a new unit the
    code of one of the units it was formed from).

The rule and its table come from ``survey/data/reference/communes_<key>.csv`` (sources in
``SOURCES_localities.md`` beside it); :func:`load_crosswalk` reads them and :func:`to_former_district`
applies them. A unit formed from two districts (e.g. Phường Đa Mai) counts in one of them only:
the CSV's ``former_districts`` and ``predecessors`` columns keep the full picture.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import QuestionnaireError
from .i18n import _
from .questionnaire import Locality, Questionnaire, default_root, load_locality
from .reference import data_path

__all__ = ["Crosswalk", "locality_for", "communes_path", "load_communes", "load_crosswalk", "to_former_district",
           "crosswalk_rule", "check_wave_locality", "other_list_unit", "FORMER_COLUMNS"]

#: the columns :func:`to_former_district` adds
FORMER_COLUMNS = ("former_list", "former_district", "former_district_vi", "former_district_en")
_PREFIXES = ("Huyện ", "Thị xã ", "Thành phố ")


def locality_for(province: str, period: str, root: Path | None = None) -> Locality:
    """The locality list a wave of ``province`` in ``period`` (``YYYY-MM``) uses.

    Raises
    ------
    QuestionnaireError
        No list of the province covers the period (e.g. Hai Duong from 2025-07: no commune list shipped).
    """
    return load_locality(province, root, period=period)


def communes_path(key: str) -> Path:
    """The shipped table of a commune-level list: ``survey/data/reference/communes_<key>.csv``."""
    return data_path("data", "reference", f"communes_{key}.csv")


def load_communes(key: str = "bac_ninh_2025", path: str | Path | None = None) -> pd.DataFrame:
    """The table of a commune-level list: code, names, kind, former province and districts, area, population.

    ``area_km2`` is in km², ``population`` in persons; both are empty where no source gives them.

    Raises
    ------
    QuestionnaireError
        The file is missing.
    """
    path = Path(path) if path is not None else communes_path(key)
    if not path.is_file():
        raise QuestionnaireError(f"no commune table for the locality list '{key}'", file=str(path),
                                 code="places.no_table", params={"key": key, "file": str(path)})
    return pd.read_csv(path, dtype={"code": int, "district_2023_gso": int, "population": "Int64"}, encoding="utf-8")


def _plain(name: str) -> str:
    """A district name without its kind, for matching ("Huyện Việt Yên" and "Việt Yên" match)."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass(frozen=True)
class Crosswalk:
    """From a commune-level list to the district lists it follows.

    Attributes
    ----------
    locality : Locality
        The commune-level list.
    former : dict
        The district lists it follows, by key (e.g. ``bac_giang``, ``bac_ninh``).
    table : DataFrame
        One row per commune or ward: ``code``, ``former_list``, ``former_district`` (its code in
        that list) and its names.
    """

    locality: Locality
    former: dict[str, Locality]
    table: pd.DataFrame


def _district_code(units: Locality, name: str) -> int | None:
    wanted = _plain(name)
    return next((c.code for c in units.units.choices if _plain(c.label.vi) == wanted), None)


def load_crosswalk(locality: Locality | str = "bac_ninh_2025", root: Path | None = None,
                   table: str | Path | None = None) -> Crosswalk:
    """The crosswalk of a commune-level list to the district lists it ``follows``.

    Raises
    ------
    QuestionnaireError
        The list is not commune-level, or a unit's former district is in none of the district lists.
    """
    root = root or default_root()
    loc = locality if isinstance(locality, Locality) else load_locality(locality, root)
    if loc.level != "commune" or not loc.follows:
        raise QuestionnaireError(f"the locality list '{loc.key}' is not a commune list that follows district lists",
                                 code="places.not_commune_list", params={"key": loc.key})
    former = {key: load_locality(key, root) for key in loc.follows}
    by_province = {f.province_vi: f for f in former.values()}
    rows = []
    for rec in load_communes(loc.key, table).itertuples(index=False):
        district = by_province.get(rec.former_province)
        code = _district_code(district, rec.district_2023) if district else None
        if code is None:
            raise QuestionnaireError(f"{rec.name_vi}: former district {rec.district_2023} ({rec.former_province}) "
                                     f"is in none of the lists {', '.join(former)}", code="places.unknown_district",
                                     params={"unit": rec.name_vi, "district": rec.district_2023,
                                             "province": rec.former_province, "lists": ", ".join(former)})
        label = next(c.label for c in district.units.choices if c.code == code)
        rows.append({"code": int(rec.code), "former_list": district.key, "former_district": code,
                     "former_district_vi": label.vi, "former_district_en": label.en})
    return Crosswalk(loc, former, pd.DataFrame(rows))


def crosswalk_rule(lang: str = "vi") -> str:
    """The rule by which districts and communes are compared, in ``lang``."""
    return _("places.rule", lang)


def to_former_district(codes: pd.Series, locality: Locality, crosswalk: Crosswalk | None = None) -> pd.DataFrame:
    """The former district of each locality answer, for analysis across the 1 July 2025 change.

    Parameters
    ----------
    codes : Series
        Locality answer codes (floats or ints; missing stays missing).
    locality : Locality
        The list the codes belong to (the wave's list: ``Questionnaire.locality``).
    crosswalk : Crosswalk, optional
        For a commune-level list; default :func:`load_crosswalk` of that list.

    Returns
    -------
    DataFrame
        Indexed like ``codes``, with :data:`FORMER_COLUMNS`: the district list's key, the district's
        code in it and its names. A district answer maps to itself; a code of no unit gives missing values.
    """
    if locality.level == "district":
        units = {c.code: c.label for c in locality.units.choices}
        table = pd.DataFrame([{"code": k, "former_list": locality.key, "former_district": k,
                               "former_district_vi": v.vi, "former_district_en": v.en} for k, v in units.items()])
    else:
        table = (crosswalk or load_crosswalk(locality)).table
    lookup = table.set_index("code")
    keys = pd.to_numeric(codes, errors="coerce")
    out = lookup.reindex(keys.to_numpy()).reset_index(drop=True)
    out.index = codes.index
    out["former_district"] = out["former_district"].astype("Int64")
    return out[list(FORMER_COLUMNS)]


def check_wave_locality(qn: Questionnaire, period: str) -> None:
    """Refuse a questionnaire loaded for one period (``load_questionnaire(..., period=)``) whose
    locality list is not the one of the wave's ``period``. A questionnaire loaded without a period
    carries the list its caller chose and is not checked here (its answers still are, code by code).

    Raises
    ------
    QuestionnaireError
        ``questionnaire.locality_wave``: e.g. the district list of Bac Giang for a wave of 2025-12.
    """
    loc = qn.locality
    if qn.period is not None and loc is not None and not loc.covers(str(period)):
        raise QuestionnaireError(f"the locality list '{loc.key}' ({loc.level}, {loc.validity}) is not the one "
                                 f"of the wave {period}", hint="load the questionnaire for the wave's period",
                                 code="questionnaire.locality_wave",
                                 params={"list": loc.key, "validity": loc.validity, "period": str(period)})


def _related(loc: Locality, root: Path) -> tuple[Locality, ...]:
    """The lists before and after ``loc`` (those it follows, and those that follow it)."""
    files = tuple((p.stem, p.stat().st_mtime_ns) for p in sorted((root / "localities").glob("*.yaml")))
    return _related_cached(loc.key, loc.follows, str(root), files)


@lru_cache(maxsize=32)
def _related_cached(key: str, follows: tuple[str, ...], root: str, files: tuple) -> tuple[Locality, ...]:
    # cached by the folder's files and their times: a load with thousands of bad codes reads them once
    out = []
    for stem, _mtime in files:
        if stem == key:
            continue
        try:
            other = load_locality(stem, Path(root))
        except QuestionnaireError:
            continue
        if other.key in follows or key in other.follows:
            out.append(other)
    return tuple(out)


def other_list_unit(qn: Questionnaire, value: float, root: Path | None = None) -> dict | None:
    """For a locality code that is not in the wave's list: the unit it is in the list before or after.

    Returns the problem parameters of ``ingest.reason.locality_other_list`` (``unit``,
    ``other_list``, ``other_validity``, ``list``, ``validity``), or None when the code is in no
    related list (then it is simply an unknown code).
    """
    loc = qn.locality
    if loc is None or value != value or float(value) != int(value):
        return None
    folder = qn.source.parent if qn.source is not None and (qn.source.parent / "localities").is_dir() else None
    for other in _related(loc, folder or root or default_root()):
        label = next((c.label for c in other.units.choices if c.code == int(value)), None)
        if label is not None:
            return {"unit": label.vi, "other_list": other.key, "other_validity": other.validity,
                    "list": loc.key, "validity": loc.validity}
    return None
