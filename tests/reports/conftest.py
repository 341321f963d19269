"""A demo store, loaded and weighted once for the report tests, and its reports written once (Vietnamese)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory):
    """(folder, digest outcome, annual outcome): the demo year's digest of 2025-12 (cases approved) and annual
    report of 2025, as PDF, HTML and XLSX in ``folder``."""
    from survey import jobs
    from survey.forecast import ForecastConfig

    folder = tmp_path_factory.mktemp("demo_reports")
    store, _files = jobs.demo_store(folder / "demo")
    for reference in jobs.review_cases(store, "2025-12").value["reference"]:
        jobs.approve_case(store, reference)
    out = folder / "out"
    digest = jobs.monthly_digest(store, "2025-12", out=out)
    annual = jobs.annual_report(store, 2025, "Bac Ninh", title_province="Bắc Giang", targets="bac_giang",
                                forecast_config=ForecastConfig(draws=2000), out=out)
    return out, digest, annual
