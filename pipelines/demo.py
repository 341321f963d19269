"""`make demo`: the whole pipeline on a generated demo year, reports in ``out/``.

generate + ingest + weights -> scores -> forecast -> reports. Every step is one
job of the use-case layer (:mod:`survey.jobs`), the same the command line
calls; this file only runs them in order and reports progress.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey import jobs  # noqa: E402
from survey.errors import SurveyError  # noqa: E402
from survey.forecast import ForecastConfig, forecast_text  # noqa: E402
from survey.questionnaire import EXPORT_FORMATS, list_questionnaires  # noqa: E402
from survey.store import Store  # noqa: E402
from survey.weights import RakingConfig  # noqa: E402

YEAR = 2025
FORECAST_PROVINCE = "Bac Ninh"  # Bac Giang has been part of Bac Ninh since 1 July 2025
SURVEY_PROVINCE = "Bắc Giang"


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def show(outcome: jobs.Outcome) -> None:
    for line in outcome.notes:
        print(f"   {line}")


def run(out: Path) -> dict[str, jobs.Outcome]:
    out.mkdir(parents=True, exist_ok=True)
    store_path = out / "demo_store.sqlite"
    for stale in out.glob("demo_store.sqlite*"):
        stale.unlink()  # the demo starts from an empty store every time
    store = Store(f"sqlite:///{store_path}")
    done: dict[str, jobs.Outcome] = {}
    step("1/6 questionnaires: validate and export")
    for path in list_questionnaires():
        for fmt in EXPORT_FORMATS:
            done[f"export {path.stem} {fmt}"] = jobs.export_definition(path, fmt, out / "questionnaires", force=True)
        print(f"   {path.stem}: XLSForm, SPSS, codebook")
    step("2/6 a demo year: generate, ingest, weight (illustrative margins of the demo province)")
    done["demo"] = jobs.demo_year(store, out / "demo_inputs", year=YEAR, report_folder=out / "load_reports")
    show(done["demo"])
    step("3/6 scores")
    done["scores"] = jobs.score_year(store, jobs.FEEDBACK, YEAR, out=out / f"scores_{YEAR}.csv", force=True)
    table = done["scores"].value.table
    for r in table[table["level"] != "indicator"].itertuples():
        print(f"   {r.short_vi:<24} {r.estimate:6.2f}  [{r.ci95_low:.2f}, {r.ci95_high:.2f}]")
    step(f"4/6 forecast of the official PGI {YEAR} ({FORECAST_PROVINCE})")
    done["forecast"] = jobs.forecast_year(store, FORECAST_PROVINCE, YEAR, ForecastConfig(draws=10_000),
                                          targets="bac_giang", survey_province=SURVEY_PROVINCE,
                                          scores=done["scores"])
    print(forecast_text(done["forecast"].value, "vi"))
    step("5/6 monthly digest: staff review the cases (masked), then the digest")
    last = done["demo"].value.monthly[-1][0]
    trend = RakingConfig(done["demo"].value.margins, use=("sector_group", "size_class"), replicates="JK1")
    for period, _path in done["demo"].value.monthly[-6:-2]:  # four more months weighted: the digest's trend
        jobs.weight_wave(store, jobs.MONTHLY, period, trend)
    cases = jobs.review_cases(store, last).value
    for reference in cases["reference"].iloc[:-1]:  # the demo approves all but one, which stays pending
        jobs.approve_case(store, reference, user="demo")
    print(f"   {len(cases) - 1} of {len(cases)} cases approved (pgi-survey digest review --period {last})")
    done["digest"] = jobs.monthly_digest(store, last, out=out, force=True)
    show(done["digest"])
    step("6/6 annual report")
    done["report"] = jobs.annual_report(store, YEAR, FORECAST_PROVINCE, title_province=SURVEY_PROVINCE,
                                        targets="bac_giang", forecast_config=ForecastConfig(draws=10_000),
                                        out=out, force=True)
    (out / "run.json").write_text(jobs.run_record(done), encoding="utf-8")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        done = run(Path(args.out))
    except SurveyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\nDone in {time.time() - start:.0f} s. Reports:")
    for key in ("digest", "report"):
        for path in done[key].written:
            print(f"   {Path(path).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
