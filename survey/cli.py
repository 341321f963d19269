"""The ``pgi-survey`` command. It only composes library calls; no statistics here."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import SurveyError
from .forecast.models import MODELS
from .ingest.readers import FORMATS
from .questionnaire import EXPORT_FORMATS
from .weights import METHODS, REPLICATE_TYPES

__all__ = ["main", "build_parser"]


def _cmd_questionnaire_list(args: argparse.Namespace) -> int:
    from .questionnaire import list_questionnaires, load_questionnaire

    root = Path(args.dir) if args.dir else None
    for path in list_questionnaires(root):
        qn = load_questionnaire(path, province=args.province, root=path.parent)
        print(f"{qn.id:<24} v{qn.version:<8} {len(qn.questions):>3} questions "
              f"{len(qn.indicators):>3} indicators  {qn.title.vi}")
    return 0


def _cmd_questionnaire_validate(args: argparse.Namespace) -> int:
    from .questionnaire import list_questionnaires
    from .questionnaire.load import iter_problems

    root = Path(args.dir) if args.dir else None
    paths = [Path(f) for f in args.files] or list_questionnaires(root)
    problems = list(iter_problems(paths, province=args.province))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return 1
    print(f"{len(paths)} questionnaire(s) valid: " + ", ".join(p.stem for p in paths))
    return 0


def _export_name(qid: str, fmt: str) -> str:
    """The file name ``export_questionnaire`` gives an export written into a folder."""
    from .questionnaire import EXPORT_FORMATS

    return f"{qid}_codebook.md" if fmt == "codebook" else f"{qid}{EXPORT_FORMATS[fmt][0]}"


def _cmd_questionnaire_export(args: argparse.Namespace) -> int:
    from . import jobs

    outcome = jobs.export_definition(args.id, args.format, args.out, province=args.province, root=args.dir,
                                     force=args.force)
    _written(outcome)
    return 0


def _written(outcome) -> None:
    """Print an outcome's notes and the files it wrote."""
    for note in outcome.notes:
        print(f"note: {note}")
    for path in outcome.written:
        print(f"wrote {path}")


def _cmd_ingest(args: argparse.Namespace) -> int:
    from . import jobs
    from .ingest import console_summary

    options = jobs.IngestOptions(format=args.format, encoding=args.encoding, sep=args.sep, sheet=args.sheet,
                                 mapping=args.mapping, max_bytes=int(args.max_size * 1024 * 1024),
                                 max_rows=args.max_rows, province=args.province)
    outcome = jobs.load_export(_store(args), args.file, args.survey, args.period, options, report=args.report,
                               lang=args.lang, force=args.force, progress=None)
    print(console_summary(outcome.value, args.lang))
    for path in outcome.written:
        print(("Báo cáo: " if args.lang == "vi" else "Report: ") + str(path))
    return 0


def _store(args: argparse.Namespace):
    from .store import Store

    return Store(args.db)


def _cmd_loads(args: argparse.Namespace) -> int:
    from .store import Store

    table = Store(args.db).list_loads()
    if table.empty:
        print("Chưa có lần nạp nào / no loads yet")
        return 0
    table["loaded_at"] = table["loaded_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M"))
    table["sha256"] = table["sha256"].str[:12]
    print(table.drop(columns=["size_bytes"]).to_string(index=False))
    return 0


def _cmd_weights(args: argparse.Namespace) -> int:
    from . import jobs
    from .weights import RakingConfig

    config = RakingConfig(args.margins, use=tuple(args.use) if args.use else None, method=args.method,
                          replicates=None if args.replicates == "none" else args.replicates,
                          n_replicates=args.n_replicates, seed=args.seed,
                          trim_limits=tuple(args.trim) if args.trim else None)
    outcome = jobs.weight_wave(_store(args), args.survey, args.period, config)
    print(outcome.value.diagnostics.text())
    for note in outcome.notes:
        print(f"note: {note}")
    print(f"Stored as weighting #{outcome.value.weighting_id} of {args.survey} {outcome.used['periods']}")
    return 0


def _add_weights(commands) -> None:
    p = commands.add_parser("weights", help="weight stored responses to the province's enterprise population")
    p.add_argument("--survey", required=True, help="questionnaire id")
    p.add_argument("--period", required=True, help="YYYY-MM or a range YYYY-MM..YYYY-MM")
    p.add_argument("--margins", required=True, help="population margins file (YAML)")
    p.add_argument("--use", nargs="+", help="margins to use (default: all in the file)")
    p.add_argument("--method", default="rake", choices=METHODS)
    p.add_argument("--replicates", default="bootstrap", choices=[*REPLICATE_TYPES, "none"])
    p.add_argument("--n-replicates", type=int, default=200, help="bootstrap replicates (default 200)")
    p.add_argument("--seed", type=int, default=20251, help="seed of the bootstrap")
    p.add_argument("--trim", nargs=2, type=float, metavar=("LOWER", "UPPER"),
                   help="keep every weight within these limits (enterprises per respondent)")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_weights)


