"""The official PGI record: shipped figures, imported tables, and targets.

The package ships the official figures that could be verified
(``survey/data/reference/official_pgi.csv``, each row with a source key).
Full tables, as VCCI publishes them, are imported with :func:`read_official_table`
(CSV or XLSX; province names in Vietnamese or English, with or without
diacritics) and checked: every total equals the sum of its sub-indices within
0.02 from 2023 on (2022 was a pilot and is only noted), ranks follow the
totals, no province is unknown or repeated. Up to 2024 there are 63
provinces; from 2025, the 34 units formed on 1 July 2025.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import Problem, SurveyError
from ..reference import load_official, load_provinces

__all__ = ["OfficialError", "province_key", "match_province", "read_official_table", "official_panel",
           "last_official", "load_targets", "targets_for", "MEASURES", "MERGER_YEAR"]

MEASURES = ("sub1", "sub2", "sub3", "sub4", "total")
MERGER_YEAR = 2025
SUM_TOLERANCE = 0.02


class OfficialError(SurveyError):
    """An official table cannot be imported as it is."""


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


def _name_index(year: int) -> dict[str, str]:
    p = load_provinces()
    index: dict[str, str] = {}
    if year >= MERGER_YEAR:
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
    return index


_ALIASES = {"HCMC": "Ho Chi Minh City", "TP HCM": "Ho Chi Minh City", "Hồ Chí Minh": "Ho Chi Minh City",
            "Thua Thien Hue": "Hue", "Thừa Thiên Huế": "Hue", "BRVT": "Ba Ria - Vung Tau", "Hanoi": "Ha Noi"}


def match_province(name: str, year: int) -> str | None:
    """The English name of a province as the reference list has it for ``year``, or None."""
    return _name_index(year).get(province_key(name))


_COLUMNS = {"province": ("province", "tinh", "tinhthanhpho", "tinhthanh", "diaphuong"),
            "sub1": ("sub1", "subindex1", "chiso1", "cstp1", "minimizingrisk"),
            "sub2": ("sub2", "subindex2", "chiso2", "cstp2", "maintainingstandards"),
            "sub3": ("sub3", "subindex3", "chiso3", "cstp3", "environmentalleadership"),
            "sub4": ("sub4", "subindex4", "chiso4", "cstp4", "environmentalincentives"),
            "total": ("total", "pgi", "tongdiem", "diem", "score"),
            "rank": ("rank", "xephang", "thuhang", "hang")}


def _standard_columns(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    found = {}
    for col in frame.columns:
        key = re.sub(r"[^a-z0-9]+", "", _fold(col))
        for std, names in _COLUMNS.items():
            if key in names and std not in found:
                found[std] = col
    missing = [c for c in ("province", "total") if c not in found]
    if missing:
        raise OfficialError(f"the table has no column for {missing}", file=file,
                            hint="name the columns province, sub1..sub4, total, rank (or their Vietnamese names)")
    return frame.rename(columns={v: k for k, v in found.items()})[list(found)]


def read_official_table(path: str | Path, year: int) -> tuple[pd.DataFrame, list[str]]:
    """Read and check an official PGI table; return it long (year, province, measure, score, rank, source) and notes.

    Raises
    ------
    OfficialError
        Listing every problem: unknown or repeated provinces, totals that differ from
        the sum of sub-indices (from 2023 on), ranks that contradict the totals.
    """
    path = Path(path)
    file = str(path)
    try:
        raw = pd.read_excel(path) if path.suffix.lower() in (".xlsx", ".xlsm") else pd.read_csv(path, encoding="utf-8-sig")
    except Exception as exc:  # pandas raises many kinds on a bad file
        raise OfficialError(f"cannot read the table: {exc}", file=file) from None
    frame = _standard_columns(raw, file)
    problems, notes = [], []
    frame["province_raw"] = frame["province"].astype(str)
    frame["province"] = [match_province(n, year) for n in frame["province_raw"]]
    for i, (raw_name, name) in enumerate(zip(frame["province_raw"], frame["province"]), start=2):
        if pd.isna(name):  # pandas stores a missing match as NaN, not None
            problems.append(Problem(f"unknown province '{raw_name}' for {year}", file, "province", i,
                                    hint="34 provinces from 2025, 63 before" if year >= MERGER_YEAR else None))
    dup = frame["province"].notna() & frame["province"].duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem(f"province '{frame['province'].iloc[i]}' appears more than once", file, "province", i + 2))
    subs = [c for c in ("sub1", "sub2", "sub3", "sub4") if c in frame.columns]
    for c in subs + ["total"] + (["rank"] if "rank" in frame.columns else []):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    if len(subs) == 4:
        gap = (frame[subs].sum(axis=1) - frame["total"]).abs()
        for i in np.flatnonzero((gap > SUM_TOLERANCE).to_numpy()):
            msg = (f"{frame['province_raw'].iloc[i]}: total {frame['total'].iloc[i]:.2f} differs from the sum of "
                   f"sub-indices {frame[subs].iloc[i].sum():.2f}")
            if year >= 2023:
                problems.append(Problem(msg, file, "total", i + 2, hint=f"allowed difference {SUM_TOLERANCE}"))
            else:
                notes.append(msg + f" ({year} was a pilot edition; kept)")
    if "rank" in frame.columns:
        problems += _rank_problems(frame, file)
    if problems:
        raise OfficialError(f"the official table for {year} cannot be imported", problems=problems)
    long = frame.melt(id_vars=["province"] + (["rank"] if "rank" in frame.columns else []),
                      value_vars=subs + ["total"], var_name="measure", value_name="score").dropna(subset=["score"])
    if "rank" not in long.columns:
        long["rank"] = np.nan
    long.loc[long["measure"] != "total", "rank"] = np.nan
    long["year"] = year
    long["source"] = f"import:{path.name}"
    return long[["year", "province", "measure", "score", "rank", "source"]].reset_index(drop=True), notes


def _rank_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    ranked = frame.dropna(subset=["rank", "total"]).sort_values("rank")
    out = []
    totals = ranked["total"].to_numpy()
    for j in range(1, len(ranked)):
        if totals[j] > totals[j - 1] + 1e-9:
            row = ranked.index[j]
            out.append(Problem(f"rank {int(ranked['rank'].iloc[j])} ({ranked['province_raw'].iloc[j]}, "
                               f"{totals[j]:.2f}) has a higher total than rank {int(ranked['rank'].iloc[j - 1])} "
                               f"({totals[j - 1]:.2f})", file, "rank", int(row) + 2))
    return out


def official_panel(imported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Shipped figures plus imported ones; an imported figure replaces a shipped one for the same cell."""
    shipped = load_official()
    if imported is None or imported.empty:
        return shipped
    both = pd.concat([shipped.assign(_order=0), imported.assign(_order=1)])
    both = both.sort_values("_order").drop_duplicates(["year", "province", "measure"], keep="last")
    return both.drop(columns="_order").sort_values(["year", "province", "measure"]).reset_index(drop=True)


def last_official(panel: pd.DataFrame, province: str, measure: str, before: int | None = None) -> tuple[float, int] | None:
    """The province's latest official value of a measure (before ``before``), with its year."""
    rows = panel[(panel["province"] == province) & (panel["measure"] == measure)]
    if before is not None:
        rows = rows[rows["year"] < before]
    if rows.empty:
        return None
    row = rows.sort_values("year").iloc[-1]
    return float(row["score"]), int(row["year"])


def load_targets(province_key_: str, folder: Path | None = None) -> dict | None:
    """The targets file of a province (``survey/data/targets/<key>.yaml``), or None."""
    folder = folder or Path(__file__).resolve().parents[1] / "data" / "targets"
    path = folder / f"{province_key_}.yaml"
    if not path.exists():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def targets_for(targets: dict | None, year: int) -> dict[str, float]:
    """Targets in force in ``year``: sub1..sub4 (minimum scores) and rank (at most)."""
    if not targets:
        return {}
    for t in targets.get("targets", []):
        if t.get("from", -1) <= year <= t.get("to", 9999):
            return {k: float(v) for k, v in t.items() if k in MEASURES + ("rank",)}
    return {}
