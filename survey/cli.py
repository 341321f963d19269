"""The ``pgi-survey`` command. It only composes library calls; no statistics here."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import SurveyError
from .outputs import atomic_path, check_output, check_output_dir

__all__ = ["main", "build_parser"]

#: what a table written with --out (score, forecast) may be
TABLE_SUFFIXES = (".csv", ".xlsx")


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
    from .questionnaire import EXPORT_FORMATS, export_questionnaire, load_questionnaire

    out = Path(args.out)
    source = args.id if Path(args.id).suffix else None
    is_file = out.suffix == EXPORT_FORMATS[args.format][0]
    target = check_output(out, inputs=[source], force=args.force, kind="export") if is_file else None
    if not is_file:
        check_output_dir(out, [], force=args.force)  # the folder, before loading; the file name needs the id
    root = Path(args.dir) if args.dir else None
    qn = load_questionnaire(args.id, province=args.province, root=root)
    if target is None:
        target = check_output(out / _export_name(qn.id, args.format), inputs=[source], force=args.force,
                              kind="export")
    with atomic_path(target) as tmp:
        export_questionnaire(qn, args.format, tmp)
    print(f"wrote {target}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import console_summary, ingest_file, write_report

    report = None
    if args.report:  # checked before the load: a bad report must not leave a committed load behind
        report = check_output(args.report, inputs=[args.file, args.mapping], force=args.force,
                              suffixes=(".csv", ".xlsx"), kind="report")
    result = ingest_file(
        args.file, args.survey, args.period, db=args.db, mapping=args.mapping, format=args.format,
        encoding=args.encoding, sep=args.sep, sheet=args.sheet, province=args.province,
        max_bytes=int(args.max_size * 1024 * 1024), max_rows=args.max_rows, progress=None)
    print(console_summary(result, args.lang))
    if report is not None:
        with atomic_path(report) as tmp:
            write_report(result, tmp, args.lang)
        print(("Báo cáo: " if args.lang == "vi" else "Report: ") + str(report))
    return 0


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
    from .weights import weight_survey

    first, _, last = args.period.partition("..")
    result = weight_survey(args.survey, first, last or first, margins=args.margins, use=args.use,
                           method=args.method, replicates=None if args.replicates == "none" else args.replicates,
                           n_replicates=args.n_replicates, seed=args.seed,
                           trim_limits=tuple(args.trim) if args.trim else None, db=args.db)
    print(result.diagnostics())
    print(f"Stored as weighting #{result.weighting_id} of {args.survey} {first}..{last or first}")
    return 0


def _add_weights(commands) -> None:
    p = commands.add_parser("weights", help="weight stored responses to the province's enterprise population")
    p.add_argument("--survey", required=True, help="questionnaire id")
    p.add_argument("--period", required=True, help="YYYY-MM or a range YYYY-MM..YYYY-MM")
    p.add_argument("--margins", required=True, help="population margins file (YAML)")
    p.add_argument("--use", nargs="+", help="margins to use (default: all in the file)")
    p.add_argument("--method", default="rake", choices=["rake", "linear", "logit", "poststratify"])
    p.add_argument("--replicates", default="bootstrap", choices=["bootstrap", "JK1", "none"])
    p.add_argument("--n-replicates", type=int, default=200, help="bootstrap replicates (default 200)")
    p.add_argument("--seed", type=int, default=20251, help="seed of the bootstrap")
    p.add_argument("--trim", nargs=2, type=float, metavar=("LOWER", "UPPER"),
                   help="keep every weight within these limits (enterprises per respondent)")
    p.add_argument("--db", help="SQLAlchemy URL of the store")
    p.set_defaults(func=_cmd_weights)


def _cmd_score(args: argparse.Namespace) -> int:
    from .scoring import ScoringConfig, score_survey, summary_text

    out = check_output(args.out, force=args.force, suffixes=TABLE_SUFFIXES, kind="table") if args.out else None
    result = score_survey(args.survey, args.year, by=args.by, province=args.province, db=args.db,
                          config=ScoringConfig(min_n=args.min_n, sensitivity=not args.no_sensitivity))
    print(summary_text(result, args.lang))
    if out is not None:
        with atomic_path(out) as tmp:
            if out.suffix.lower() == ".xlsx":
                result.table.to_excel(tmp, index=False)
            else:
                result.table.to_csv(tmp, index=False, encoding="utf-8-sig")
        print(f"wrote {out}")
    return 0


def _cmd_official_import(args: argparse.Namespace) -> int:
    from .scoring import read_official_table
    from .store import Store

    frame, notes = read_official_table(args.file, args.year)
    rows = Store(args.db).save_official(frame)
    for note in notes:
        print(f"note: {note}")
    print(f"imported {rows} official figures for {args.year} ({frame['province'].nunique()} provinces)")
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


def _association_estimates(qid: str, year: int, db: str | None) -> dict | None:
    """The association's score for the year, when its survey has been weighted (for the bridge)."""
    from .errors import EstimationError
    from .scoring import ScoringConfig, association_estimates, score_survey

    try:
        return association_estimates(score_survey(qid, year, db=db, config=ScoringConfig(sensitivity=False)).table)
    except EstimationError:
        return None


