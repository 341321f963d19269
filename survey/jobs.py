"""The use-case layer: one function per job a user of pgi-survey has.

Front ends (the command line, ``pipelines/``, the notebooks, the web page)
call only these, so a report made from any of them is the same report. Each
job takes a :class:`~survey.store.Store` and typed arguments (periods as
:class:`~survey.period.Period`/:class:`~survey.period.PeriodRange`, settings
as frozen config objects) and returns an :class:`Outcome`: the result, the
notes a person should read, what was used (questionnaire version, weighting,
periods, files, seeds) and the files written.

Data flows one way, as in the library: ingest -> store -> weights -> scoring
-> forecast -> reports. This is the only module that both reads the store and
calls the statistics; ``survey.weights`` and ``survey.scoring`` never touch
the store.
"""
from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from .errors import EstimationError, SurveyError, SurveyWarning, WeightingError
from .i18n import _, has_message
from .notes import notes_text
from .ingest import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, FORMATS, LoadResult, ingest_file, write_report
from .outputs import atomic_path, check_output, check_output_dir
from .period import Period, PeriodRange
from .questionnaire import Questionnaire, load_questionnaire
from .store import Store, load_responses
from .vocabulary import MERGER_YEAR
from .weights import (
    Design, Diagnostics, RakingConfig, WeightingResult, log_from_json, log_to_json, steps_from_arrays, steps_to_arrays,
    weigh,
)
from .weights.design import replicate_dtype

__all__ = [
    "Outcome", "IngestOptions", "export_definition", "load_export", "weight_wave", "load_weighted", "score_year",
    "import_official", "forecast_year", "forecast_table", "backtest_forecast", "simulate_forecast",
    "monthly_digest", "annual_report", "demo_year", "demo_store", "run_record", "TABLE_SUFFIXES", "MONTHLY",
    "FEEDBACK", "review_cases", "edit_case", "approve_case", "follow_up_case", "remove_load", "load_counts",
    "wave_counts",
    "preview_export", "list_loads", "quarantined_rows", "margins_files", "add_user", "verify_user", "audit",
    "audit_log", "accept_quarantined", "pull_kobo", "session_role", "end_session", "session_ended",
]

T = TypeVar("T")
MONTHLY = "monthly_difficulties"
FEEDBACK = "pgi_feedback"
#: what a table written with ``out`` may be
TABLE_SUFFIXES = (".csv", ".xlsx")


@dataclass
class Outcome(Generic[T]):
    """What a job returns: its result, notes for a person, what was used, and the files written."""

    value: T
    notes: list[str] = field(default_factory=list)
    used: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def _questionnaire(survey: str | Questionnaire, province: str | None = None,
                   period: str | None = None) -> Questionnaire:
    """The questionnaire named (its locality list the one of ``period``, a month, when given); an unknown
    id is refused with the known ids."""
    if isinstance(survey, str) and not Path(survey).suffix and "/" not in survey:
        _check_survey_id(survey)
    return survey if isinstance(survey, Questionnaire) else load_questionnaire(survey, province=province,
                                                                               period=period)


def _check_survey_id(survey: str) -> None:
    """An id that names no shipped questionnaire is refused with the known ids (not a path to a missing file)."""
    from .errors import IngestError
    from .questionnaire import list_questionnaires

    known = [p.stem for p in list_questionnaires()]
    if survey not in known:
        raise IngestError(f"there is no questionnaire '{survey}'", hint="the questionnaires: " + ", ".join(known),
                          code="ingest.unknown_survey", params={"survey": survey, "known": ", ".join(known)})


def _period(value: str | Period) -> Period:
    try:
        return value if isinstance(value, Period) else Period.parse(value)
    except SurveyError as exc:
        raise SurveyError(exc.message, code=exc.code, params=exc.params) from None  # without its hint


