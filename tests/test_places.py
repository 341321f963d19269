"""The new Bac Ninh's communes and wards, the list a wave uses, and the crosswalk to former districts.

Expected values are written by hand from the sources in survey/data/reference/SOURCES_localities.md
and from the geography of the two provinces (e.g. Phường Chũ is the former Chũ township of Lục Ngạn,
Phường Yên Dũng the former Nham Biền/Tân Liễu of Yên Dũng district), never from the functions tested.
"""
from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from survey.errors import QuestionnaireError
from survey.places import (FORMER_COLUMNS, check_wave_locality, crosswalk_rule, load_communes, load_crosswalk,
                           locality_for, other_list_unit, to_former_district)
from survey.questionnaire import load_locality, load_questionnaire
from survey.reference import data_path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "survey" / "data" / "reference" / "communes_bac_ninh_2025.csv"
LOCALITIES = ROOT / "survey" / "questionnaires" / "localities"


def _rows() -> list[dict]:
    with TABLE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- the reference table


def test_99_units_are_33_wards_and_66_communes_with_distinct_official_codes():
    rows = _rows()
    assert len(rows) == 99
    kinds = [r["kind"] for r in rows]
    assert kinds.count("ward") == 33 and kinds.count("commune") == 66
    assert all(r["name_vi"].startswith("Phường " if r["kind"] == "ward" else "Xã ") for r in rows)
    codes = [int(r["code"]) for r in rows]
    assert len(set(codes)) == 99
    # codes of the statistics office: Bac Giang's units were numbered 07xxx, Bac Ninh's 09xxx
    assert {r["former_province"] for r in rows} == {"Bắc Giang", "Bắc Ninh"}
    assert all((7000 <= int(r["code"]) < 8000) == (r["former_province"] == "Bắc Giang") for r in rows)
    # Tuấn Đạo was not merged (Resolution 1658): it is its own only predecessor
    tuan_dao = next(r for r in rows if r["name_vi"] == "Xã Tuấn Đạo")
    assert tuan_dao["predecessors"] == "Xã Tuấn Đạo (Huyện Sơn Động)"


def test_names_are_nfc_and_the_ascii_name_is_the_name_without_marks():
    for r in _rows():
        assert unicodedata.normalize("NFC", r["name_vi"]) == r["name_vi"]
        assert r["name_ascii"].isascii()
        assert len(r["name_ascii"].split()) == len(r["name_vi"].split())
    assert next(r for r in _rows() if r["code"] == "7210")["name_ascii"] == "Phuong Bac Giang"


def test_every_former_district_is_in_the_pre_merger_lists_of_bac_giang_and_bac_ninh():
    lists = {"Bắc Giang": load_locality("bac_giang"), "Bắc Ninh": load_locality("bac_ninh")}
    plain = {prov: {c.label.vi.removeprefix("Thành phố ").removeprefix("Thị xã ") for c in loc.units.choices}
             for prov, loc in lists.items()}
    for r in _rows():
        name = r["district_2023"]
        for prefix in ("Huyện ", "Thành phố ", "Thị xã "):
            name = name.removeprefix(prefix)
        assert name in plain[r["former_province"]], r["name_vi"]
    # the 2023 lists: 10 districts of Bac Giang, 8 of Bac Ninh, each with at least one successor
    assert len(plain["Bắc Giang"]) == 10 and len(plain["Bắc Ninh"]) == 8
    used = {(r["former_province"], r["district_2023"]) for r in _rows()}
    assert len(used) == 18


def test_area_everywhere_population_only_where_sourced():
    table = load_communes()
    assert table["area_km2"].gt(0).all() and table["area_km2"].notna().all()
    # PBPL's first 25 rows (Chi Lăng … Dương Hưu); the rest could not be sourced and stays empty
    assert table["population"].notna().sum() == 25
    assert table.set_index("name_vi").at["Xã Đại Đồng", "population"] == 84258
    assert pd.isna(table.set_index("name_vi").at["Phường Bắc Giang", "population"])
    sources = (TABLE.parent / "SOURCES_localities.md").read_text(encoding="utf-8")
    for key in ("R1658", "PBPL", "VP2025", "VAU", "VP2023", "phobienphapluat.vn"):
        assert key in sources


