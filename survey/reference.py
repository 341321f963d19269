"""Reference data shipped with the package, each row with its source.

``data/reference/`` holds the official PGI figures that could be verified
(``official_pgi.csv``; partial, every row names a source key explained in
``SOURCES.md``) and the 63 provinces with the unit each belongs to after the
merger of 1 July 2025 (``provinces.csv``).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

__all__ = ["load_provinces", "load_official", "province_names", "sources_text"]

_PKG = "survey"


def _path(name: str):
    return resources.files(_PKG).joinpath("data", "reference", name)


def load_provinces() -> pd.DataFrame:
    """The 63 provinces: ``province`` (English), ``province_vi``, ``province_from_2025``."""
    with _path("provinces.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str)


def load_official() -> pd.DataFrame:
    """Official PGI figures: year, province, measure (sub1..sub4, total), score, rank, source."""
    with _path("official_pgi.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"province": str, "measure": str, "source": str})


@lru_cache(maxsize=1)
def province_names() -> frozenset[str]:
    """English names of every province, before and after the 2025 merger."""
    df = load_provinces()
    return frozenset(df["province"]) | frozenset(df["province_from_2025"])


def sources_text() -> str:
    """``SOURCES.md``: where each source key of ``official_pgi.csv`` comes from."""
    return _path("SOURCES.md").read_text(encoding="utf-8")