def _write_table(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".xlsx":
            frame.to_excel(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel reads Vietnamese right
    return path


# ------------------------------------------------------------------ questionnaires

def export_definition(survey: str | Path, fmt: str, out: str | Path, *, province: str | None = None,
                      root: str | Path | None = None, force: bool = False,
                      period: str | Period | None = None) -> Outcome[Path]:
    """Export a questionnaire as XLSForm, SPSS or a codebook to a file, or into a folder.

    The target is checked before anything is loaded (a folder first, then the file name,
    which needs the questionnaire's id); the file is written whole or not at all. With
    ``period`` (``YYYY-MM``) the locality question offers the list of that period: districts
    before 2025-07, communes and wards from then (:func:`survey.places.locality_for`).
    """
    from .questionnaire import EXPORT_FORMATS, export_questionnaire

    out = Path(out)
    source = str(survey) if Path(str(survey)).suffix else None
    into_file = out.suffix == EXPORT_FORMATS[fmt][0]
    target = check_output(out, inputs=[source], force=force, kind="export") if into_file else None
    if not into_file:
        check_output_dir(out, [], force=force)
    month = str(_period(period)) if period is not None else None
    qn = load_questionnaire(survey, province=province, root=Path(root) if root else None, period=month)
    if target is None:
        name = f"{qn.id}_codebook.md" if fmt == "codebook" else f"{qn.id}{EXPORT_FORMATS[fmt][0]}"
        target = check_output(out / name, inputs=[source], force=force, kind="export")
    with atomic_path(target) as tmp:
        export_questionnaire(qn, fmt, tmp)
    used = {"questionnaire": f"{qn.id} v{qn.version}", "format": fmt}
    if qn.locality is not None:
        used["localities"] = qn.locality.key
    return Outcome(target, used=used, written=[target])


# ------------------------------------------------------------------ ingest

@dataclass(frozen=True)
class IngestOptions:
    """How to read an export (see :func:`survey.ingest.iter_chunks`), checked once.

    Raises
    ------
    SurveyError
        An unknown format, or limits that are not positive.
    """

    format: str | None = None
    encoding: str | None = None
    sep: str | None = None
    sheet: str | int | None = None
    mapping: str | Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    chunksize: int = 20_000
    province: str | None = None
    #: the column of response ids, when not one the tools use (see :data:`survey.ingest.ID_COLUMNS`)
    id_column: str | None = None
    #: refuse a file whose submissions lie mostly outside the period (default: a warning)
    strict: bool = False

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise SurveyError(f"unknown format {self.format!r}", hint="one of " + ", ".join(FORMATS),
                              code="ingest.unknown_format", params={"format": repr(self.format),
                                                                    "known": ", ".join(FORMATS)})
        for name in ("max_bytes", "max_rows", "chunksize"):
            if getattr(self, name) < 1:
                raise SurveyError(f"{name} must be at least 1, not {getattr(self, name)}", code="ingest.option_below_1",
                                  params={"name": name, "value": getattr(self, name)})


def load_export(store: Store, path: str | Path, survey: str | Questionnaire, period: str | Period,
                options: IngestOptions = IngestOptions(), *, report: str | Path | None = None,
                lang: str = "vi", force: bool = False, user: str | None = None,
                progress: bool | None = False, replace: int | None = None,
                reason: str | None = None, release: int | None = None) -> Outcome[LoadResult]:
    """Load one survey export into the store, and write its problem report if asked.

    The report path is checked before the load (never the input file; never an
    existing file unless ``force``), so a bad path leaves no load behind. ``replace``: the number of an
    earlier load this one replaces, in the same transaction (``reason`` is kept in
    the audit log). The counts (accepted, with corrections, quarantined, already
    present) are in the result; :func:`load_counts` gives those of a whole wave.

    Raises
    ------
    IngestError
        The file cannot be loaded; the store is unchanged.
    OutputError
        The report cannot be written there.
    """
    target = None
    if report is not None:
        target = check_output(report, inputs=[path, options.mapping, store.file], force=force,
                              suffixes=(".csv", ".xlsx"), kind="report")
    qn = _questionnaire(survey, options.province, str(_period(period)))  # the wave's locality list
    result = ingest_file(path, qn, str(_period(period)), store=store, mapping=options.mapping,
                         format=options.format, encoding=options.encoding, sep=options.sep, sheet=options.sheet,
                         chunksize=options.chunksize, max_bytes=options.max_bytes, max_rows=options.max_rows,
                         user=user, progress=progress, id_column=options.id_column, replace=replace,
                         reason=reason, strict=options.strict, release=release)
    outcome = Outcome(result, used={"questionnaire": f"{qn.id} v{qn.version}", "file": str(path),
                                    "sha256": result.sha256, "load": result.load_id})
    if target is not None:
        outcome.written.append(_write_load_report(result, target, lang))
    return outcome


def remove_load(store: Store, load: int, *, user: str | None = None, reason: str | None = None) -> Outcome[dict]:
    """Undo a load: its responses, quarantined rows and corrections leave the store in one transaction.

    The audit log keeps the load, marked removed with who (``user``, default the login
    name) and why; the file's bytes stay archived, and the same file can be loaded again.

    Raises
    ------
    StoreError
        No load of that number, or one removed before.
    """
    with store.begin() as conn:
        removed = store.remove_load(conn, int(load), user=user, reason=reason)
    return Outcome(removed, used={"load": int(load), "survey": removed["survey"], "period": removed["period"]})


def load_counts(store: Store, survey: str | Questionnaire, period: str | Period) -> Outcome:
    """What the loads of one wave did, for the digest and reports: a :class:`~survey.store.LoadCounts`
    with ``read``, ``accepted``, ``corrected`` (accepted with corrections), ``quarantined`` and
    ``already_present`` summed over the wave's loads that were not removed
    (``read == accepted + corrected + quarantined + already_present``).
    """
    survey_id = survey.id if isinstance(survey, Questionnaire) else str(survey)
    month = _period(period)
    counts = store.load_counts(survey_id, str(month))
    return Outcome(counts, used={"survey": survey_id, "period": str(month), "loads": counts.loads})


def wave_counts(store: Store, limit: int = 12, loads: pd.DataFrame | None = None) -> Outcome[pd.DataFrame]:
    """The ``limit`` latest waves with loads still standing, newest period first, each with its counts
    from :meth:`Store.load_counts` (``survey, period, rows_read, accepted, corrected, quarantined``): the
    web's overview adds nothing up itself, so a released quarantined row counts once there too.
    ``loads``: the audit log (:meth:`Store.list_loads`) when the caller has read it already."""
    columns = ["survey", "period", "rows_read", "accepted", "corrected", "quarantined"]
    loads = store.list_loads() if loads is None else loads
    active = loads[loads["removed_at"].isna()] if len(loads) else loads
    waves = active[["survey", "period"]].drop_duplicates().sort_values("period", ascending=False, kind="stable")
    rows = []
    for survey_id, period in waves.head(limit).itertuples(index=False):
        c = store.load_counts(survey_id, period)
        rows.append((survey_id, period, c.read, c.accepted, c.corrected, c.quarantined))
    return Outcome(pd.DataFrame(rows, columns=columns), used={"waves": len(rows)})


def _write_load_report(result: LoadResult, target: Path, lang: str) -> Path:
    with atomic_path(target) as tmp:
        write_report(result, tmp, lang)
    return target


# ------------------------------------------------------------------ weights

#: the sampling design kept with a weighting's steps, so that a stored weighting is the design it was
_DESIGN_ARRAYS = ("strata", "clusters", "fpc")


def _steps_blob(design: Design, keys: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    order = (keys["period"].astype(str) + "|" + keys["response_key"].astype(str)).to_numpy(dtype=str)
    sampling = {f"__{name}__": np.asarray(getattr(design, name)) if np.asarray(getattr(design, name)).dtype != object
                else np.asarray(getattr(design, name)).astype(str)
                for name in _DESIGN_ARRAYS if getattr(design, name) is not None}
    np.savez_compressed(buffer, __keys__=order, __lonely_psu__=np.array(design.lonely_psu), **sampling,
                        **steps_to_arrays(design.steps))
    return buffer.getvalue()


def weight_wave(store: Store, survey: str | Questionnaire, periods: str | PeriodRange,
                config: RakingConfig) -> Outcome[WeightingResult]:
    """Weight the stored responses of ``periods`` and store the weights with what the weighting did.

    The stored weighting keeps its replicate weights, its steps and its
    diagnostics (margin check, weight summary, notes), so :func:`load_weighted`
    gives any later job the same design and the same diagnostics.

    Raises
    ------
    WeightingError
        No stored responses, margins that do not fit, non-convergence.
    """
    qn = _questionnaire(survey)
    periods = PeriodRange.parse(periods)
    data = load_responses(qn, str(periods.first), str(periods.last), store=store)
    if data.empty:
        raise WeightingError(f"no stored responses of '{qn.id}' for {periods}",
                             hint="load the survey export first (pgi-survey ingest)", code="weighting.no_responses",
                             params={"survey": qn.id, "periods": str(periods)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurveyWarning)
        result = weigh(data, config)
    design, margins_path = result.design, Path(config.margins)
    meta = {"margins_file": str(margins_path), "margins_sha256": hashlib.sha256(margins_path.read_bytes()).hexdigest(),
            "method": config.method, "rep_type": design.rep_type, "scale": design.scale,
            "rscales": None if design.rscales is None else design.rscales.tolist(),
            "summary": result.diagnostics.summary, "log": log_to_json(result.diagnostics.log),
            "diagnostics": result.diagnostics.to_json(), "steps": _steps_blob(design, data)}
    result.weighting_id = store.save_weights(qn.id, str(periods.first), str(periods.last),
                                             keys=data[["period", "response_key"]], weights=design.weights,
                                             repweights=design.repweights, meta=meta)
    return Outcome(result, notes=[str(w.message) for w in caught],
                   used={"questionnaire": f"{qn.id} v{qn.version}", "periods": str(periods),
                         "weighting": result.weighting_id, "margins": str(margins_path), "method": config.method,
                         "replicates": design.rep_type,
                         "seed": config.seed if config.replicates in ("bootstrap", "subbootstrap") else None,
                         "design": {"strata": config.strata or result.margins.design.get("strata"),
                                    "ids": config.ids or result.margins.design.get("ids"),
                                    "fpc": config.fpc or result.margins.design.get("fpc")}})


def _stored_steps(meta: dict, merged: pd.DataFrame) -> tuple[tuple, dict]:
    """The stored steps and sampling design (strata, clusters, fpc, lonely_psu) of a weighting, in the
    order of ``merged``."""
    if not meta.get("steps"):
        return (), {}
    with np.load(io.BytesIO(meta["steps"]), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    sampling = {name: arrays.pop(f"__{name}__") for name in _DESIGN_ARRAYS if f"__{name}__" in arrays}
    if "__lonely_psu__" in arrays:
        sampling["lonely_psu"] = str(arrays.pop("__lonely_psu__"))
    order = pd.Index(arrays.pop("__keys__"))
    here = (merged["period"].astype(str) + "|" + merged["response_key"].astype(str)).to_numpy(dtype=str)
    if not order.equals(pd.Index(here)):
        raise WeightingError(f"weighting #{meta['id']}: the stored responses are not those weighted",
                             hint="weight the periods again", code="weighting.responses_changed",
                             params={"id": meta["id"]})
    return steps_from_arrays(arrays), sampling


def _publishable(result: WeightingResult) -> WeightingResult:
    """A weighting a published table may use: every weight positive (a share outside 0-100% is never
    printed), whatever store it comes from."""
    bad = int(np.sum(~(result.design.weights > 0)))
    if bad:
        raise WeightingError(f"weighting #{result.weighting_id} has {bad} weights at or below zero: its shares "
                             "cannot be published", hint="weight again with bounded calibration: "
                             "pgi-survey weights --method logit --bounds LOW HIGH", code="weighting.not_publishable",
                             params={"id": result.weighting_id, "count": bad})
    return result


def _stored_replicates(store: Store, meta: dict, stored_row: np.ndarray, stored: int) -> np.ndarray | None:
    """The replicate weights of a stored weighting as one matrix in the order of the responses (row i of it
    is the stored row ``stored_row[i]``), read column-wise: no array per row (issue 18). Held as the
    design would hold them (:func:`~survey.weights.design.replicate_dtype`: float32 for large designs)."""
    target = np.full(stored, -1, dtype=np.int64)
    target[stored_row] = np.arange(len(stored_row))
    count = len(meta["rscales"]) if meta.get("rscales") else 0
    return store.read_replicates(meta["id"], target, dtype=replicate_dtype(len(stored_row), count))


def load_weighted(store: Store, survey: str | Questionnaire, periods: str | PeriodRange) -> WeightingResult:
    """The newest stored weighting of exactly ``periods``: the design (weights, replicates, steps) and
    its diagnostics, as they were when it was made.

    Raises
    ------
    WeightingError
        If the periods were never weighted, or responses were loaded after the weighting.
    """
    qn = _questionnaire(survey)
    periods = PeriodRange.parse(periods)
    first, last = str(periods.first), str(periods.last)
    meta = store.latest_weighting(qn.id, first, last)
    if meta is None:
        raise WeightingError(f"'{qn.id}' {periods} has no stored weights", hint="run pgi-survey weights first",
                             code="weighting.none_stored", params={"survey": qn.id, "periods": str(periods)})
    data = load_responses(qn, first, last, store=store)
    w = store.read_weights(meta["id"], replicates=False)
    w["_stored_row"] = np.arange(len(w))
    merged = data.merge(w, on=["period", "response_key"], how="inner", validate="one_to_one")
    if len(merged) != len(data):
        raise WeightingError(f"{len(data) - len(merged):,} stored responses have no weight in weighting "
                             f"#{meta['id']}: responses were loaded after it", hint="weight the periods again",
                             code="weighting.unweighted", params={"count": len(data) - len(merged), "id": meta["id"]})
    reps = None if meta["rep_type"] is None else _stored_replicates(store, meta, merged["_stored_row"].to_numpy(),
                                                                    len(w))
    merged = merged.drop(columns="_stored_row")
    if reps is None:
        warnings.warn(f"weighting #{meta['id']} has no replicate weights: standard errors from this design "
                      "will not include the effect of calibration unless its steps were stored",
                      SurveyWarning, stacklevel=2)
    steps, sampling = _stored_steps(meta, merged)
    design = Design(merged.drop(columns=["weight"]), merged["weight"].to_numpy(dtype=float),
                    repweights=reps, rep_type=meta["rep_type"], scale=meta["scale"] or 1.0,
                    rscales=None if meta["rscales"] is None else np.asarray(meta["rscales"]),
                    steps=steps, log=log_from_json(meta["log"]), **sampling)
    stored = meta.get("diagnostics")
    diagnostics = Diagnostics.from_json(stored) if stored else Diagnostics(
        meta["summary"], pd.DataFrame(), (meta["rep_type"], reps.shape[1]) if reps is not None else None,
        False, log_from_json(meta["log"]))
    return WeightingResult(design, diagnostics, None, meta["id"], meta["margins_file"])


# ------------------------------------------------------------------ scores

def score_year(store: Store, survey: str | Questionnaire, year: int, config=None, *, by: str | None = None,
               province: str | None = None, out: str | Path | None = None, force: bool = False,
               lang: str = "vi") -> Outcome:
    """The association's index for ``year`` from the newest weighting of ``survey`` within the year, and
    (as ``value.official``) the province's official record with the plan's targets, on their own scale,
    never merged into the association's table; notes in ``lang``.

    Raises
    ------
    EstimationError
        When no weighting of the survey lies within the year.
    """
    from .scoring import ScoringConfig, load_targets, official_panel, official_record, score

    config = config or ScoringConfig()
    target = check_output(out, inputs=[store.file], force=force, suffixes=TABLE_SUFFIXES, kind="table") \
        if out else None
    qn = _questionnaire(survey)
    whole = PeriodRange.year(year)
    found = store.find_weighting(qn.id, str(whole.first), str(whole.last))
    if found is None:
        raise EstimationError(f"no weighted responses of '{qn.id}' in {year}",
                              hint="load the wave (pgi-survey ingest) and weight it (pgi-survey weights)",
                              code="estimation.no_weighting", params={"survey": qn.id, "year": year})
    weighted = _publishable(load_weighted(store, qn, PeriodRange.parse(f"{found['period_from']}..{found['period_to']}")))
    result = score(weighted.design, qn, by=by, config=config)
    key = province or (qn.locality.key if qn.locality else None)
    name = qn.locality.province if qn.locality else None
    result.official = official_record(official_panel(store.read_official()), name,
                                      load_targets(key) if key else None, before=year + 1)
    periods = _months_words(found["period_from"], found["period_to"], lang)
    kind = found["rep_type"] and (_(f"rpt.replicates.{found['rep_type']}", lang)
                                  if has_message(f"rpt.replicates.{found['rep_type']}", lang) else found["rep_type"])
    result.notes.append(_("job.score.weighting", lang, id=found["id"], periods=periods, replicates=kind)
                        if found["rep_type"] else _("job.score.weighting_none", lang, id=found["id"], periods=periods))
    result.notes.append(_("job.score.own_scale", lang))
    outcome = Outcome(result, notes=notes_text(result.notes, lang), used={
        "questionnaire": f"{qn.id} v{qn.version}", "year": year, "weighting": found["id"],
        "periods": f"{found['period_from']}..{found['period_to']}", "weighted": weighted})
    if target is not None:
        outcome.written.append(_write_table(result.table, target))
    return outcome


def _months_words(first: str, last: str, lang: str) -> str:
    """A month or a range of months as readers write them ("tháng 11/2025", "tháng 5/2025 – tháng 11/2025")."""
    from .reports.digest import period_words

    return period_words(first, lang) if first == last else f"{period_words(first, lang)} – {period_words(last, lang)}"


def import_official(store: Store, path: str | Path, year: int, *, mean: float | None = None,
                    lang: str = "vi") -> Outcome[pd.DataFrame]:
    """Check a full official PGI table for a year (sums, ranks, provinces) and store it; notes in ``lang``.

    The table is also read as the forecast will read it: a top-``K`` table's unprinted provinces are
    bounded, and the national mean its values allow is compared with ``mean`` (or the published mean
    of the year, when one is shipped); a disagreement is stated in the notes, naming what disagrees.

    Raises
    ------
    OfficialError
        Every problem found, with its row.
    """
    from .errors import OfficialError
    from .forecast import table_problems, wide_record, year_record
    from .reference import crosswalk, national_means, official_tables, provinces_of
    from .scoring import read_official_table

    if not Path(path).is_file():  # said plainly, not as the operating system's "[Errno 2]"
        raise OfficialError("file not found", file=str(path), hint="check the file's name and folder",
                            code="official.file_not_found")
    frame, notes = read_official_table(path, year)
    published = national_means().query("measure == 'total'").set_index("year")["mean"]
    mean = mean if mean is not None else (float(published[year]) if year in published.index else None)
    names = provinces_of(year) if year >= MERGER_YEAR else sorted(crosswalk())
    record = year_record(wide_record(frame), year, names, official_tables().get(year), mean)
    notes += [n for n in table_problems(record) if n not in notes]
    rows = store.save_official(frame)
    return Outcome(frame, notes=notes_text(notes, lang), used={"file": str(path), "year": year, "rows": rows,
                                                               "provinces": int(frame["province"].nunique()),
                                                               "mean": mean})


# ------------------------------------------------------------------ forecast

def _reason(exc: SurveyError, lang: str) -> str:
    """An error's message (without its place or hint) in ``lang``, to quote it inside a note."""
    msgid = f"error.{exc.code}"
    return _(msgid, lang, **exc.params) if exc.params is not None and has_message(msgid, lang) else exc.message


def _merged_into(name: str | None) -> tuple[str, str] | None:
    """(old, new): the English keys of a province of before 1 July 2025 and of the unit it became, when the
    two differ; None otherwise (or for a name that is no old province)."""
    from .reference import crosswalk, match_province

    old = match_province(name, MERGER_YEAR - 1) if name else None
    new = crosswalk().get(old) if old else None
    return (old, new) if new and new != old else None


def _merger_note(title: str | None, forecast_province: str, lang: str = "vi") -> str | None:
    """Say so when the survey's province is now part of the forecast's province (1 July 2025)."""
    from .reference import province_key

    merged = _merged_into(title)
    if merged is None or province_key(merged[1]) != province_key(forecast_province):
        return None
    # English keys: the message names them as readers of ``lang`` write them ({old:province})
    return _("job.forecast.merger", lang, old=merged[0], new=merged[1])


#: the old province the association surveys (its estimates are of former Bac Giang, not of merged Bac Ninh)
SURVEY_PROVINCE = "Bac Giang"


def _survey_pairs(store: Store, survey, province: str, year: int, panel: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Past years with both the association's total and an official total for ``province``."""
    from .scoring import ScoringConfig, association_estimates

    rows = []
    official = panel[(panel["province"] == province) & (panel["measure"] == "total") & (panel["year"] < year)]
    for r in official.itertuples():
        try:
            past = association_estimates(score_year(store, survey, int(r.year), ScoringConfig(sensitivity=False),
                                                    lang=lang).value.table)
        except SurveyError:
            continue
        if "total" in past:
            rows.append({"year": int(r.year), "measure": "total", "estimate": past["total"][0],
                         "official": float(r.score)})
    return pd.DataFrame(rows, columns=["year", "measure", "estimate", "official"])


def forecast_year(store: Store, province: str, year: int, config=None, *, survey: str | Questionnaire = FEEDBACK,
                  targets: str | None = None, models: tuple[str, ...] | None = None,
                  survey_province: str | None = None, scores: Outcome | None = None,
                  out: str | Path | None = None, force: bool = False, lang: str = "vi") -> Outcome:
    """Forecast ``province``'s official PGI for ``year`` from the official record (shipped and imported):
    deviation from the national mean and rank first, the level under named scenarios.

    The association's survey (of ``survey_province``, default former Bac Giang) enters only when at least
    two past years have both its total and an official one; otherwise it carries no weight, and the notes
    say so (in ``lang``, Vietnamese by default).

    Parameters
    ----------
    models : ``("persistence",)`` to carry deviations forward instead of estimating mean reversion.
    scores : what :func:`score_year` returned for the year, when the caller has it (else scored here).
    """
    from dataclasses import replace

    from .forecast import MODELS, ForecastConfig, forecast_province
    from .reference import match_province, national_means
    from .scoring import ScoringConfig, association_estimates, load_targets, official_panel
    from .vocabulary import MERGER_YEAR

    config = config or ForecastConfig()
    if models and models[0] in MODELS:
        config = replace(config, model=models[0])
    target = check_output(out, inputs=[store.file], force=force, suffixes=TABLE_SUFFIXES, kind="table") \
        if out else None
    notes: list[str] = []
    panel = official_panel(store.read_official())
    plan = load_targets(targets) if targets else None
    surveyed = survey_province or (plan.province if plan else SURVEY_PROVINCE)
    estimates, history = None, None
    used = {"year": year, "province": province, "model": config.model, "draws": config.draws, "seed": config.seed,
            "survey_province": surveyed}
    try:
        scores = scores or score_year(store, survey, year, ScoringConfig(sensitivity=False), lang=lang)
        estimates = association_estimates(scores.value.table)
        used["weighting"] = scores.used["weighting"]
        history = _survey_pairs(store, survey, match_province(surveyed, MERGER_YEAR - 1) or surveyed, year, panel,
                                lang)
    except EstimationError as exc:
        notes.append(_("job.forecast.no_bridge", lang, year=year, reason=_reason(exc, lang)))
    result = forecast_province(province, year, panel=panel, estimates=estimates, history=history, targets=plan,
                               survey_province=surveyed, means=national_means(), config=config)
    note = _merger_note(survey_province, result.province, lang)
    if note:
        result.notes.append(note)
    result.notes[1:1] = notes  # after the unofficial notice, which the text shows in its title
    outcome = Outcome(result, notes=notes_text(result.notes[1:] + result.problems, lang), used=used)
    if target is not None:
        outcome.written.append(_write_table(forecast_table(result), target))
    return outcome


def forecast_table(result) -> pd.DataFrame:
    """The forecast as one table for a file: every quantity with full precision (probabilities with their
    Monte-Carlo SE), in rows a spreadsheet can filter."""
    parts = [result.deviation.assign(quantity="deviation"), result.table.assign(quantity="level"),
             result.scenarios.assign(quantity="level_scenario", measure="total"),
             result.probabilities.assign(quantity="probability"),
             result.rank_summary().assign(quantity="rank")]
    return pd.concat(parts, ignore_index=True).assign(province=result.province, year=result.year)


def backtest_forecast(store: Store, config=None) -> Outcome[pd.DataFrame]:
    """The rolling-origin backtest of the forecast on the official record (shipped and imported), with the
    naive "same as last year" baseline beside it."""
    from .forecast import ForecastConfig, backtest
    from .reference import national_means
    from .scoring import official_panel

    table = backtest(official_panel(store.read_official()), config or ForecastConfig(draws=2000),
                     means=national_means())
    return Outcome(table, notes=list(table.attrs.get("notes", [])))


def simulate_forecast(panels: int = 200, draws: int = 1000, seed: int = 7) -> Outcome[pd.DataFrame]:
    """The realistic simulation of the forecast (see :func:`survey.forecast.simulation_study`): how often its
    80% and 95% ranges hold the truth, over ``panels`` simulated worlds."""
    from .forecast import simulation_study

    return Outcome(simulation_study(panels=panels, draws=draws, seed=seed),
                   used={"panels": panels, "draws": draws, "seed": seed})


# ------------------------------------------------------------------ reports

def _sector_groups(margins_file: str | None) -> dict[str, tuple[int, ...]] | None:
    """The groups of sectors of the margins file a weighting used (its margin on ``sector``), if any."""
    from .weights import load_margins

    if not margins_file or not Path(margins_file).is_file():
        return None
    margin = next((m for m in load_margins(margins_file).margins if m.question == "sector"), None)
    return None if margin is None else {c.name: tuple(c.codes) for c in margin.categories}


def monthly_digest(store: Store, period: str | Period, *, out: str | Path | None = None, lang: str = "vi",
                   min_n: int = 10, include_personal: bool = False, province: str | None = None,
                   force: bool = False, issuer: str | None = None, months: int = 6,
                   invited: int | None = None) -> Outcome:
    """The monthly difficulties digest of ``period`` (with the month before, and up to ``months`` weighted
    months for the trend), written as XLSX, PDF and HTML into ``out`` when given.

    Only cases staff approved (:func:`review_cases`, :func:`approve_case`) enter its list of cases, masked;
    the month's cases are registered for review here too.

    Raises
    ------
    WeightingError
        If the month was not weighted.
    OutputError
        If ``out`` cannot hold the files (checked before any work).
    """
    from .reports import DigestContext, build_digest, write_digest_html, write_digest_pdf, write_digest_xlsx
    from .reports.words import reader_log

    month = _period(period)
    targets = None
    if out is not None:
        targets = check_output_dir(out, [f"digest_{month}.xlsx", f"digest_{month}.pdf", f"digest_{month}.html"],
                                   force=force, inputs=[store.file])
    qn = _questionnaire(MONTHLY, province, str(month))  # the month's localities
    current = _publishable(load_weighted(store, qn, PeriodRange(month, month)))
    notes = []
    trend = _earlier_months(store, qn, month, months - 1)
    previous = trend.get(str(month.previous()))
    if previous is None:
        notes.append(_("job.digest.no_previous", lang, previous=str(month.previous())))
    reviews = _month_reviews(store, qn, str(month), current.design.data)
    context = DigestContext(
        province=_province_words(qn, lang), issuer=issuer or "", counts=store.load_counts(qn.id, str(month)),
        excluded_reasons=_excluded_reasons(store, qn.id, str(month)),
        cases=reviews[reviews["status"] == "approved"], pending=int((reviews["status"] == "pending").sum()),
        margins_source=_margins_source(current.margins_file), margins_illustrative=current.diagnostics.illustrative,
        margins_used=tuple(dict.fromkeys(current.diagnostics.check.get("margin", pd.Series(dtype=str)))),
        trend={k: v for k, v in trend.items()}, open_cases=_open_cases(store, qn.id, str(month)),
        invited=invited)
    digest = build_digest(current.design, qn, str(month), previous, lang=lang, min_n=min_n,
                          include_personal=include_personal, weighting_notes=reader_log(current.diagnostics.log, lang),
                          sector_groups=_sector_groups(current.margins_file), context=context)
    outcome = Outcome(digest, notes=notes, used={"questionnaire": f"{qn.id} v{qn.version}", "period": str(month),
                                                 "weighting": current.weighting_id,
                                                 "approved_cases": int(len(context.cases)),
                                                 "pending_cases": context.pending})
    if targets is not None:
        outcome.written = [write_digest_xlsx(digest, targets[0]), write_digest_pdf(digest, targets[1]),
                           write_digest_html(digest, targets[2])]
    if context.pending:
        outcome.notes.append(_("rpt.job.pending_cases", lang, count=context.pending, period=str(month)))
    if include_personal:
        outcome.notes.append(_("job.digest.personal_data", lang))
    return outcome


def _open_cases(store: Store, survey_id: str, period: str) -> pd.DataFrame:
    """Approved cases of months before ``period`` whose follow-up is not 'resolved'."""
    from .store.reviews import read_reviews

    reviews = read_reviews(store, survey_id, status="approved")
    return reviews[(reviews["period"] < period) & (reviews["follow_up"] != "resolved")][
        ["reference", "period", "follow_up"]]


def _earlier_months(store: Store, qn: Questionnaire, month: Period, count: int) -> dict[str, Design]:
    """The weighted designs of up to ``count`` months before ``month`` (oldest first), those weighted only."""
    found: dict[str, Design] = {}
    here = month
    for _i in range(max(count, 0)):
        here = here.previous()
        try:
            found[str(here)] = load_weighted(store, qn, PeriodRange(here, here)).design
        except WeightingError:
            continue
    return dict(sorted(found.items()))


def _province_words(qn: Questionnaire, lang: str) -> str:
    """The survey's province as readers write it ("Bắc Giang"), and what it is part of since 1 July 2025."""
    from .reference import province_name

    if qn.locality is None:
        return ""
    name = qn.locality.province_vi  # a proper name keeps its diacritics in either language
    merged = _merged_into(qn.locality.province)
    if merged is None:
        return name
    return _("rpt.province.merged", lang, old=name, new=province_name(merged[1], MERGER_YEAR - 1, "vi"))


def _month_loads(store: Store, survey_id: str, period: str) -> pd.DataFrame:
    loads = store.list_loads()
    kept = loads["removed_at"].isna() if "removed_at" in loads else True  # a removed load no longer counts
    return loads[(loads["survey"] == survey_id) & (loads["period"] == period) & kept]


def _excluded_reasons(store: Store, survey_id: str, period: str) -> dict[str, int]:
    """Reason code -> rows of the month excluded for it (a row with two reasons counts for both)."""
    counts: dict[str, int] = {}
    for load in _month_loads(store, survey_id, period)["load"]:
        for reasons in store.read_quarantine(int(load))["reasons"]:
            for reason in {r.get("reason") for r in reasons if r.get("reason")}:
                counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _margins_source(margins_file: str | None) -> str:
    from .weights import load_margins

    if not margins_file or not Path(margins_file).is_file():
        return ""
    return load_margins(margins_file).source


# ------------------------------------------------------------------ review of cases before they leave

def _month_reviews(store: Store, qn: Questionnaire, period: str, data: pd.DataFrame) -> pd.DataFrame:
    """Register the month's forwardable cases for review (masked) and return every review of the month."""
    from .reports.redact import mask_text
    from .store.reviews import sync_cases

    cases = data[(data["forward_consent"] == 1) & (data["had_difficulty"] == 1)]
    return sync_cases(store, qn.id, period, cases[["response_key", "description", "proposal"]], mask_text)


def review_cases(store: Store, period: str | Period, *, province: str | None = None) -> Outcome[pd.DataFrame]:
    """The cases of a month waiting for or done with review: reference, status, follow-up and masked text.

    The month's stored responses are read, so cases loaded since the last digest are listed too.
    """
    month = str(_period(period))
    qn = _questionnaire(MONTHLY, province)
    data = load_responses(qn, month, month, store=store)
    reviews = _month_reviews(store, qn, month, data) if len(data) else _month_reviews(
        store, qn, month, pd.DataFrame(columns=["response_key", "description", "proposal", "forward_consent",
                                                "had_difficulty"]))
    shown = reviews[["reference", "status", "edited", "follow_up", "description", "proposal", "reviewer",
                     "reviewed_at"]].reset_index(drop=True)
    return Outcome(shown, used={"questionnaire": f"{qn.id} v{qn.version}", "period": month})


def edit_case(store: Store, reference: str, *, description: str | None = None, proposal: str | None = None,
              user: str | None = None) -> Outcome[dict]:
    """Replace the text of a case (masked again); it waits for approval again.

    Raises
    ------
    StoreError
        No case has this reference.
    """
    from .reports.redact import mask_text
    from .store.reviews import edit_review

    return Outcome(edit_review(store, reference, description=description, proposal=proposal, mask=mask_text,
                               user=user))


def approve_case(store: Store, reference: str, *, user: str | None = None) -> Outcome[dict]:
    """Approve a case for the People's Committee sheet of the digest.

    Raises
    ------
    StoreError
        No case has this reference.
    """
    from .store.reviews import approve_review

    return Outcome(approve_review(store, reference, user=user))


def follow_up_case(store: Store, reference: str, status: str) -> Outcome[dict]:
    """Record a case's follow-up: sent, answered or resolved (carried to later digests).

    Raises
    ------
    StoreError
        An unknown status, or no case has this reference.
    """
    from .store.reviews import set_follow_up

    return Outcome(set_follow_up(store, reference, status))


def annual_report(store: Store, year: int, forecast_province: str, *, survey: str | Questionnaire = FEEDBACK,
                  title_province: str | None = None, targets: str | None = None, forecast_config=None,
                  scoring_config=None, out: str | Path | None = None, lang: str = "vi",
                  force: bool = False, issuer: str | None = None) -> Outcome:
    """The annual report: the association's index, the forecast of the official PGI, the official
    history, and the weighting's own diagnostics (as stored with it), as HTML and PDF into ``out``.

    Raises
    ------
    EstimationError
        No weighted feedback survey in the year.
    OutputError
        If ``out`` cannot hold the files (checked before any work).
    """
    from .reports import build_annual, write_annual_html, write_annual_pdf, write_annual_xlsx
    from .scoring import official_panel

    paths = None
    if out is not None:
        paths = check_output_dir(out, [f"pgi_estimate_{year}.html", f"pgi_estimate_{year}.pdf",
                                       f"pgi_estimate_{year}.xlsx"], force=force, inputs=[store.file])
    scored = score_year(store, survey, year, scoring_config, lang=lang)
    forecast = forecast_year(store, forecast_province, year, forecast_config, survey=survey, targets=targets,
                             survey_province=title_province, scores=scored, lang=lang)
    weighted: WeightingResult = scored.used.pop("weighted")
    report = build_annual(scored.value, forecast.value, official_panel(store.read_official()),
                          weighted.diagnostics, title_province or forecast_province, year, issuer=issuer or "")
    outcome = Outcome(report, notes=scored.notes + forecast.notes, used={**scored.used, **forecast.used})
    if paths is not None:
        outcome.written = [write_annual_html(report, paths[0], lang), write_annual_pdf(report, paths[1], lang),
                           write_annual_xlsx(report, paths[2], lang)]
    return outcome


# ------------------------------------------------------------------ the demo year

def demo_year(store: Store, folder: str | Path, *, year: int = 2025, report_folder: str | Path | None = None,
              lang: str = "vi") -> Outcome:
    """Generate the demo year into ``folder``, load every file and weight the last two months and
    the feedback survey, as staff would; problem reports of loads with quarantined rows go to
    ``report_folder``. For ``make demo``, the notebooks and the tests.
    """
    from .demo import write_demo

    files = write_demo(Path(folder), year=year)
    outcome = Outcome(files, used={"year": year, "seed": 2025})
    for period, path in files.monthly + [files.feedback]:
        survey = FEEDBACK if path.suffix == ".sav" else MONTHLY
        loaded = load_export(store, path, survey, period, lang=lang).value
        outcome.notes.append(f"{path.name}: {loaded.summary(lang)}")
        if report_folder and loaded.quarantined:  # a report only where there is something to fix
            target = check_output(Path(report_folder) / f"{path.stem}.xlsx", force=True, kind="report")
            outcome.written.append(_write_load_report(loaded, target, lang))
    monthly = RakingConfig(files.margins, use=("sector_group", "size_class"), replicates="JK1")
    for period, _path in files.monthly[-2:]:
        outcome.notes += weight_wave(store, MONTHLY, period, monthly).notes
    annual = weight_wave(store, FEEDBACK, files.feedback[0], RakingConfig(files.margins, n_replicates=200))
    outcome.notes += annual.notes
    outcome.used["weighting"] = annual.used["weighting"]
    return outcome


def demo_store(folder: str | Path, year: int = 2025):
    """A store in ``folder`` holding the demo year, loaded and weighted (made once, then reused).

    Returns the :class:`~survey.store.Store` and the :class:`~survey.demo.DemoFiles`.
    """
    from .demo import demo_files

    folder = Path(folder)
    store = Store(f"sqlite:///{folder / 'store.sqlite'}")
    if (folder / "inputs").exists():
        return store, demo_files(folder / "inputs", year)
    return store, demo_year(store, folder / "inputs", year=year).value


def run_record(outcomes: dict[str, Outcome]) -> str:
    """What each job used, as JSON, to keep next to the outputs."""
    return json.dumps({name: {k: v for k, v in o.used.items() if isinstance(v, (str, int, float, list, tuple))
                              or v is None} for name, o in outcomes.items()}, indent=2, ensure_ascii=False)


# ------------------------------------------------------------------ the web page's jobs (issue 17)

def preview_export(store: Store, path: str | Path, survey: str | Questionnaire, period: str | Period,
                   options: IngestOptions = IngestOptions()) -> Outcome[LoadResult]:
    """Read and check an export exactly as :func:`load_export` would, and store nothing.

    The rows are read, mapped, coerced and validated against the store as it is (so
    "already present" is counted), through the ingest's own prepare step; no wave, load,
    response, quarantine row or archive is written. The result's ``load_id`` is 0; ``used``
    gives the column mapping (``columns``: file column, question) and the questions no column
    matched (``unmatched``).

    Raises
    ------
    IngestError
        What :func:`load_export` would raise before storing (unreadable, too large, ...).
    """
    import datetime as dt
    import tempfile

    from .ingest.ingest import _Load  # the load's first step, without its second (the write)
    from .ingest.readers import prepare
    from .places import check_wave_locality

    month = str(_period(period))
    qn = _questionnaire(survey, options.province, month)
    try:
        check_wave_locality(qn, month)
    except SurveyError as exc:
        from .errors import IngestError
        raise IngestError(exc.message, code=exc.code, params=exc.params) from None
    mapping = options.mapping
    if isinstance(mapping, (str, Path)):
        from .ingest import read_mapping
        mapping = read_mapping(mapping)
    info = prepare(path, format=options.format, encoding=options.encoding, sep=options.sep,
                   max_bytes=options.max_bytes)
    settings = dict(format=options.format, sheet=options.sheet, chunksize=options.chunksize,
                    max_bytes=options.max_bytes, max_rows=options.max_rows)
    load = _Load(info, qn, month, store, mapping, settings, None, dt.date.today(), False,
                 id_column=options.id_column, strict=options.strict)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="pgi-preview-") as folder:
        warnings.simplefilter("ignore", SurveyWarning)  # they are in the result's warnings
        with store.read() as conn:
            state = load.prepare(conn, Path(folder) / "first")
    cmap = state.cmap
    columns = [(column, qid) for qid, column in cmap.single.items()]
    columns += [(column, f"{qid}/{code}") for qid, options in cmap.split.items() for code, column in options.items()]
    matched = set(cmap.single) | set(cmap.split)
    return Outcome(state.result, used={"questionnaire": f"{qn.id} v{qn.version}", "file": str(path),
                                       "sha256": state.result.sha256, "stored": False, "columns": columns,
                                       "unmatched": [q.id for q in qn.questions if q.id not in matched]})


def list_loads(store: Store) -> Outcome[pd.DataFrame]:
    """Every load, newest first, removed ones too (the audit log of the store)."""
    return Outcome(store.list_loads())


def quarantined_rows(store: Store, load: int) -> Outcome[pd.DataFrame]:
    """The refused rows of one load: row, response key, the raw values and the reasons; ``used`` names the
    load's survey and its personal-data questions (whose values a page masks)."""
    loads = store.list_loads()
    found = loads[loads["load"] == int(load)]
    survey = str(found["survey"].iloc[0]) if len(found) else None
    personal = list(_questionnaire(survey).personal_questions) if survey else []
    return Outcome(store.read_quarantine(int(load)), used={"load": int(load), "survey": survey,
                                                            "personal": personal})


def margins_files() -> Outcome[list[dict]]:
    """The shipped margins files staff may weight with: path, name, source and whether illustrative."""
    from .reference import data_path
    from .weights.margins import load_margins

    found = []
    for path in sorted(data_path("data", "margins").glob("*.yaml")):
        margins = load_margins(path)
        found.append({"path": str(path), "name": path.stem, "illustrative": bool(margins.illustrative),
                      "source": str(margins.source or "")})
    return Outcome(found)


def add_user(store: Store, name: str, role: str, password: str) -> Outcome[str]:
    """Add a staff account (or give it a new role and password); the password is kept as an argon2 hash."""
    from .store.accounts import add_user as _add

    _add(store, name, role, password)
    return Outcome(name, used={"role": role})


def verify_user(store: Store, name: str, password: str) -> Outcome[str | None]:
    """The role of the account when the password is right, else None."""
    from .store.accounts import verify_user as _verify

    return Outcome(_verify(store, name, password))


def session_role(store: Store, user: str, token: str) -> Outcome[str | None]:
    """The role now of a web session's account; None when the account is gone or the session was logged
    out (see :func:`end_session`): what the web page checks on every request, in one read."""
    from .store.accounts import session_role as _role

    return Outcome(_role(store, user, token))


def end_session(store: Store, token: str, keep: float) -> Outcome[None]:
    """Log a web session out for good, in the store: a copy of its cookie is refused, also after a restart."""
    from .store.accounts import end_session as _end

    _end(store, token, keep)
    return Outcome(None, used={"keep": keep})


def session_ended(store: Store, token: str) -> Outcome[bool]:
    """Whether a web session was logged out (see :func:`end_session`)."""
    from .store.accounts import session_ended as _ended

    return Outcome(_ended(store, token))


def audit(store: Store, user: str, action: str, target: str = "", **detail) -> Outcome[None]:
    """Append who did what (loaded, removed, approved, downloaded...) to the web audit log."""
    from .store.accounts import record

    record(store, user, action, target, **detail)
    return Outcome(None)


def audit_log(store: Store, limit: int = 200) -> Outcome[pd.DataFrame]:
    """The newest lines of the web audit log."""
    from .store.accounts import read_audit

    return Outcome(read_audit(store, limit))


def accept_quarantined(store: Store, quarantine_id: int, values: dict[str, str], *,
                       user: str | None = None) -> Outcome[LoadResult]:
    """Correct values of one quarantined row and load it, when it now passes every check.

    The row's raw values, with ``values`` (file column -> new text) put in, are written as a
    one-row export and checked like any file (:func:`preview_export`). Still refused: nothing
    is stored, and the result says why (``used["stored"]`` is False). Accepted: it is loaded as
    a load of its own (its file named after the load and row it comes from, so the audit log
    tells where it came from) and leaves the quarantine in the same transaction; the wave's counts
    (:meth:`Store.load_counts`) then count the row once, as stored.

    Raises
    ------
    StoreError
        No quarantined row of that number.
    """
    import csv
    import tempfile

    from .errors import StoreError

    row = store.quarantined_row(quarantine_id)  # one look-up: not the whole quarantine and audit log
    if row is None:
        raise StoreError(f"there is no quarantined row #{quarantine_id}", code="web.no_quarantined_row",
                         params={"row": int(quarantine_id)})
    load = {"survey": row["survey"], "period": row["period"]}
    raw = {**row["raw"], **{k: str(v) for k, v in values.items() if k in row["raw"]}}
    with tempfile.TemporaryDirectory(prefix="pgi-fix-") as folder:
        path = Path(folder) / f"load{int(row['load_id'])}_row{int(row['row_number'])}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(raw))
            writer.writerow(list(raw.values()))
        checked = preview_export(store, path, str(load["survey"]), str(load["period"]))
        if checked.value.quarantined:
            return Outcome(checked.value, used={"stored": False, "row": int(quarantine_id)})
        outcome = load_export(store, path, str(load["survey"]), str(load["period"]), user=user,
                              release=int(quarantine_id))
    outcome.used.update(stored=True, row=int(quarantine_id), from_load=int(row["load_id"]))
    return outcome


def pull_kobo(server: str, asset: str, period: str | Period, token: str, out: str | Path) -> Outcome[Path]:
    """A month's submissions pulled from a KoboToolbox server (API v2 data endpoint) and written as a
    KoboToolbox CSV at ``out``, to be checked (:func:`preview_export`) and loaded (:func:`load_export`)
    like a downloaded export. The token is used for the requests only, never kept.

    Raises
    ------
    IngestError
        The server refuses the token, cannot be reached, or does not answer as Kobo's data endpoint.
    """
    from .kobo import pull_submissions, write_kobo_csv

    month = _period(period)
    rows = pull_submissions(server, asset, month, token)
    target = Path(out)
    with atomic_path(target) as tmp:
        write_kobo_csv(rows, tmp)
    return Outcome(target, used={"server": server, "asset": asset, "period": str(month), "submissions": len(rows)},
                   written=[target])