#: areas (km²) as printed by PBPL (phobienphapluat.vn), the second source, for the 25 rows that could be read
PBPL_AREAS = {"Chi Lăng": 23.39, "Phù Lãng": 28.15, "Yên Phong": 27.89, "Văn Môn": 15.26, "Tam Giang": 14.93,
              "Yên Trung": 18.34, "Tam Đa": 20.52, "Tiên Du": 20.97, "Liên Bão": 19.82, "Tân Chi": 18.11,
              "Đại Đồng": 19.88, "Phật Tích": 16.83, "Gia Bình": 29.98, "Nhân Thắng": 22.14, "Đại Lai": 15.32,
              "Cao Đức": 19.76, "Đông Cứu": 20.39, "Lương Tài": 24.69, "Lâm Thao": 26.26, "Trung Chính": 27.64,
              "Trung Kênh": 27.32, "Đại Sơn": 76.38, "Sơn Động": 78.72, "Tây Yên Tử": 132.76, "Dương Hưu": 142.59}


def test_the_two_sources_of_area_agree_where_both_can_be_read():
    table = load_communes().assign(short=lambda t: t["name_vi"].str.split(" ", n=1).str[1]).set_index("short")
    assert {k: table.at[k, "area_km2"] for k in PBPL_AREAS} == pytest.approx(PBPL_AREAS, abs=0.005)
    assert table.loc[list(PBPL_AREAS), "population"].notna().all()  # the rows PBPL gave, population included


def test_the_questionnaire_list_is_the_table():
    data = yaml.safe_load((LOCALITIES / "bac_ninh_2025.yaml").read_text(encoding="utf-8"))
    units = {u["code"]: u["vi"] for u in data["units"]}
    assert units == {int(r["code"]): r["name_vi"] for r in _rows()}
    assert data["valid_from"] == "2025-07" and data["follows"] == ["bac_giang", "bac_ninh"]


# ---------------------------------------------------------------- the list of a wave


@pytest.mark.parametrize("period, key, n", [("2023-11", "bac_giang", 10), ("2025-06", "bac_giang", 10),
                                            ("2025-07", "bac_ninh_2025", 99), ("2026-03", "bac_ninh_2025", 99)])
def test_a_wave_gets_the_list_of_its_period(period, key, n):
    loc = locality_for("bac_giang", period)
    assert (loc.key, len(loc.units.choices)) == (key, n)


def test_a_period_no_list_covers_is_refused_by_name():
    with pytest.raises(QuestionnaireError) as err:
        locality_for("hai_duong", "2025-12")  # now part of Hai Phong: no commune list shipped
    assert err.value.code == "questionnaire.locality_period"
    assert err.value.params["period"] == "2025-12"
    with pytest.raises(QuestionnaireError) as err:
        locality_for("bac_ninh_2025", "2025-03")
    assert err.value.code == "questionnaire.locality_period"


def test_a_questionnaire_with_another_period_s_list_is_refused():
    district_form = load_questionnaire("monthly_difficulties", period="2025-06")
    check_wave_locality(district_form, "2025-06")
    with pytest.raises(QuestionnaireError) as err:
        check_wave_locality(district_form, "2025-12")
    assert err.value.code == "questionnaire.locality_wave"


def test_a_code_of_the_other_list_is_named():
    communes = load_questionnaire("monthly_difficulties", period="2025-12")
    districts = load_questionnaire("monthly_difficulties", period="2025-01")
    assert other_list_unit(communes, 3.0)["unit"] == "Hiệp Hòa"
    assert other_list_unit(districts, 7525.0)["unit"] == "Phường Chũ"
    assert other_list_unit(districts, 9187.0)["unit"] == "Phường Kinh Bắc"
    assert other_list_unit(communes, 14.0) is None  # in no list: an ordinary unknown code


