"""The ``pgi-survey`` command. It only composes library calls; no statistics here.

Everything it prints, its help and argparse's own texts included, is in the language of
``--lang vi|en`` (any command, before or after its name), else of ``$PGI_LANG``, else
Vietnamese; the texts come from the message catalogue (:mod:`survey.i18n`, ids ``cli.*``).
Errors are printed as ``lỗi: ...`` / ``error: ...``, without a traceback, with exit status 1.
Every command that uses the default store (no ``--db``) says which one on standard error
(``Kho dữ liệu: ...``), so output piped elsewhere stays clean; output piped into a program that stops reading
(``| head``) ends the command quietly, without a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from pathlib import Path
from typing import Iterator, Sequence

from .errors import SurveyError, SurveyWarning
from .i18n import DEFAULT_LANG, ENV_LANG, LANGS, _, error_text, resolve_lang, translations
from .options import BOOTSTRAP_SCALES, LONELY_PSU, REPLICATE_TYPES
from .options import EXPORT_FORMAT_NAMES as EXPORT_FORMATS
from .options import FORECAST_MODELS as MODELS
from .options import INGEST_FORMATS as FORMATS
from .options import WEIGHTING_METHODS as METHODS

__all__ = ["main", "build_parser"]


def _cmd_questionnaire_list(args: argparse.Namespace) -> int:
    from .questionnaire import list_questionnaires, load_questionnaire

    root = Path(args.dir) if args.dir else None
    for path in list_questionnaires(root):
        qn = load_questionnaire(path, province=args.province, root=path.parent)
        print(_("cli.questionnaire.list.row", args.lang, id=qn.id, version=qn.version,
                questions=len(qn.questions), indicators=len(qn.indicators), title=qn.title.get(args.lang)))
    return 0


def _cmd_questionnaire_validate(args: argparse.Namespace) -> int:
    from .i18n import problem_text
    from .questionnaire import list_questionnaires
    from .questionnaire.load import iter_problems

    root = Path(args.dir) if args.dir else None
    paths = [Path(f) for f in args.files] or list_questionnaires(root)
    problems = list(iter_problems(paths, province=args.province))
    for p in problems:  # file:line: place: message (hint), in the chosen language
        print(problem_text(p, args.lang), file=sys.stderr)
    if problems:
        print(_("cli.questionnaire.validate.problems", args.lang, count=len(problems), files=len(paths)),
              file=sys.stderr)
        return 1
    print(_("cli.questionnaire.validate.valid", args.lang, count=len(paths), names=", ".join(p.stem for p in paths)))
    return 0


def _export_name(qid: str, fmt: str) -> str:
    """The file name ``export_questionnaire`` gives an export written into a folder."""
    from .questionnaire import EXPORT_FORMATS

    return f"{qid}_codebook.md" if fmt == "codebook" else f"{qid}{EXPORT_FORMATS[fmt][0]}"


def _cmd_questionnaire_export(args: argparse.Namespace) -> int:
    from . import jobs

    outcome = jobs.export_definition(args.id, args.format, args.out, province=args.province, root=args.dir,
                                     force=args.force, period=args.period)
    _written(outcome, args.lang)
    return 0


def _notes(outcome, lang: str) -> None:
    from .notes import note_text

    for note in outcome.notes:
        print(_("cli.note", lang, note=note_text(note, lang)))


def _wrote(outcome, lang: str) -> None:
    for path in outcome.written:
        print(_("cli.wrote", lang, path=path))


def _written(outcome, lang: str) -> None:
    """Print an outcome's notes and the files it wrote."""
    _notes(outcome, lang)
    _wrote(outcome, lang)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from . import jobs
    from .ingest import console_summary

    options = jobs.IngestOptions(format=args.format, encoding=args.encoding, sep=args.sep, sheet=args.sheet,
                                 mapping=args.mapping, max_bytes=int(args.max_size * 1024 * 1024),
                                 max_rows=args.max_rows, province=args.province, id_column=args.id_column,
                                 strict=args.strict)
    with warnings.catch_warnings():  # the load's warnings are in its summary, in the user's language
        warnings.simplefilter("ignore", SurveyWarning)
        outcome = jobs.load_export(_store(args), args.file, args.survey, args.period, options, report=args.report,
                                   lang=args.lang, force=args.force, progress=None, replace=args.replace,
                                   reason=args.reason)
    print(console_summary(outcome.value, args.lang))
    for path in outcome.written:
        print(_("cli.ingest.report_written", args.lang, path=path))
    return 0


