"""Reference data shipped with the package: provinces, the 2025 merger, official figures."""
from __future__ import annotations

import re

from survey.reference import load_official, load_provinces, province_names, sources_text


def test_63_provinces_merge_into_34():
    df = load_provinces()
    assert len(df) == 63 and df["province"].is_unique
    assert df["province_from_2025"].nunique() == 34
    assert df.set_index("province").loc["Bac Giang", "province_from_2025"] == "Bac Ninh"
    assert set(df["province_from_2025"]) <= set(df["province"])
    assert "Bắc Giang" in set(df["province_vi"])


def test_every_official_row_has_a_documented_source():
    official = load_official()
    keys = set(re.findall(r"^\| (S_[A-Z0-9]+) \|", sources_text(), flags=re.M))
    assert len(official) > 200
    assert official["source"].notna().all()
    assert set(official["source"]) <= keys
    assert set(official["province"]) <= province_names()
    bg = official[(official.province == "Bac Giang") & (official.year == 2022)].set_index("measure")
    assert bg.loc["total", "score"] == 16.43 and bg.loc["sub1", "score"] == 3.45
