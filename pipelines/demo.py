"""`make demo`: the whole pipeline on a generated demo year, reports in ``out/``.

generate -> ingest -> weights -> scores -> forecast -> reports. Every step is a
library call; this file only composes them and reports progress.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.demo import write_demo  # noqa: E402
from survey.errors import SurveyError, SurveyWarning  # noqa: E402
from survey.forecast import ForecastConfig, forecast_province  # noqa: E402
from survey.ingest import console_summary, ingest_file, write_report  # noqa: E402
from survey.questionnaire import EXPORT_FORMATS, export_questionnaire, list_questionnaires, load_questionnaire  # noqa: E402
from survey.reports import build_annual, build_digest, write_annual_html, write_annual_pdf, write_digest_pdf, write_digest_xlsx  # noqa: E402
from survey.scoring import ScoringConfig, association_estimates, load_targets, official_panel, score_survey  # noqa: E402
from survey.store import Store  # noqa: E402
from survey.weights import weight_survey  # noqa: E402

YEAR = 2025
FORECAST_PROVINCE = "Bac Ninh"  # Bac Giang has been part of Bac Ninh since 1 July 2025


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def export_all(out: Path, province: str | None = None) -> list[Path]:
    """Validate every questionnaire and write its three exports under ``out``."""
    written = []
    for path in list_questionnaires():
        qn = load_questionnaire(path, province=province)
        for fmt in EXPORT_FORMATS:
            written.append(export_questionnaire(qn, fmt, out / "questionnaires"))
        print(f"   {qn.id} v{qn.version}: {len(qn.questions)} questions, {len(qn.indicators)} indicators -> "
              f"XLSForm, SPSS, codebook")
    return written


def run(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    store_path = out / "demo_store.sqlite"
    store_path.unlink(missing_ok=True)  # the demo starts from an empty store every time
    store = Store(f"sqlite:///{store_path}")
    step("1/7 questionnaires: validate and export")
    export_all(out)
    step("2/7 generate a demo year (KoboToolbox CSV and SPSS files)")
    files = write_demo(out / "demo_inputs", year=YEAR)
    print(f"   {len(files.monthly)} monthly exports and {files.feedback[1].name} in {files.folder}")
    step("3/7 ingest")
    monthly = load_questionnaire("monthly_difficulties")
    feedback = load_questionnaire("pgi_feedback")
    for period, path in files.monthly + [files.feedback]:
        qn = feedback if path.suffix == ".sav" else monthly
        result = ingest_file(path, qn, period, store=store)
        if result.quarantined:
            report = write_report(result, out / "load_reports" / f"{path.stem}.xlsx")
            print("   " + console_summary(result, "vi").replace("\n", "\n   ") + f"\n   -> {report}")
        else:
            print(f"   {path.name}: {result.summary('vi')}")
    step("4/7 weights (illustrative margins of the demo province)")
    designs = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurveyWarning)
        for period, _ in files.monthly[-2:]:
            designs[period] = weight_survey(monthly, period, margins=files.margins,
                                            use=["sector_group", "size_class"], replicates="JK1", store=store)
        annual = weight_survey(feedback, files.feedback[0], margins=files.margins, store=store, n_replicates=200)
    for w in caught:
        print(f"   note: {w.message}")
    print("   " + annual.diagnostics().replace("\n", "\n   "))
    step("5/7 scores")
    scores = score_survey(feedback, YEAR, store=store, config=ScoringConfig())
    table = scores.table
    for r in table[table["level"] != "indicator"].itertuples():
        print(f"   {r.short_vi:<24} {r.estimate:6.2f}  [{r.ci95_low:.2f}, {r.ci95_high:.2f}]")
    step(f"6/7 forecast of the official PGI {YEAR} ({FORECAST_PROVINCE})")
    forecast = forecast_province(FORECAST_PROVINCE, YEAR, panel=official_panel(store.read_official()),
                                 estimates=association_estimates(table), targets=load_targets("bac_giang"),
                                 config=ForecastConfig(draws=10_000))
    forecast.notes.append("the association's survey covers the former Bac Giang, part of Bac Ninh since 1 July 2025; "
                          "its estimate is used as a signal for Bac Ninh; the targets are Bac Giang's plan 2023-2025, "
                          "applied to Bac Ninh, which now includes Bac Giang")
    print(forecast.rank_summary().to_string(index=False))
    step("7/7 reports")
    last, prev = files.monthly[-1][0], files.monthly[-2][0]
    digest = build_digest(designs[last].design, monthly, last, designs[prev].design,
                          weighting_notes=list(designs[last].margins.log))
    paths = {"digest_xlsx": write_digest_xlsx(digest, out / f"digest_{last}.xlsx"),
             "digest_pdf": write_digest_pdf(digest, out / f"digest_{last}.pdf")}
    report = build_annual(scores, forecast, official_panel(store.read_official()), annual.diagnostics(),
                          "Bắc Giang", YEAR)
    paths["annual_html"] = write_annual_html(report, out / f"pgi_estimate_{YEAR}.html")
    paths["annual_pdf"] = write_annual_pdf(report, out / f"pgi_estimate_{YEAR}.pdf")
    table.to_csv(out / f"scores_{YEAR}.csv", index=False, encoding="utf-8-sig")
    (out / "run.json").write_text(json.dumps({"year": YEAR, "seed": 2025, "store": str(store_path),
                                              "outputs": {k: str(v) for k, v in paths.items()}}, indent=2))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        paths = run(Path(args.out))
    except SurveyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\nDone in {time.time() - start:.0f} s. Reports:")
    for path in paths.values():
        print(f"   {Path(path).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
