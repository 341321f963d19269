"""`make demo` end to end: the pipeline on the generated year writes every report, and they are right."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("demo_pipeline", ROOT / "pipelines" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("demo_out")
    assert module.main(["--out", str(out)]) == 0
    return out


def test_every_output_is_written(demo):
    names = {p.name for p in demo.iterdir()}
    assert {"digest_2025-12.xlsx", "digest_2025-12.pdf", "digest_2025-12.html", "pgi_estimate_2025.html",
            "pgi_estimate_2025.pdf", "pgi_estimate_2025.xlsx", "scores_2025.csv", "run.json"} <= names
    assert sorted(p.name for p in (demo / "questionnaires").iterdir())[:3] == [
        "monthly_difficulties.sav", "monthly_difficulties.xlsx", "monthly_difficulties_codebook.md"]
    assert (demo / "pgi_estimate_2025.pdf").read_bytes().startswith(b"%PDF")
    pdfinfo = subprocess.run(["pdfinfo", str(demo / "digest_2025-12.pdf")], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pdfinfo).group(1)) >= 4
    # the bad rows of the demo files were quarantined and reported
    assert {p.name for p in (demo / "load_reports").iterdir()} == {
        "kobo_monthly_difficulties_2025-02.xlsx", "kobo_monthly_difficulties_2025-07.xlsx", "pgi_feedback_2025-11.xlsx"}


def test_annual_report_sections_and_numbers(demo):
    text = (demo / "pgi_estimate_2025.html").read_text(encoding="utf-8")
    assert text.count("Ước tính không chính thức của Hiệp hội") >= 2
    for anchor in ("key", "indicators", "index", "official", "forecast", "method", "notes"):
        assert f'id="{anchor}"' in text
    scores = pd.read_csv(demo / "scores_2025.csv")
    total = scores[scores["level"] == "total"].iloc[0]
    vi = lambda v: f"{v:.2f}".replace(".", ",")  # noqa: E731  (Vietnamese decimal comma)
    assert vi(total["estimate"]) in text and f"{vi(total['ci95_low'])}–{vi(total['ci95_high'])}" in text
    assert "≥ 3,95" in text  # the plan's target for sub-index 1
    assert text.count("data:image/svg+xml;base64,") == 3
    assert "Bắc Giang" in text and "chỉ mang tính minh họa" in text  # the weighting section, in Vietnamese


def test_digest_sections_and_numbers(demo):
    sheets = pd.read_excel(demo / "digest_2025-12.xlsx", sheet_name=None)
    assert list(sheets) == ["Phiếu trả lời", "Theo lĩnh vực khó khăn", "Theo tháng", "Theo ngành", "Theo địa bàn",
                            "Mức độ ảnh hưởng", "Khó khăn lớn nhất", "Kiến nghị chuyển UBND tỉnh", "Ghi chú"]
    responses = sheets["Phiếu trả lời"].set_index("Nội dung")["Số phiếu"]
    assert responses["Dùng để tính (có trọng số)"] == 60  # responding firms in December
    share = sheets["Theo tháng"].iloc[-1, 2]
    assert 0 < share < 100
    categories = sheets["Theo lĩnh vực khó khăn"].dropna(subset=["Số DN"])
    assert len(categories) == 10 and categories["Tỷ lệ DN (%)"].is_monotonic_decreasing


def test_no_personal_data_in_any_report(demo):
    inputs = pd.read_csv(demo / "demo_inputs" / "kobo_monthly_difficulties_2025-12.csv", sep=";", dtype=str)
    personal = set(inputs["contact/contact_name"].dropna()) | set(inputs["contact/contact_phone"].dropna()) \
        | set(inputs["contact/contact_email"].dropna()) | set(inputs["profile/firm_name"].dropna())
    assert len(personal) > 100
    html = (demo / "pgi_estimate_2025.html").read_text(encoding="utf-8")
    digest_cells = [str(c.value) for ws in openpyxl.load_workbook(demo / "digest_2025-12.xlsx")
                    for row in ws.iter_rows() for c in row if c.value is not None]
    scores = (demo / "scores_2025.csv").read_text(encoding="utf-8-sig")
    for value in personal:
        assert value not in html and value not in scores
        assert not any(value in cell for cell in digest_cells)
    assert not re.search(r"[\w.]+@doanhnghiep\.vn", html + scores + " ".join(digest_cells))


def test_formula_like_text_is_neutralised(demo):
    ws = openpyxl.load_workbook(demo / "digest_2025-12.xlsx")["Kiến nghị chuyển UBND tỉnh"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    dashed = [c.value for c in cells if "Thiếu hướng dẫn cụ thể" in c.value]
    assert dashed and all(v.startswith("- ") for v in dashed)  # shown as typed, no apostrophe in front
    assert not any(c.data_type == "f" for c in cells)       # a text cell: never read as a formula


def test_personal_data_only_on_explicit_request(demo):
    from survey.questionnaire import load_questionnaire
    from survey.reports import DigestContext, build_digest
    from survey.store import Store
    from survey import jobs
    store = Store(f"sqlite:///{demo / 'demo_store.sqlite'}")
    qn = load_questionnaire("monthly_difficulties")
    design = jobs.load_weighted(store, qn, "2025-12").design
    from survey.store.reviews import read_reviews
    approved = read_reviews(store, "monthly_difficulties", "2025-12", "approved")  # as the digest shows them
    context = DigestContext(cases=approved)
    hidden = build_digest(design, qn, "2025-12", context=context).tables["cases"]
    shown = build_digest(design, qn, "2025-12", include_personal=True, context=context).tables["cases"]
    assert len(hidden.rows) > 0
    assert qn.question("contact_phone").label.vi not in hidden.columns
    assert qn.question("contact_phone").label.vi in shown.columns and len(shown.rows) == len(hidden.rows)


def test_report_commands_on_the_demo_store(demo, tmp_path, capsys):
    from survey.cli import main
    db = f"sqlite:///{demo / 'demo_store.sqlite'}"
    assert main(["digest", "--period", "2025-12", "--out", str(tmp_path), "--db", db, "--lang", "en"]) == 0
    assert {"digest_2025-12.xlsx", "digest_2025-12.pdf"} <= {p.name for p in tmp_path.iterdir()}
    sheets = pd.read_excel(tmp_path / "digest_2025-12.xlsx", sheet_name=None)
    assert "Cases to forward" in sheets and "Contact person's name" not in sheets["Cases to forward"].columns
    assert main(["digest", "--period", "2025-12", "--out", str(tmp_path / "p"), "--db", db, "--lang", "en",
                 "--include-personal"]) == 0
    assert "the cases list contains personal data" in capsys.readouterr().out
    assert "Contact person's name" in pd.read_excel(tmp_path / "p" / "digest_2025-12.xlsx",
                                                     sheet_name="Cases to forward").columns
    assert main(["report", "--year", "2025", "--forecast-province", "Bac Ninh", "--targets", "bac_giang",
                 "--draws", "2000", "--out", str(tmp_path), "--db", db]) == 0
    assert "Ước tính không chính thức" in (tmp_path / "pgi_estimate_2025.html").read_text(encoding="utf-8")


def _page(html: str) -> str:
    """An HTML report without its embedded pictures (their bytes may differ by matplotlib run)."""
    return re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "IMG", html)


def test_the_command_line_and_the_pipeline_make_the_same_annual_report(demo, tmp_path):
    """Issue 11: one way through the house. Before, the CLI put scoring notes where the pipeline
    showed the weighting table, and the bridge note differed."""
    from survey.cli import main
    db = f"sqlite:///{demo / 'demo_store.sqlite'}"
    assert main(["report", "--year", "2025", "--forecast-province", "Bac Ninh", "--title-province", "Bắc Giang",
                 "--targets", "bac_giang", "--draws", "10000", "--out", str(tmp_path), "--db", db]) == 0
    pipeline = _page((demo / "pgi_estimate_2025.html").read_text(encoding="utf-8"))
    command = _page((tmp_path / "pgi_estimate_2025.html").read_text(encoding="utf-8"))
    assert command == pipeline
    # section 4 shows the stored weighting, in the report's language (Vietnamese by default, both ways)
    assert "hiệu ứng thiết kế Kish" in command and "Nhóm ngành" in command and "Kish design effect" not in command
    assert "đã sáp nhập vào Bắc Ninh từ ngày 1/7/2025" in command
    # the forecast's own notes too (survey/notes.py): the merged province simulated from its old provinces
    assert "từ 1/7/2025 tỉnh gồm Bắc Giang, Bắc Ninh" in command and "since 1 July 2025" not in command
