"""Issue 11: the use-case layer, the period types, and front ends that only call jobs."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from survey import jobs
from survey.errors import SurveyError
from survey.period import Period, PeriodRange
from survey.store import Store

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ periods

def test_a_period_is_parsed_once_and_knows_the_month_before():
    assert str(Period.parse("2025-11")) == "2025-11"
    assert Period.parse("2026-01").previous() == Period(2025, 12)
    assert Period.parse("2025-03").previous() == Period(2025, 2)
    assert Period(2025, 2) < Period(2025, 10) < Period(2026, 1)


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "25-11", "2025/11", "0000-01", "9999-12", "", "2025-1"])
def test_a_bad_period_is_refused(text):
    with pytest.raises(SurveyError, match="period"):
        Period.parse(text)


def test_a_period_range():
    r = PeriodRange.parse("2025-05..2025-11")
    assert (str(r.first), str(r.last), str(r)) == ("2025-05", "2025-11", "2025-05..2025-11")
    assert str(PeriodRange.parse("2025-11")) == "2025-11"
    assert Period(2025, 7) in r and Period(2025, 12) not in r and Period(2025, 4) not in r
    assert PeriodRange.year(2024) == PeriodRange(Period(2024, 1), Period(2024, 12))
    with pytest.raises(SurveyError, match="ends before it starts"):
        PeriodRange.parse("2025-11..2025-05")


# ------------------------------------------------------------------ layers

def test_the_statistics_packages_do_not_load_the_store_or_excel():
    code = ("import sys, survey.weights, survey.scoring, survey.forecast; "
            "print(sorted(m for m in ('sqlalchemy', 'openpyxl', 'survey.store') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


#: library steps a front end must not string together itself: each is part of a job
_STEPS = {"weigh", "score", "forecast_province", "official_panel", "association_estimates", "build_annual",
          "build_digest", "write_annual_html", "write_annual_pdf", "write_digest_xlsx", "write_digest_pdf",
          "ingest_file", "add_targets", "backtest", "load_targets", "read_official_table", "export_questionnaire",
          "write_report", "check_output", "check_output_dir", "atomic_path", "weight_survey", "load_design",
          "score_survey"}
_FRONT_ENDS = [ROOT / "survey" / "cli.py", ROOT / "pipelines" / "demo.py", *sorted((ROOT / "notebooks").glob("*.py"))]


@pytest.mark.parametrize("path", _FRONT_ENDS, ids=lambda p: p.name)
def test_front_ends_call_jobs_not_library_steps(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert not imported & _STEPS, f"{path.name} strings library steps together: {sorted(imported & _STEPS)}"


# ------------------------------------------------------------------ jobs

def test_a_forecast_without_the_association_index_says_the_survey_is_not_used(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    from survey.forecast import ForecastConfig
    outcome = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=500), lang="en")
    assert outcome.value.survey_share == 0.0 and outcome.value.survey_role == "none"
    assert any("the association's survey has no index for 2025 and is not used" in n for n in outcome.notes)


def test_the_report_is_refused_before_any_work_when_its_folder_is_a_file(tmp_path):
    from survey.errors import OutputError
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(OutputError):
        jobs.annual_report(Store(f"sqlite:///{tmp_path / 's.sqlite'}"), 2025, "Bac Ninh", out=tmp_path / "out")


def test_the_digest_groups_sectors_as_the_weighting_margins_do(tmp_path, monthly):
    """Issue 11: the sector grouping was hard-coded in the digest although the margins file defines it."""
    import yaml
    from survey.reference import margins_path
    from survey.weights import RakingConfig
    from tests.fixtures import make_answers, to_kobo_csv

    spec = yaml.safe_load(margins_path("bac_giang", 2024).read_text(encoding="utf-8"))
    spec["margins"] = {"sector_group": {"question": "sector", "categories": {
        "primary_industry": {"codes": [1, 2, 3, 4, 5, 6], "count": 4800},
        "services": {"codes": list(range(7, 22)), "count": 6200}}}}
    spec["collapse"] = []
    margins = tmp_path / "margins.yaml"
    margins.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    jobs.load_export(store, to_kobo_csv(make_answers(monthly, 120, seed=5), monthly, tmp_path / "k.csv"),
                     monthly, "2025-11")
    jobs.weight_wave(store, monthly, "2025-11", RakingConfig(margins, replicates="JK1"))
    table = jobs.monthly_digest(store, "2025-11", lang="en").value.tables["sector"]
    assert {row[0] for row in table.rows} == {"primary industry", "Services"}