def _cmd_score(args: argparse.Namespace) -> int:
    from . import jobs
    from .scoring import ScoringConfig, summary_text

    outcome = jobs.score_year(_store(args), args.survey, args.year,
                              ScoringConfig(min_n=args.min_n, sensitivity=not args.no_sensitivity), by=args.by,
                              province=args.province, out=args.out, force=args.force)
    print(summary_text(outcome.value, args.lang))
    for path in outcome.written:
        print(f"wrote {path}")
    return 0


def _cmd_official_import(args: argparse.Namespace) -> int:
    from . import jobs

    outcome = jobs.import_official(_store(args), args.file, args.year)
    for note in outcome.notes:
        print(f"note: {note}")
    print(f"imported {outcome.used['rows']} official figures for {args.year} ({outcome.used['provinces']} provinces)")
    return 0


def _add_scoring(commands) -> None:
    p = commands.add_parser("score", help="estimate the PGI sub-indices and total from the weighted survey")
    p.add_argument("--survey", default="pgi_feedback", help="questionnaire id (default pgi_feedback)")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--by", help="score by a domain: locality, sector, size_class, ownership, site, period")
    p.add_argument("--out", help="write the table to .csv or .xlsx")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--province", help="targets file key (default: the questionnaire's province)")
    p.add_argument("--min-n", type=int, default=10, help="suppress cells with fewer respondents (default 10)")
    p.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity Monte Carlo")
    p.add_argument("--lang", choices=["vi", "en"], default="vi")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_score)
    p = commands.add_parser("official", help="the official PGI record")
    sub = p.add_subparsers(dest="action", required=True)
    q = sub.add_parser("import", help="import a full official table (CSV or XLSX) for a year")
    q.add_argument("file")
    q.add_argument("--year", required=True, type=int)
    q.add_argument("--db", help="SQLAlchemy URL of the store")
    q.set_defaults(func=_cmd_official_import)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from . import jobs
    from .forecast import ForecastConfig, forecast_text, simulation_study

    if args.action == "backtest":
        print(jobs.backtest_forecast(_store(args)).value.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    if args.action == "simulate":
        print(simulation_study(panels=args.panels, provinces=args.provinces).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    if not args.province or not args.year:
        print("error: forecast needs --province and --year", file=sys.stderr)
        return 2
    outcome = jobs.forecast_year(_store(args), args.province, args.year, ForecastConfig(draws=args.draws),
                                 survey=args.survey, targets=args.targets,
                                 models=(args.model,) if args.model else None, out=args.out, force=args.force)
    print(forecast_text(outcome.value, args.lang))
    for path in outcome.written:
        print(f"wrote {path}")
    return 0


def _add_forecast(commands) -> None:
    p = commands.add_parser("forecast", help="forecast the province's official PGI score and rank")
    p.add_argument("action", nargs="?", choices=["backtest", "simulate"],
                   help="backtest: rolling-origin check on the official record; simulate: coverage study")
    p.add_argument("--province", help="province name (English or Vietnamese), e.g. 'Bac Ninh'")
    p.add_argument("--year", type=int, help="the year to forecast (VCCI publishes it the following spring)")
    p.add_argument("--model", choices=MODELS, help="default: all, side by side")
    p.add_argument("--survey", default="pgi_feedback", help="the association's survey for the bridge")
    p.add_argument("--targets", help="targets file key, e.g. bac_giang")
    p.add_argument("--draws", type=int, default=10_000)
    p.add_argument("--panels", type=int, default=50, help="simulate: panels (default 50)")
    p.add_argument("--provinces", type=int, default=20, help="simulate: provinces per panel (default 20)")
    p.add_argument("--out", help="write the table to .csv or .xlsx")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--lang", choices=["vi", "en"], default="vi")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_forecast)


def _cmd_digest(args: argparse.Namespace) -> int:
    from . import jobs

    outcome = jobs.monthly_digest(_store(args), args.period, out=args.out, lang=args.lang, min_n=args.min_n,
                                  include_personal=args.include_personal, province=args.province, force=args.force)
    _written(outcome)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from . import jobs
    from .forecast import ForecastConfig

    outcome = jobs.annual_report(_store(args), args.year, args.forecast_province,
                                 title_province=args.title_province, targets=args.targets,
                                 forecast_config=ForecastConfig(draws=args.draws), out=args.out, lang=args.lang,
                                 force=args.force)
    for path in outcome.written:
        print(f"wrote {path}")
    return 0


def _add_reports(commands) -> None:
    p = commands.add_parser("digest", help="write the monthly difficulties digest (XLSX and PDF)")
    p.add_argument("--period", required=True, help="the month, YYYY-MM (its wave must be weighted)")
    p.add_argument("--out", default="out", help="output folder (default out)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--lang", choices=["vi", "en"], default="vi")
    p.add_argument("--min-n", type=int, default=10, help="hide cells with fewer respondents (default 10)")
    p.add_argument("--include-personal", action="store_true",
                   help="ADD personal data (firm names, contacts) to the cases list; off by default")
    p.add_argument("--province", help="locality list (default: questionnaires/settings.yaml)")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_digest)
    p = commands.add_parser("report", help="write the annual PGI-estimate report (HTML and PDF)")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--forecast-province", required=True, help="the province whose official PGI to forecast")
    p.add_argument("--title-province", help="the province named in the title (default: the forecast province)")
    p.add_argument("--targets", help="targets file key, e.g. bac_giang")
    p.add_argument("--draws", type=int, default=10_000)
    p.add_argument("--out", default="out", help="output folder (default out)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--lang", choices=["vi", "en"], default="vi")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_report)