def _store(args: argparse.Namespace, create: bool = True):
    """The store of ``--db``, or the default one: then said on standard error, so the user knows which
    (a store given with ``--db`` is not repeated back)."""
    from .store import Store, store_location

    if not args.db:
        print(_("cli.store", args.lang, location=store_location(args.db)), file=sys.stderr)
    return Store(args.db, create=create)


def _cmd_loads(args: argparse.Namespace) -> int:
    from .errors import StoreError

    if args.action == "remove":
        from . import jobs  # here: listing needs only the store, and starts faster without the library

        if args.load is None:
            print(_("cli.error", args.lang, message=_("cli.loads.remove.load", args.lang)), file=sys.stderr)
            return 2
        removed = jobs.remove_load(_store(args, create=False), args.load, reason=args.reason).value
        print(_("cli.loads.removed", args.lang, **removed))
        if removed.get("restored") is not None:
            print(_("cli.loads.restored", args.lang, load=removed["restored"]))
        return 0
    try:
        store = _store(args, create=False)  # listing never creates an empty store somewhere
    except StoreError as exc:
        if exc.code != "store.missing":
            raise
        print(_("cli.loads.no_store", args.lang, **exc.params))
        return 0
    records, columns = store.load_records()
    if not records:
        print(_("cli.loads.none", args.lang))
        return 0
    print(_loads_table(records, columns, args.lang))
    return 0


#: the audit log's columns the terminal does not show (the status says them in words)
_LOADS_HIDDEN = ("size_bytes", "removed_at", "removed_by", "removed_reason", "replaced_by")


def _loads_table(records: list[dict], columns: list[str], lang: str) -> str:
    """The audit log for the terminal: columns named in ``lang``, a removed load's status in words, each
    column right-aligned under its name. Plain text, without pandas, so that listing starts fast."""
    from .text import printable

    def status(row: dict) -> str:
        if row["removed_at"] is None:
            return ""
        when = row["removed_at"].strftime("%Y-%m-%d %H:%M")
        reason, user = printable(row["removed_reason"] or "", 60), printable(row["removed_by"] or "", 30)
        if row["replaced_by"] is not None:
            return _("cli.loads.status_replaced", lang, when=when, user=user, by=int(row["replaced_by"]),
                     reason=reason)
        return _("cli.loads.status_removed", lang, when=when, user=user, reason=reason)

    shown = {"loaded_at": lambda t: t.strftime("%Y-%m-%d %H:%M"), "sha256": lambda h: h[:12],
             "file_name": lambda name: printable(name, 60),  # names come from outside
             "user_name": lambda name: printable(name or "", 30)}
    names = [c for c in columns if c not in _LOADS_HIDDEN] + ["status"]
    rows = [[_cell(shown.get(c, lambda v: v)(r[c])) for c in names[:-1]] + [status(r)] for r in records]
    header = [_(f"cli.loads.column.{c}", lang) for c in names]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    return "\n".join(" ".join(v.rjust(w) for v, w in zip(line, widths)) for line in [header] + rows)


def _cell(value) -> str:
    return "" if value is None else str(value)


def _cmd_weights(args: argparse.Namespace) -> int:
    from . import jobs
    from .weights import RakingConfig

    config = RakingConfig(args.margins, use=tuple(args.use) if args.use else None, method=args.method,
                          replicates=None if args.replicates == "none" else args.replicates,
                          n_replicates=args.n_replicates, seed=args.seed,
                          trim_limits=tuple(args.trim) if args.trim else None,
                          bounds=tuple(args.bounds) if args.bounds else (float("-inf"), float("inf")),
                          strata=args.strata, ids=tuple(args.ids) if args.ids else None,
                          fpc=tuple(args.fpc) if args.fpc else None, lonely_psu=args.lonely_psu,
                          bootstrap_scale=args.bootstrap_scale)
    outcome = jobs.weight_wave(_store(args), args.survey, args.period, config)
    print(outcome.value.diagnostics.text(args.lang))
    _notes(outcome, args.lang)
    print(_("cli.weights.stored", args.lang, id=outcome.value.weighting_id, survey=args.survey,
            periods=outcome.used["periods"]))
    return 0


