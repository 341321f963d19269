"""Official PGI tables: importer on good and bad tables, the panel, targets, and the score command."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.reference import load_provinces
from survey.notes import note_text
from survey.scoring import (  # noqa: I001
    official_record,
    OfficialError, last_official, load_targets, match_province, official_panel, read_official_table,
    summary_text, targets_for,
)
from survey.store import Store


def full_table(year: int, seed: int = 1, names: str = "en") -> pd.DataFrame:
    """A complete table as VCCI publishes it: every province, 4 sub-indices, total, rank."""
    p = load_provinces()
    provinces = sorted(p["province_from_2025"].unique()) if year >= 2025 else list(p["province"])
    if names == "vi" and year < 2025:
        provinces = list(p["province_vi"])
    rng = np.random.default_rng(seed)
    subs = np.round(rng.uniform(2, 8, size=(len(provinces), 4)), 2)
    frame = pd.DataFrame(subs, columns=["sub1", "sub2", "sub3", "sub4"])
    frame.insert(0, "province", provinces)
    frame["total"] = frame[["sub1", "sub2", "sub3", "sub4"]].sum(axis=1).round(2)
    frame["rank"] = frame["total"].rank(ascending=False, method="min").astype(int)
    return frame


def test_province_names_in_any_spelling():
    assert match_province("Tỉnh Bắc Giang", 2024) == "Bac Giang"
    assert match_province("BAC GIANG", 2024) == "Bac Giang"
    assert match_province("TP. Hồ Chí Minh", 2024) == "Ho Chi Minh City"
    assert match_province("Đà Nẵng", 2023) == "Da Nang"
    assert match_province("Hải Dương", 2025) is None  # merged into Hai Phong on 1 July 2025
    assert match_province("Hải Phòng", 2025) == "Hai Phong"


@pytest.mark.parametrize("year, names, count", [(2024, "en", 63), (2024, "vi", 63), (2025, "en", 34)])
def test_good_tables(tmp_path, year, names, count):
    path = tmp_path / "t.csv"
    full_table(year, names=names).to_csv(path, index=False)
    long, notes = read_official_table(path, year)
    assert long["province"].nunique() == count and notes == []
    assert set(long["measure"]) == {"sub1", "sub2", "sub3", "sub4", "total"}
    assert long[long["measure"] == "total"]["rank"].notna().all()
    assert long[long["measure"] != "total"]["rank"].isna().all()


def test_xlsx_with_vietnamese_headers(tmp_path):
    t = full_table(2024).rename(columns={"province": "Tỉnh/thành phố", "total": "Tổng điểm", "rank": "Xếp hạng",
                                         "sub1": "CSTP1", "sub2": "CSTP2", "sub3": "CSTP3", "sub4": "CSTP4"})
    t.to_excel(tmp_path / "t.xlsx", index=False)
    long, _ = read_official_table(tmp_path / "t.xlsx", 2024)
    assert len(long) == 63 * 5


def _problems(tmp_path, frame: pd.DataFrame, year: int) -> str:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(OfficialError) as err:
        read_official_table(path, year)
    return str(err.value)


def test_wrong_sum_is_an_error_from_2023_and_a_note_for_the_2022_pilot(tmp_path):
    t = full_table(2023)
    t.loc[5, "total"] += 0.05
    text = _problems(tmp_path, t, 2023)
    assert f"{t.loc[5, 'province']}: total" in text and "differs from the sum of sub-indices" in text
    assert ":7: total:" in text  # spreadsheet row 7 (header is row 1)
    t22 = full_table(2022)
    t22.loc[5, "total"] += 0.05
    t22["rank"] = t22["total"].rank(ascending=False, method="min").astype(int)
    t22.to_csv(tmp_path / "p.csv", index=False)
    long, notes = read_official_table(tmp_path / "p.csv", 2022)
    assert len(notes) == 1 and "pilot edition" in note_text(notes[0], "en") and len(long) == 63 * 5


def test_unknown_province_duplicates_and_ranks(tmp_path):
    t = full_table(2024)
    t.loc[0, "province"] = "Atlantis"
    t.loc[2, "province"] = t.loc[1, "province"]
    t.loc[[3, 4], "rank"] = t.loc[[4, 3], "rank"].to_numpy()  # swap two ranks
    text = _problems(tmp_path, t, 2024)
    assert "unknown province 'Atlantis' for 2024" in text
    assert f"province '{t.loc[1, 'province']}' appears more than once" in text
    assert "has a higher total than rank" in text
    merged_away = full_table(2025).assign(province=lambda f: f["province"].replace({"Bac Ninh": "Bắc Giang"}))
    assert "unknown province 'Bắc Giang' for 2025" in _problems(tmp_path, merged_away, 2025)


def test_panel_prefers_imported_figures(tmp_path):
    t = full_table(2024)
    t.to_csv(tmp_path / "t.csv", index=False)
    long, _ = read_official_table(tmp_path / "t.csv", 2024)
    panel = official_panel(long)
    bg = t[t["province"] == "Bac Giang"].iloc[0]
    assert last_official(panel, "Bac Giang", "sub1") == (bg["sub1"], 2024)
    assert last_official(official_panel(), "Bac Giang", "sub1") == (6.41, 2024)  # shipped, source S_TAB
    assert last_official(official_panel(), "Bac Giang", "total", before=2023) == (16.43, 2022)


def test_targets_of_the_demo_province():
    targets = load_targets("bac_giang")
    assert targets_for(targets, 2024) == {"sub1": 3.95, "sub2": 6.01, "sub3": 4.68, "sub4": 2.49, "rank": 10.0}
    assert targets_for(targets, 2027) == {}
    assert load_targets("atlantis") is None


def test_the_official_record_completes_totals_from_the_same_year_and_names_year_and_source():
    out = official_record(official_panel(), "Bac Giang", load_targets("bac_giang")).set_index(["year", "measure"])
    # 2024: only sub-indices were published; the total is their sum, not the 2022 total
    assert out.loc[(2024, "total"), "score"] == pytest.approx(6.41 + 7.34 + 5.02 + 5.90)
    assert bool(out.loc[(2024, "total"), "derived"]) and not bool(out.loc[(2022, "total"), "derived"])
    assert out.loc[(2022, "total"), "score"] == 16.43 and out.loc[(2022, "total"), "source"] == "S_BGPLAN"
    assert out.loc[(2024, "sub1"), "source"] == "S_TAB"
    # the plan's targets sit beside official values only, with the scale they were set on
    assert out.loc[(2024, "sub1"), "target"] == 3.95 and (out["scale_year"] == 2022).all()


def test_official_import_command(tmp_path, capsys):
    full_table(2024).to_csv(tmp_path / "t.csv", index=False)
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert main(["official", "import", str(tmp_path / "t.csv"), "--year", "2024", "--db", db, "--lang", "en"]) == 0
    assert "imported 315 official figures for 2024 (63 provinces)" in capsys.readouterr().out
    assert len(Store(db).read_official()) == 315
    bad = full_table(2024)
    bad.loc[0, "province"] = "Atlantis"
    bad.to_csv(tmp_path / "b.csv", index=False)
    assert main(["official", "import", str(tmp_path / "b.csv"), "--year", "2024", "--db", db]) == 1
    assert "Atlantis" in capsys.readouterr().err


def test_score_command_end_to_end(tmp_path, pgi, capsys):
    from survey import jobs
    from survey.ingest import ingest_file
    from survey.weights import RakingConfig, default_margins_path
    from tests.fixtures import make_answers, to_kobo_csv
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_file(to_kobo_csv(make_answers(pgi, 300, seed=9), pgi, tmp_path / "f.csv"), pgi, "2025-11", store=store)
    with pytest.raises(Exception, match="no weighted responses of 'pgi_feedback' in 2025"):
        jobs.score_year(store, pgi, 2025)
    jobs.weight_wave(store, pgi, "2025-11", RakingConfig(default_margins_path("bac_giang", 2024),
                                                          use=("size_class", "ownership"), n_replicates=30))
    result = jobs.score_year(store, pgi, 2025).value
    text = summary_text(result, "en")
    assert "unofficial estimate" in text and "Minimizing risk" in text and "not VCCI's PGI" in text
    assert ">= 3.95" not in text and "3.95" not in text   # targets are on the official scale: not here
    first = text.splitlines()[1:3]
    assert first[0].startswith("Indicators: weighted share") and "%" in first[1] and "n=" in first[1]
    assert not result.official.empty and (result.official["year"] <= 2025).all()
    out = tmp_path / "score.xlsx"
    assert main(["score", "--year", "2025", "--db", store.url, "--out", str(out), "--no-sensitivity"]) == 0
    table = pd.read_excel(out)
    assert {"kind", "id", "value", "value_ci_low", "estimate", "se", "ci_low", "ci_high", "level", "n", "suppressed",
            "reason"} <= set(table)
    assert "target" not in table and len(table[table["kind"] == "subindex"]) == 4


def test_score_per_period_on_pooled_waves(tmp_path, pgi):
    from survey.ingest import ingest_file
    from survey import jobs
    from survey.scoring import ScoringConfig
    from survey.weights import RakingConfig, default_margins_path
    from tests.fixtures import make_answers, to_kobo_csv
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    for month, seed in (("2025-05", 1), ("2025-11", 2)):
        ingest_file(to_kobo_csv(make_answers(pgi, 150, seed=seed), pgi, tmp_path / f"{month}.csv",
                                uuids=[f"{month}-{i}" for i in range(150)]), pgi, month, store=store)
    jobs.weight_wave(store, pgi, "2025-05..2025-11", RakingConfig(default_margins_path("bac_giang", 2024),
                                                                  use=("size_class", "ownership"), n_replicates=20))
    table = jobs.score_year(store, pgi, 2025, ScoringConfig(sensitivity=False), by="period").value.table
    totals = table[table["kind"] == "total"]
    assert totals["period"].tolist() == ["2025-05", "2025-11"]
    assert totals["n"].tolist() == [150, 150] and totals["se"].notna().all()