# ---------------------------------------------------------------- the crosswalk


@pytest.mark.parametrize("code, former_list, district", [
    (7681, "bac_giang", 9),    # Phường Yên Dũng: Nham Biền, Tân Liễu, Yên Lư of Yên Dũng district
    (7525, "bac_giang", 6),    # Phường Chũ: Chũ township of Lục Ngạn (Chũ town was carved from it in 2024)
    (7663, "bac_giang", 7),    # Xã Tuấn Đạo, Sơn Động, not merged
    (7210, "bac_giang", 1),    # Phường Bắc Giang: the old city centre
    (7777, "bac_giang", 2),    # Phường Việt Yên: Bích Động township
    (9187, "bac_ninh", 256),   # Phường Kinh Bắc: centre of the former Bắc Ninh city
    (9496, "bac_ninh", 264),   # Xã Lương Tài: Thứa township
])
def test_communes_map_to_their_former_district(code, former_list, district):
    loc = locality_for("bac_giang", "2025-12")
    out = to_former_district(pd.Series([float(code)]), loc)
    assert list(out.columns) == list(FORMER_COLUMNS)
    assert (out.at[0, "former_list"], out.at[0, "former_district"]) == (former_list, district)


def test_districts_map_to_themselves_and_unknown_codes_to_missing():
    loc = locality_for("bac_giang", "2025-03")
    out = to_former_district(pd.Series([5.0, None, 77.0], index=[10, 11, 12]), loc)
    assert list(out.index) == [10, 11, 12]
    assert (out.at[10, "former_list"], out.at[10, "former_district"], out.at[10, "former_district_vi"]) == (
        "bac_giang", 5, "Lục Nam")
    assert out.loc[[11, 12], "former_district"].isna().all()


def test_every_bac_giang_district_has_successors_and_the_crosswalk_covers_the_99():
    table = load_crosswalk().table
    assert len(table) == 99 and table["code"].is_unique
    per = table[table["former_list"] == "bac_giang"].groupby("former_district").size()
    assert sorted(per.index) == list(range(1, 11))
    # Sơn Động: its 7 merged communes plus Tuấn Đạo; Lục Ngạn (2023) includes the later Chũ town: 11
    assert per[7] == 8 and per[6] == 11
    # former Bac Ninh: its city 5, Từ Sơn 4, Thuận Thành 6, Quế Võ 7, Yên Phong 5, Tiên Du 5, Gia Bình 5, Lương Tài 4
    assert per.sum() == 58 and (table["former_list"] == "bac_ninh").sum() == 41


def test_the_rule_reads_in_both_languages():
    assert "huyện" in crosswalk_rule("vi") and "mã" in crosswalk_rule("vi")
    assert "former district" in crosswalk_rule("en")


# ---------------------------------------------------------------- margins


def test_margins_count_each_former_bac_giang_commune_in_its_district_once():
    margins = yaml.safe_load(data_path("data", "margins", "bac_giang_2024.yaml").read_text(encoding="utf-8"))
    assert margins["illustrative"] is True and "not a published statistic" in margins["source"]
    categories = margins["margins"]["locality"]["categories"]
    table = load_crosswalk().table
    bac_giang = table[table["former_list"] == "bac_giang"]
    for _, row in bac_giang.iterrows():
        holders = [c["codes"][0] for c in categories.values() if row["code"] in c["codes"]]
        assert holders == [row["former_district"]], row["code"]
    listed = {code for c in categories.values() for code in c["codes"][1:]}
    assert listed == set(bac_giang["code"])


# ---------------------------------------------------------------- ingest of a wave by its period