def _add_ingest(commands) -> None:
    p = commands.add_parser("ingest", help="load a survey export (Kobo CSV, CSV, SPSS .sav, Excel) into the store")
    p.add_argument("file", help="the export to load")
    p.add_argument("--survey", required=True, help="questionnaire id, e.g. monthly_difficulties")
    p.add_argument("--period", required=True, help="the wave, YYYY-MM")
    p.add_argument("--mapping", help="YAML or CSV file mapping column names to question ids")
    p.add_argument("--db", help="SQLAlchemy URL of the store (default: $PGI_DB or data/pgi_survey.sqlite)")
    p.add_argument("--report", help="write the list of problems to this .xlsx or .csv file")
    p.add_argument("--force", action="store_true", help="replace an existing report file")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of messages and report")
    p.add_argument("--format", choices=FORMATS, help="default: from the file's content")
    p.add_argument("--encoding", help="text encoding (default: detected; e.g. utf-8, utf-16, cp1258)")
    p.add_argument("--sep", help="CSV separator (default: detected)")
    p.add_argument("--sheet", help="Excel sheet name (default: the first)")
    p.add_argument("--max-size", type=float, default=1024,
                   help="largest file accepted, in MB (default 1024); for .xlsx also the unpacked workbook")
    p.add_argument("--max-rows", type=int, default=2_000_000,
                   help="most data rows accepted (default 2,000,000); a larger file is refused, never cut")
    p.add_argument("--province", help="locality list (default: questionnaires/settings.yaml)")
    p.set_defaults(func=_cmd_ingest)
    p = commands.add_parser("loads", help="list the audit log of loads")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_loads)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pgi-survey``."""
    parser = argparse.ArgumentParser(prog="pgi-survey", description=(
        "Firm surveys for the Provincial Green Index (PGI): questionnaires, ingestion, "
        "weighting, scoring, forecast and reports."))
    commands = parser.add_subparsers(dest="command", required=True)
    qparser = commands.add_parser("questionnaire", help="list, validate and export questionnaires")
    qcmds = qparser.add_subparsers(dest="action", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", help="definitions folder (default: the project's questionnaires/)")
        p.add_argument("--province", help="locality list to use (default: settings.yaml)")

    p = qcmds.add_parser("list", help="list the questionnaires")
    common(p)
    p.set_defaults(func=_cmd_questionnaire_list)
    p = qcmds.add_parser("validate", help="check definitions; print every problem with its place")
    p.add_argument("files", nargs="*", help="definition files (default: all)")
    common(p)
    p.set_defaults(func=_cmd_questionnaire_validate)
    p = qcmds.add_parser("export", help="export a questionnaire to XLSForm, SPSS or a codebook")
    p.add_argument("id", help="questionnaire id or file")
    p.add_argument("--format", required=True, choices=list(EXPORT_FORMATS))
    p.add_argument("--out", required=True, help="output file, or a folder")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    common(p)
    p.set_defaults(func=_cmd_questionnaire_export)
    _add_ingest(commands)
    _add_weights(commands)
    _add_scoring(commands)
    _add_forecast(commands)
    _add_reports(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (1 on a reported error)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SurveyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