def _add_weights(commands, lang: str) -> None:
    p = _command(commands, "weights", _("cli.weights", lang), lang)
    p.add_argument("--survey", required=True, help=_("cli.survey_id", lang))
    p.add_argument("--period", required=True, help=_("cli.weights.period", lang))
    p.add_argument("--margins", required=True, help=_("cli.weights.margins", lang))
    p.add_argument("--use", nargs="+", help=_("cli.weights.use", lang))
    p.add_argument("--method", default="rake", choices=METHODS, help=_("cli.weights.method", lang))
    p.add_argument("--replicates", default="bootstrap", choices=[*REPLICATE_TYPES, "none"],
                   help=_("cli.weights.replicates", lang))
    p.add_argument("--n-replicates", type=int, default=200, help=_("cli.weights.n_replicates", lang))
    p.add_argument("--seed", type=int, default=20251, help=_("cli.weights.seed", lang))
    p.add_argument("--trim", nargs=2, type=float, metavar=("LOWER", "UPPER"), help=_("cli.weights.trim", lang))
    p.add_argument("--bounds", nargs=2, type=float, metavar=("LOW", "HIGH"), help=_("cli.weights.bounds", lang))
    p.add_argument("--strata", help=_("cli.weights.strata", lang))
    p.add_argument("--ids", nargs="+", help=_("cli.weights.ids", lang))
    p.add_argument("--fpc", nargs="+", help=_("cli.weights.fpc", lang))
    p.add_argument("--lonely-psu", choices=LONELY_PSU, help=_("cli.weights.lonely_psu", lang))
    p.add_argument("--bootstrap-scale", default="rao-wu", choices=BOOTSTRAP_SCALES,
                   help=_("cli.weights.bootstrap_scale", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_weights)


def _cmd_score(args: argparse.Namespace) -> int:
    from . import jobs
    from .scoring import ScoringConfig, summary_text

    outcome = jobs.score_year(_store(args), args.survey, args.year,
                              ScoringConfig(min_n=args.min_n, sensitivity=not args.no_sensitivity), by=args.by,
                              province=args.province, out=args.out, force=args.force, lang=args.lang)
    print(summary_text(outcome.value, args.lang))
    _wrote(outcome, args.lang)
    return 0


def _cmd_official_import(args: argparse.Namespace) -> int:
    from . import jobs

    outcome = jobs.import_official(_store(args), args.file, args.year, mean=args.mean, lang=args.lang)
    _notes(outcome, args.lang)
    print(_("cli.official.imported", args.lang, rows=outcome.used["rows"], year=args.year,
            provinces=outcome.used["provinces"]))
    return 0


def _add_scoring(commands, lang: str) -> None:
    p = _command(commands, "score", _("cli.score", lang), lang)
    p.add_argument("--survey", default="pgi_feedback", help=_("cli.score.survey", lang))
    p.add_argument("--year", required=True, type=int, help=_("cli.score.year", lang))
    p.add_argument("--by", help=_("cli.score.by", lang))
    p.add_argument("--out", help=_("cli.out_table", lang))
    p.add_argument("--force", action="store_true", help=_("cli.force", lang))
    p.add_argument("--province", help=_("cli.score.province", lang))
    p.add_argument("--min-n", type=int, default=10, help=_("cli.score.min_n", lang))
    p.add_argument("--no-sensitivity", action="store_true", help=_("cli.score.no_sensitivity", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_score)
    p = _command(commands, "official", _("cli.official", lang), lang)
    sub = p.add_subparsers(dest="action", required=True, title=_("cli.actions", lang))
    q = _command(sub, "import", _("cli.official.import", lang), lang)
    q.add_argument("file", help=_("cli.official.import.file", lang))
    q.add_argument("--year", required=True, type=int, help=_("cli.official.import.year", lang))
    q.add_argument("--mean", type=float, help=_("cli.official.import.mean", lang))
    _lang_and_db(q, lang)
    q.set_defaults(func=_cmd_official_import)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from . import jobs
    from .forecast import ForecastConfig, backtest_text, forecast_text, simulation_text

    if args.action == "backtest":
        outcome = jobs.backtest_forecast(_store(args))
        print(backtest_text(outcome.value, args.lang))
        return 0
    if args.action == "simulate":
        outcome = jobs.simulate_forecast(panels=args.panels, draws=min(args.draws, 1000))
        print(simulation_text(outcome.value, args.lang))
        return 0
    if not args.province or not args.year:
        print(_("cli.error", args.lang, message=_("cli.forecast.needs", args.lang)), file=sys.stderr)
        return 2
    outcome = jobs.forecast_year(_store(args), args.province, args.year, ForecastConfig(draws=args.draws),
                                 survey=args.survey, targets=args.targets, survey_province=args.survey_province,
                                 models=(args.model,) if args.model else None, out=args.out, force=args.force,
                                 lang=args.lang)
    print(forecast_text(outcome.value, args.lang))
    _wrote(outcome, args.lang)
    return 0


def _add_forecast(commands, lang: str) -> None:
    p = _command(commands, "forecast", _("cli.forecast", lang), lang)
    p.add_argument("action", nargs="?", choices=["backtest", "simulate"], help=_("cli.forecast.action", lang))
    p.add_argument("--province", help=_("cli.forecast.province", lang))
    p.add_argument("--year", type=int, help=_("cli.forecast.year", lang))
    p.add_argument("--model", choices=MODELS, help=_("cli.forecast.model", lang))
    p.add_argument("--survey", default="pgi_feedback", help=_("cli.forecast.survey", lang))
    p.add_argument("--survey-province", help=_("cli.forecast.survey_province", lang))
    p.add_argument("--targets", default="bac_giang", help=_("cli.targets", lang))
    p.add_argument("--draws", type=int, default=10_000, help=_("cli.draws", lang))
    p.add_argument("--panels", type=int, default=200, help=_("cli.forecast.panels", lang))
    p.add_argument("--out", help=_("cli.out_table", lang))
    p.add_argument("--force", action="store_true", help=_("cli.force", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_forecast)


def _cmd_digest_review(args: argparse.Namespace) -> int:
    """List the month's cases; edit, approve or record the follow-up of those named."""
    from . import jobs
    from .text import printable

    store = _store(args)
    if args.edit:
        jobs.edit_case(store, args.edit, description=args.description, proposal=args.proposal)
        print(_("cli.digest.review.edited", args.lang, reference=args.edit))
    for reference in args.approve or []:
        jobs.approve_case(store, reference)
        print(_("cli.digest.review.approved", args.lang, reference=reference))
    if args.follow_up:
        jobs.follow_up_case(store, args.follow_up[0], args.follow_up[1])
        print(_("cli.digest.review.followed", args.lang, reference=args.follow_up[0],
                status=_(f"rpt.follow_up.{args.follow_up[1]}", args.lang)))
    cases = jobs.review_cases(store, args.period, province=args.province).value
    if cases.empty:
        print(_("cli.digest.review.none", args.lang, period=args.period))
    for case in cases.itertuples(index=False):
        print(_("cli.digest.review.row", args.lang, reference=case.reference,
                status=_(f"rpt.review.{case.status}", args.lang), follow_up=_(f"rpt.follow_up.{case.follow_up}",
                                                                              args.lang),
                description=printable(case.description, 300), proposal=printable(case.proposal, 300)))
    return 0


def _cmd_digest(args: argparse.Namespace) -> int:
    from . import jobs

    if args.action == "review":
        return _cmd_digest_review(args)
    outcome = jobs.monthly_digest(_store(args), args.period, out=args.out, lang=args.lang, min_n=args.min_n,
                                  include_personal=args.include_personal, province=args.province, force=args.force,
                                  issuer=args.issuer, invited=args.invited)
    _written(outcome, args.lang)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from . import jobs
    from .forecast import ForecastConfig

    outcome = jobs.annual_report(_store(args), args.year, args.forecast_province,
                                 title_province=args.title_province, targets=args.targets,
                                 forecast_config=ForecastConfig(draws=args.draws), out=args.out, lang=args.lang,
                                 force=args.force)
    _wrote(outcome, args.lang)
    return 0


def _add_reports(commands, lang: str) -> None:
    p = _command(commands, "digest", _("cli.digest", lang), lang)
    p.add_argument("action", nargs="?", choices=["review"], help=_("cli.digest.review", lang))
    p.add_argument("--period", required=True, help=_("cli.digest.period", lang))
    p.add_argument("--approve", action="append", metavar="REF", help=_("cli.digest.review.approve", lang))
    p.add_argument("--edit", metavar="REF", help=_("cli.digest.review.edit", lang))
    p.add_argument("--description", help=_("cli.digest.review.description", lang))
    p.add_argument("--proposal", help=_("cli.digest.review.proposal", lang))
    p.add_argument("--follow-up", nargs=2, metavar=("REF", "STATUS"), help=_("cli.digest.review.follow_up", lang))
    p.add_argument("--issuer", help=_("cli.digest.issuer", lang))
    p.add_argument("--invited", type=int, help=_("cli.digest.invited", lang))
    p.add_argument("--out", default="out", help=_("cli.out_folder", lang))
    p.add_argument("--force", action="store_true", help=_("cli.force", lang))
    p.add_argument("--min-n", type=int, default=10, help=_("cli.digest.min_n", lang))
    p.add_argument("--include-personal", action="store_true", help=_("cli.digest.include_personal", lang))
    p.add_argument("--province", help=_("cli.locality_list", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_digest)
    p = _command(commands, "report", _("cli.report", lang), lang)
    p.add_argument("--year", required=True, type=int, help=_("cli.report.year", lang))
    p.add_argument("--forecast-province", required=True, help=_("cli.report.forecast_province", lang))
    p.add_argument("--title-province", help=_("cli.report.title_province", lang))
    p.add_argument("--targets", help=_("cli.targets", lang))
    p.add_argument("--draws", type=int, default=10_000, help=_("cli.draws", lang))
    p.add_argument("--out", default="out", help=_("cli.out_folder", lang))
    p.add_argument("--force", action="store_true", help=_("cli.force", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_report)


def _add_ingest(commands, lang: str) -> None:
    p = _command(commands, "ingest", _("cli.ingest", lang), lang)
    p.add_argument("file", help=_("cli.ingest.file", lang))
    p.add_argument("--survey", required=True, help=_("cli.ingest.survey", lang))
    p.add_argument("--period", required=True, help=_("cli.ingest.period", lang))
    p.add_argument("--mapping", help=_("cli.ingest.mapping", lang))
    p.add_argument("--report", help=_("cli.ingest.report", lang))
    p.add_argument("--force", action="store_true", help=_("cli.ingest.force", lang))
    p.add_argument("--format", choices=FORMATS, help=_("cli.ingest.format", lang))
    p.add_argument("--encoding", help=_("cli.ingest.encoding", lang))
    p.add_argument("--sep", help=_("cli.ingest.sep", lang))
    p.add_argument("--sheet", help=_("cli.ingest.sheet", lang))
    p.add_argument("--max-size", type=float, default=1024, help=_("cli.ingest.max_size", lang))
    p.add_argument("--max-rows", type=int, default=2_000_000, help=_("cli.ingest.max_rows", lang))
    p.add_argument("--province", help=_("cli.locality_list", lang))
    p.add_argument("--id-column", help=_("cli.ingest.id_column", lang))
    p.add_argument("--replace", type=int, metavar="N", help=_("cli.ingest.replace", lang))
    p.add_argument("--reason", help=_("cli.ingest.reason", lang))
    p.add_argument("--strict", action="store_true", help=_("cli.ingest.strict", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_ingest)
    p = _command(commands, "loads", _("cli.loads", lang), lang)
    p.add_argument("action", nargs="?", choices=["list", "remove"], default="list", help=_("cli.loads.action", lang))
    p.add_argument("load", nargs="?", type=int, help=_("cli.loads.remove.load", lang))
    p.add_argument("--reason", help=_("cli.loads.reason", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_loads)


def _cmd_serve(args: argparse.Namespace) -> int:
    """The staff's web page on ``--host``:``--port`` (uvicorn), on the store of ``--db``."""
    import uvicorn

    from .web import WebConfig, create_app

    _store(args)  # says which store, and opens (or creates) it before the first page
    app = create_app(WebConfig(db=args.db, folder=Path(args.folder) if args.folder else None,
                               secure_cookies=args.secure_cookies))
    print(_("cli.serve.open", args.lang, host=args.host, port=args.port), file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_users(args: argparse.Namespace) -> int:
    """Add an account (or give it a new role and password): the password from ``$PGI_WEB_PASSWORD``,
    else asked twice without echo."""
    import getpass

    from . import jobs

    password = os.environ.get("PGI_WEB_PASSWORD")
    if password is None:
        password = getpass.getpass(_("cli.users.password", args.lang))
        if getpass.getpass(_("cli.users.again", args.lang)) != password:
            print(_("cli.error", args.lang, message=_("cli.users.mismatch", args.lang)), file=sys.stderr)
            return 1
    jobs.add_user(_store(args), args.name, args.role, password)
    print(_("cli.users.added", args.lang, name=args.name, role=args.role))
    return 0


def _cmd_kobo(args: argparse.Namespace) -> int:
    """Pull a month from KoboToolbox into a CSV, check it (nothing stored), and load it with ``--load``."""
    import getpass

    from . import jobs
    from .ingest import console_summary

    token = os.environ.get("PGI_KOBO_TOKEN") or getpass.getpass(_("cli.kobo.token", args.lang))
    out = args.out or f"kobo_{args.asset}_{args.period}.csv"
    pulled = jobs.pull_kobo(args.server, args.asset, args.period, token, out)
    print(_("cli.kobo.pulled", args.lang, count=pulled.used["submissions"], path=out))
    store = _store(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        if args.load:
            loaded = jobs.load_export(store, out, args.survey, args.period, lang=args.lang)
            print(console_summary(loaded.value, args.lang))
            return 0
        checked = jobs.preview_export(store, out, args.survey, args.period)
    print("\n".join(console_summary(checked.value, args.lang).splitlines()[1:]))
    print(_("cli.kobo.next", args.lang, path=out, survey=args.survey, period=args.period))
    return 0


def _add_web(commands, lang: str) -> None:
    p = _command(commands, "kobo", _("cli.kobo", lang), lang)
    p.add_argument("action", choices=["pull"], help=_("cli.kobo", lang))
    p.add_argument("--server", required=True, help=_("cli.kobo.server", lang))
    p.add_argument("--asset", required=True, help=_("cli.kobo.asset", lang))
    p.add_argument("--period", required=True, help=_("cli.ingest.period", lang))
    p.add_argument("--survey", default="monthly_difficulties", help=_("cli.ingest.survey", lang))
    p.add_argument("--out", help=_("cli.kobo.out", lang))
    p.add_argument("--load", action="store_true", help=_("cli.kobo.load", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_kobo)
    p = _command(commands, "serve", _("cli.serve", lang), lang)
    p.add_argument("--host", default="127.0.0.1", help=_("cli.serve.host", lang))
    p.add_argument("--port", type=int, default=8000, help=_("cli.serve.port", lang))
    p.add_argument("--folder", help=_("cli.serve.folder", lang))
    p.add_argument("--secure-cookies", action="store_true", help=_("cli.serve.secure", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_serve)
    p = _command(commands, "users", _("cli.users", lang), lang)
    p.add_argument("action", choices=["add"], help=_("cli.users", lang))
    p.add_argument("name", help=_("cli.users.name", lang))
    p.add_argument("--role", required=True, choices=["admin", "staff", "analyst", "viewer"],
                   help=_("cli.users.role", lang))
    _lang_and_db(p, lang)
    p.set_defaults(func=_cmd_users)


def _command(commands, name: str, help: str, lang: str) -> argparse.ArgumentParser:
    """A sub-command whose description is its help."""
    return commands.add_parser(name, help=help, description=help)


def _lang_and_db(p: argparse.ArgumentParser, lang: str) -> None:
    """``--lang`` and ``--db``, on every command that runs something."""
    # SUPPRESS: when not given after the command, the value given before it (or the default) stands
    p.add_argument("--lang", choices=LANGS, default=argparse.SUPPRESS, help=_("cli.lang", lang))
    p.add_argument("--db", help=_("cli.db", lang))


@contextlib.contextmanager
def _argparse_in(lang: str) -> Iterator[None]:
    """argparse's own texts ("usage:", "options", its errors) from the catalogue while the block runs."""
    tr = translations(lang)
    saved = argparse._, argparse.ngettext  # argparse looks both up by these names when it needs a text
    argparse._, argparse.ngettext = tr.gettext, tr.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def language_of(argv: Sequence[str]) -> str:
    """The language a command line asks for, read before parsing it (its help is built in it).

    The last ``--lang X`` or ``--lang=X`` before any ``--``; else ``$PGI_LANG``; else
    Vietnamese. A ``--lang`` that is not a language is left to argparse to refuse (in the
    language of ``$PGI_LANG``, or Vietnamese).

    Raises
    ------
    LanguageError
        When ``$PGI_LANG`` is set to something other than ``vi`` or ``en``.
    """
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    if found in LANGS:
        return found
    return resolve_lang(os.environ.get(ENV_LANG) or DEFAULT_LANG)


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``pgi-survey``, its help in ``lang`` (default: ``$PGI_LANG`` or Vietnamese)."""
    lang = resolve_lang(lang)
    with _argparse_in(lang):
        parser = argparse.ArgumentParser(prog="pgi-survey", description=_("cli.description", lang))
        parser.add_argument("--lang", choices=LANGS, default=lang, help=_("cli.lang", lang))
        commands = parser.add_subparsers(dest="command", required=True, title=_("cli.commands", lang))
        qparser = _command(commands, "questionnaire", _("cli.questionnaire", lang), lang)
        qcmds = qparser.add_subparsers(dest="action", required=True, title=_("cli.actions", lang))

        def common(p: argparse.ArgumentParser) -> None:
            p.add_argument("--dir", help=_("cli.questionnaire.dir", lang))
            p.add_argument("--province", help=_("cli.questionnaire.province", lang))
            p.add_argument("--lang", choices=LANGS, default=argparse.SUPPRESS, help=_("cli.lang", lang))

        p = _command(qcmds, "list", _("cli.questionnaire.list", lang), lang)
        common(p)
        p.set_defaults(func=_cmd_questionnaire_list)
        p = _command(qcmds, "validate", _("cli.questionnaire.validate", lang), lang)
        p.add_argument("files", nargs="*", help=_("cli.questionnaire.validate.files", lang))
        common(p)
        p.set_defaults(func=_cmd_questionnaire_validate)
        p = _command(qcmds, "export", _("cli.questionnaire.export", lang), lang)
        p.add_argument("id", help=_("cli.questionnaire.export.id", lang))
        p.add_argument("--format", required=True, choices=list(EXPORT_FORMATS),
                       help=_("cli.questionnaire.export.format", lang))
        p.add_argument("--out", required=True, help=_("cli.questionnaire.export.out", lang))
        p.add_argument("--force", action="store_true", help=_("cli.force", lang))
        p.add_argument("--period", help=_("cli.questionnaire.export.period", lang))
        common(p)
        p.set_defaults(func=_cmd_questionnaire_export)
        _add_ingest(commands, lang)
        _add_weights(commands, lang)
        _add_scoring(commands, lang)
        _add_forecast(commands, lang)
        _add_reports(commands, lang)
        _add_web(commands, lang)
    return parser


def _safe(text: str) -> str:
    """A message for the terminal: its lines kept, but no escape codes or control characters, and no
    line longer than a screen can use (file names, headers and values in messages come from files)."""
    from .text import printable

    def short(line: str) -> str:  # a long line loses its middle: its start says where, its end what to do
        line = printable(line, None)
        return line if len(line) <= 600 else line[:300] + " … " + line[-300:]
    return "\n".join(short(line) for line in text.splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 on a reported error, 2 on a usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        lang = language_of(argv)
    except SurveyError as exc:  # $PGI_LANG is not a language: say so in both
        print(f"lỗi / error: {error_text(exc, 'en')}", file=sys.stderr)
        return 1
    parser = build_parser(lang)
    with _argparse_in(lang):
        args = parser.parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at the interpreter's exit
        return status
    except BrokenPipeError:
        return _pipe_closed()
    except SurveyError as exc:
        print(_safe(_("cli.error", args.lang, message=error_text(exc, args.lang))), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_("cli.interrupted", args.lang), file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one clear line for staff, the traceback only when asked
        if os.environ.get("PGI_DEBUG"):
            raise
        what = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        print(_safe(_("cli.internal", args.lang, what=what)), file=sys.stderr)
        return 70


def _pipe_closed() -> int:
    """The reader of our output stopped (``| head``): end quietly, as command-line tools do.

    Standard output is pointed at the null device so Python's final flush cannot fail again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout (tests): nothing to redirect
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a command ended by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