def _file(tmp_path, period: str, n: int = 4, seed: int = 1):
    from tests.fixtures import make_answers

    qn = load_questionnaire("monthly_difficulties", period=period)
    answers = make_answers(qn, n, seed=seed)
    return qn, answers


def test_a_district_code_in_a_december_2025_wave_is_quarantined_by_name(tmp_path):
    from survey.ingest import ingest_file
    from survey.store import Store
    from tests.fixtures import to_kobo_csv

    qn, answers = _file(tmp_path, "2025-12")
    answers.loc[2, "locality"] = 3.0  # Hiệp Hòa, a district of the list before 1 July 2025
    path = to_kobo_csv(answers, qn, tmp_path / "dec.csv")
    result = ingest_file(path, "monthly_difficulties", "2025-12", store=Store(f"sqlite:///{tmp_path / 's.sqlite'}"))
    assert (result.accepted, result.quarantined) == (3, 1)
    [problem] = result.problems.to_dict("records")
    assert (problem["row"], problem["question"], problem["reason"]) == (4, "locality", "locality_other_list")
    en, vi = result.messages("en")[0], result.messages("vi")[0]
    assert "Hiệp Hòa" in en and "'bac_giang'" in en and "'bac_ninh_2025'" in en and "commune or ward" in en
    assert "Hiệp Hòa" in vi and "xã, phường" in vi


def test_a_commune_code_in_a_wave_before_july_2025_is_quarantined_by_name(tmp_path):
    from survey.ingest import ingest_file
    from survey.store import Store
    from tests.fixtures import to_kobo_csv

    qn, answers = _file(tmp_path, "2025-06")
    answers.loc[0, "locality"] = 7525.0  # Phường Chũ exists only from 1 July 2025
    answers.loc[1, "locality"] = 77.0    # in no list: an ordinary unknown code
    path = to_kobo_csv(answers, qn, tmp_path / "jun.csv")
    result = ingest_file(path, "monthly_difficulties", "2025-06", store=Store(f"sqlite:///{tmp_path / 's.sqlite'}"))
    reasons = dict(zip(result.problems["row"], result.problems["reason"]))
    assert reasons == {2: "locality_other_list", 3: "unknown_code"}
    assert "Phường Chũ" in result.messages("en")[0]


def test_a_questionnaire_loaded_for_another_period_is_refused_before_anything_is_stored(tmp_path):
    from survey.errors import IngestError
    from survey.ingest import ingest_file
    from survey.store import Store
    from tests.fixtures import to_kobo_csv

    qn, answers = _file(tmp_path, "2025-06")
    path = to_kobo_csv(answers, qn, tmp_path / "jun.csv")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    with pytest.raises(IngestError) as err:
        ingest_file(path, qn, "2025-12", store=store)
    assert err.value.code == "questionnaire.locality_wave"
    assert store.read_quarantine().empty
    # loaded without a period, the caller's list is used as it is (and checked code by code)
    assert ingest_file(path, load_questionnaire("monthly_difficulties"), "2025-12", store=store).accepted == 4


# ---------------------------------------------------------------- the demo


def test_the_demo_answers_districts_before_july_2025_and_communes_from_then(tmp_path):
    from survey.demo import write_demo

    files = write_demo(tmp_path, monthly_n=20, feedback_n=30)
    communes = set(load_communes()["code"])
    crosswalk = load_crosswalk().table.set_index("code")["former_district"]
    for period, path in files.monthly:
        codes = pd.read_csv(path, sep=";", dtype=str)["profile/locality"].astype(float)
        if period < "2025-07":
            assert set(codes) - {14.0} <= set(range(1, 11)), period  # month 2 carries a bad code 14
        else:
            bad = {3.0} if period == "2025-07" else set()  # month 7 carries a district code after 1 July
            assert set(codes) - bad <= communes and set(codes) & communes, period
            assert set(crosswalk.reindex(sorted(set(codes) - bad))) <= set(range(1, 11))  # former Bac Giang only
