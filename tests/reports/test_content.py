"""What the digest and the annual report say (issue 14, items 2, 4 and 5): Vietnamese first, no internal
codes, the header, the numbers checked against independent computations, and the months without difficulty."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import yaml

from survey import jobs
from survey.i18n import format_date
from survey.questionnaire import load_questionnaire
from survey.reports import build_digest
from survey.reports.annual import _forecast_section, annual_document
from survey.reports.blocks import Section
from survey.store import Store
from tests.reports.helpers import (
    MARGINS, PERIOD, html_text, monthly_store, outputs_text, pdf_text, squeeze, xlsx_cells,
)

#: words of the code that must never reach a reader
CODES = re.compile(r"\bsub[1-4]\b|p_top|most_likely_rank|rank_80|agriculture_services|sector_group|size_class|"
                   r"mean_reversion|large_200_plus|son_dong_luc_ngan|\bJK1\b|pi80_|p_improve|p_target|"
                   r"\bnan\b|\bNaN\b|\bNone\b")


@pytest.mark.parametrize("stem", ["digest_2025-12", "pgi_estimate_2025"])
def test_no_internal_code_reaches_a_reader(demo_reports, stem):
    out = demo_reports[0]
    texts = {"html": html_text(out / f"{stem}.html"), "pdf": pdf_text(out / f"{stem}.pdf"),
             "xlsx": " | ".join(xlsx_cells(out / f"{stem}.xlsx"))}
    for kind, text in texts.items():
        assert CODES.findall(text) == [], kind


def test_the_annual_report_reads_in_order_in_vietnamese(demo_reports):
    out, _digest, annual = demo_reports
    report = annual.value
    doc = annual_document(report, "vi")
    assert [s.key for s in doc.sections] == ["key", "indicators", "index", "official", "forecast", "method", "notes"]
    assert isinstance(_forecast_section(report, "vi"), Section)
    assert doc.province == "Bắc Giang (nay thuộc tỉnh Bắc Ninh)" and doc.period == "năm 2025"
    text = html_text(out / "pgi_estimate_2025.html")
    total = report.scores.table.query("kind == 'total'").iloc[0]
    shown = f"{total['estimate']:.2f}".replace(".", ",")           # Vietnamese decimal comma
    assert f"Chỉ số của Hiệp hội (thang 0–40): {shown} điểm" in text
    index = next(t for t in doc.tables() if t.sheet == "Chỉ số của Hiệp hội")
    assert index.rows[-1][0] == "Chỉ số của Hiệp hội (thang 0–40)" and "Tổng điểm PGI" not in index.rows[-1][0]
    assert not re.search(r"\d\.\d\d\b", squeeze(" ".join(c for t in doc.tables() for r in t.rows for c in r)))
    notes = next(s for s in doc.sections if s.key == "notes").notes
    assert notes and not any("unofficial" in n or "history before" in n for n in notes)
    assert any("Bắc Giang cũ, đã sáp nhập vào Bắc Ninh" in n for n in notes)


def test_the_annual_report_in_english_with_lang_en(demo_reports):
    report = demo_reports[2].value
    doc = annual_document(report, "en")
    assert doc.sections[0].title == "1. Key messages" and doc.period == "2025"
    assert doc.sections[0].paragraphs[0].startswith("As the firms answered")   # the shares lead
    assert "%" in doc.sections[0].paragraphs[0]
    assert "The association's index (0–40 scale)" in doc.sections[0].paragraphs[1]


def test_the_digest_header_and_content(demo_reports):
    out, digest, _annual = demo_reports
    doc = digest.value.document
    # from July 2025 the wave answers in the new Bắc Ninh's communes and wards: the digest names today's province
    assert doc.province == "Bắc Ninh" and doc.period == "tháng 12/2025"
    assert doc.issued == format_date(dt.date.today(), "vi") and doc.issuer == "Hiệp hội Doanh nghiệp tỉnh"
    assert [s.key for s in doc.sections] == ["key", "responses", "difficulties", "trend", "domains", "severity",
                                             "main", "cases", "notes"]
    tables = digest.value.tables
    # responses from the store's load records of the month
    loads = Store(f"sqlite:///{out.parent / 'demo' / 'store.sqlite'}").list_loads()
    month = loads[(loads["period"] == "2025-12") & (loads["survey"] == "monthly_difficulties")]
    assert tables["responses"].values[0][1] == int(month["rows_read"].sum())
    assert tables["responses"].values[2][1] == int(month["quarantined"].sum())
    # a % column holds shares only, never a count of firms
    for table in tables.values():
        for j, heading in enumerate(table.columns):
            if "%" in heading and table.values:
                cells = [row[j] for row in table.values if isinstance(row[j], (int, float))]
                assert all(-100 <= v <= 100 for v in cells), (table.title, heading)
    assert "Số DN trả lời" not in [row[0] for row in tables["categories"].rows]


def test_shares_match_an_independent_weighted_count(demo_reports):
    out, digest, _annual = demo_reports
    store = Store(f"sqlite:///{out.parent / 'demo' / 'store.sqlite'}")
    qn = load_questionnaire("monthly_difficulties")
    design = jobs.load_weighted(store, qn, "2025-12").design
    data, w = design.data, design.weights
    asked = data["had_difficulty"].notna().to_numpy()
    rows = {r[0]: v for r, v in zip(digest.value.tables["categories"].rows, digest.value.tables["categories"].values)}
    for choice in qn.choices("difficulty_types", with_missing=False):
        chose = data["difficulty_types"].fillna("").astype(str).str.split().map(lambda t: str(choice.code) in t)
        expected = 100 * np.sum(w * chose.to_numpy() * asked) / np.sum(w * asked)
        assert rows[choice.label.vi][2] == pytest.approx(round(expected, 1), abs=0.051)
        assert rows[choice.label.vi][1] == int((chose & asked).sum())


def test_the_severity_lists_every_level_with_n_and_hides_shares_under_min_n(demo_reports):
    out = demo_reports[0]
    store = Store(f"sqlite:///{out.parent / 'demo' / 'store.sqlite'}")
    qn = load_questionnaire("monthly_difficulties")
    design = jobs.load_weighted(store, qn, "2025-12").design
    levels = [c.label.vi for c in qn.choices("severity", with_missing=False)]
    answered = int(design.data["severity"].isin([1, 2, 3, 4]).sum())
    shown = build_digest(design, qn, "2025-12", min_n=10).tables["severity"]
    assert [r[0] for r in shown.rows] == levels + ["Tổng"]
    assert [v[1] for v in shown.values[:-1]] == [int((design.data["severity"] == k).sum()) for k in (1, 2, 3, 4)]
    assert shown.values[-1][1] == answered and sum(v[2] for v in shown.values[:-1]) == pytest.approx(100, abs=0.2)
    hidden = build_digest(design, qn, "2025-12", min_n=answered + 1).tables["severity"]
    assert all(r[2] == "—" for r in hidden.rows) and f"Chỉ {answered} doanh nghiệp" in hidden.note


def test_the_weighting_line_names_the_margins_used_and_says_they_are_illustrative(tmp_path):
    db = monthly_store(tmp_path, use=("sector_group",))
    notes = next(s for s in jobs.monthly_digest(Store(db), PERIOD).value.document.sections if s.key == "notes").notes
    line = next(n for n in notes if n.startswith("Tỷ lệ có trọng số"))
    assert "nhóm ngành" in line and "quy mô" not in line and "sector_group" not in line
    assert any("chỉ mang tính minh họa" in n for n in notes)


def test_published_margins_are_named_by_their_source(tmp_path):
    spec = yaml.safe_load(MARGINS.read_text(encoding="utf-8"))
    spec.update(illustrative=False, source="Cục Thống kê tỉnh, Điều tra doanh nghiệp 2024")
    margins = tmp_path / "margins.yaml"
    margins.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    db = monthly_store(tmp_path)
    from survey.weights import RakingConfig
    jobs.weight_wave(Store(db), "monthly_difficulties", PERIOD, RakingConfig(margins, use=("sector_group", "size_class"),
                                                                              replicates="JK1"))
    notes = next(s for s in jobs.monthly_digest(Store(db), PERIOD).value.document.sections if s.key == "notes").notes
    assert any("Cục Thống kê tỉnh, Điều tra doanh nghiệp 2024" in n for n in notes)
    assert not any("minh họa" in n for n in notes)
    line = next(n for n in notes if n.startswith("Tỷ lệ có trọng số"))
    assert "nhóm ngành" in line and "quy mô lao động" in line


def test_a_month_without_any_difficulty_gives_a_digest_that_says_so(tmp_path):
    db = monthly_store(tmp_path, no_difficulty=True)
    outcome = jobs.monthly_digest(Store(db), PERIOD, out=tmp_path / "out")
    assert len(outcome.written) == 3
    text = outputs_text(tmp_path / "out", f"digest_{PERIOD}")
    said = squeeze("Trong tháng, không doanh nghiệp nào trong số 60 doanh nghiệp trả lời phản ánh khó khăn")
    assert said in text["pdf"] and said in text["html"]


def test_the_official_record_completes_a_total_from_its_sub_indices_and_marks_it(demo_reports):
    doc = annual_document(demo_reports[2].value, "vi")
    table = next(t for t in doc.tables() if t.sheet == "PGI chính thức")
    rows = {(r[0], r[1]): r for r in table.rows}
    assert rows[("2024", "Bắc Giang")][6] == "24,67 *"          # 6,41 + 7,34 + 5,02 + 5,90, by hand
    assert rows[("2024", "Bắc Ninh")][6] == "27,78"              # published as such
    assert rows[("2022 (thí điểm)", "Bắc Giang")][6] == "16,43"
    assert "* : tổng của bốn chỉ số thành phần" in table.note


@pytest.mark.parametrize("firms, shown", [([3] * 9 + [7] * 3, True), ([3] * 6 + [7] * 2, False)])
def test_the_main_difficulty_note_names_the_base_its_threshold_checks(firms, shown):
    """The shares are of every firm naming a main difficulty, so that base (not each row) is what must
    reach min_n: a difficulty named by 3 of 12 firms keeps its share (25%); with 8 firms all shares go."""
    import pandas as pd

    from survey.reports.digest import _main_and_cost
    from survey.weights import make_design

    qn = load_questionnaire("monthly_difficulties")
    data = pd.DataFrame({"main": [float(f) for f in firms], "cost_estimate": np.nan, "wants_dialogue": np.nan,
                         "w": 1.0})
    section = _main_and_cost(make_design(data, "w"), qn, "vi", 10)
    [table] = section.tables
    rows = {r[0]: r[1:] for r in table.rows}
    counts = {"Xử lý nước thải": str(firms.count(3)), "Chi phí bảo vệ môi trường": str(firms.count(7))}
    assert {k: v[0] for k, v in rows.items()} == counts
    if shown:
        assert rows["Chi phí bảo vệ môi trường"][1] == "25,0" and rows["Xử lý nước thải"][1] == "75,0"
        assert table.note.startswith("Tỷ lệ tính trên 12 doanh nghiệp có nêu khó khăn lớn nhất")
    else:
        assert {v[1] for v in rows.values()} == {"—"}
        assert table.note.startswith("Chỉ 8 doanh nghiệp nêu khó khăn lớn nhất (dưới 10)")