def _cmd_forecast(args: argparse.Namespace) -> int:
    from .forecast import ForecastConfig, backtest, forecast_province, forecast_text, simulation_study
    from .scoring import load_targets, official_panel
    from .store import Store

    writes = args.out and not args.action  # backtest and simulate only print
    out = check_output(args.out, force=args.force, suffixes=TABLE_SUFFIXES, kind="table") if writes else None
    panel = official_panel(Store(args.db).read_official())
    if args.action == "backtest":
        print(backtest(panel).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    if args.action == "simulate":
        print(simulation_study(panels=args.panels, provinces=args.provinces).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    if not args.province or not args.year:
        print("error: forecast needs --province and --year", file=sys.stderr)
        return 2
    models = (args.model,) if args.model else ("persistence", "mean_reversion", "bridge")
    estimates = _association_estimates(args.survey, args.year, args.db) if "bridge" in models else None
    targets = load_targets(args.targets) if args.targets else None
    result = forecast_province(args.province, args.year, models=models, panel=panel, estimates=estimates,
                               targets=targets, config=ForecastConfig(draws=args.draws))
    print(forecast_text(result, args.lang))
    if out is not None:
        table = result.table.merge(result.rank_summary(), on="model", how="left")
        with atomic_path(out) as tmp:
            table.to_excel(tmp, index=False) if out.suffix.lower() == ".xlsx" else table.to_csv(tmp, index=False)
        print(f"wrote {out}")
    return 0


def _add_forecast(commands) -> None:
    p = commands.add_parser("forecast", help="forecast the province's official PGI score and rank")
    p.add_argument("action", nargs="?", choices=["backtest", "simulate"],
                   help="backtest: rolling-origin check on the official record; simulate: coverage study")
    p.add_argument("--province", help="province name (English or Vietnamese), e.g. 'Bac Ninh'")
    p.add_argument("--year", type=int, help="the year to forecast (VCCI publishes it the following spring)")
    p.add_argument("--model", choices=["persistence", "mean_reversion", "bridge"], help="default: all, side by side")
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


def _previous_month(period: str) -> str:
    year, month = map(int, period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _cmd_digest(args: argparse.Namespace) -> int:
    from .errors import WeightingError
    from .questionnaire import load_questionnaire
    from .reports import build_digest, write_digest_pdf, write_digest_xlsx
    from .store import Store
    from .weights import load_design

    xlsx, pdf = check_output_dir(args.out, [f"digest_{args.period}.xlsx", f"digest_{args.period}.pdf"],
                                 force=args.force)
    store = Store(args.db)
    qn = load_questionnaire("monthly_difficulties", province=args.province)
    design = load_design(qn, args.period, store=store)
    try:
        previous = load_design(qn, _previous_month(args.period), store=store)
    except WeightingError:
        previous = None
        print(f"note: {_previous_month(args.period)} has no weighted wave; no month-on-month change")
    digest = build_digest(design, qn, args.period, previous, lang=args.lang, min_n=args.min_n,
                          include_personal=args.include_personal)
    for path in (write_digest_xlsx(digest, xlsx), write_digest_pdf(digest, pdf)):
        print(f"wrote {path}")
    if args.include_personal:
        print("WARNING: the cases list contains personal data (names, phones, e-mails) as requested")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .forecast import ForecastConfig, forecast_province
    from .reports import build_annual, write_annual_html, write_annual_pdf
    from .scoring import ScoringConfig, association_estimates, load_targets, official_panel, score_survey
    from .store import Store

    html, pdf = check_output_dir(args.out, [f"pgi_estimate_{args.year}.html", f"pgi_estimate_{args.year}.pdf"],
                                 force=args.force)
    store = Store(args.db)
    scores = score_survey("pgi_feedback", args.year, store=store, config=ScoringConfig())
    estimates = association_estimates(scores.table)
    panel = official_panel(store.read_official())
    forecast = forecast_province(args.forecast_province, args.year, panel=panel, estimates=estimates,
                                 targets=load_targets(args.targets) if args.targets else None,
                                 config=ForecastConfig(draws=args.draws))
    diagnostics = "\n".join(scores.notes)
    report = build_annual(scores, forecast, panel, diagnostics, args.title_province or args.forecast_province,
                          args.year)
    for path in (write_annual_html(report, html, args.lang), write_annual_pdf(report, pdf, args.lang)):
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
    p.add_argument("--format", choices=["kobo_csv", "csv", "sav", "xlsx"], help="default: from the file's content")
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
    p.add_argument("--format", required=True, choices=["xlsform", "sav", "codebook"])
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
