"""Weight a questionnaire's stored responses to a province's margins, and load weighted designs back.

This composes the steps of the weights module (prepare margins, make the
starting design and its replicates, calibrate, diagnose) and stores the
result with the waves; :func:`load_design` gives later steps (scoring) the
same design, with its replicate weights, without recomputing it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import warnings

from ..errors import SurveyWarning, WeightingError
from ..questionnaire import Questionnaire, load_questionnaire
from ..store import Store, load_responses
from .calibrate import calibrate, poststratify, rake
from .design import Design, make_design
from .diagnostics import format_diagnostics, weight_summary
from .margins import PopulationMargins, load_margins, prepare_margins
from .replicates import replicate_design

__all__ = ["WeightingResult", "weight_survey", "load_design", "METHODS"]

METHODS = ("rake", "linear", "logit", "poststratify")


@dataclass
class WeightingResult:
    """A weighted design, the margins it was calibrated to, and where it was stored."""

    design: Design
    margins: PopulationMargins
    weighting_id: int | None

    def diagnostics(self) -> str:
        return format_diagnostics(self.design, self.margins)


def _adjust(design: Design, margins: PopulationMargins, method: str, trim_limits, bounds) -> Design:
    if method == "rake":
        return rake(design, margins, trim_limits=trim_limits)
    if method in ("linear", "logit"):
        return calibrate(design, margins, calfun=method, bounds=bounds)
    if method == "poststratify":
        if len(margins.margins) != 1:
            raise WeightingError("post-stratification uses one margin; name it with margins=[...]")
        return poststratify(design, margins.margins[0])
    raise WeightingError(f"unknown weighting method {method!r}", hint="one of " + ", ".join(METHODS))


def weight_survey(survey: str | Questionnaire, period_from: str, period_to: str | None = None, *,
                  margins: str | Path, use: list[str] | None = None, method: str = "rake",
                  replicates: str | None = "bootstrap", n_replicates: int = 200, seed: int = 20251,
                  trim_limits: tuple[float, float] | None = None, bounds: tuple[float, float] = (-np.inf, np.inf),
                  db: str | None = None, store: Store | None = None, save: bool = True) -> WeightingResult:
    """Weight stored responses of ``period_from``..``period_to`` to a margins file and store the weights.

    Parameters
    ----------
    margins : path of the margins file (see :mod:`survey.weights.margins`).
    use : names of the margins to use (default: all).
    method : {"rake", "linear", "logit", "poststratify"}
    replicates : {"bootstrap", "JK1", None}
        Replicate weights, made before calibration and calibrated too.
    trim_limits : (lower, upper), optional
        Limits on the weights for ``rake``.

    Raises
    ------
    WeightingError
        No responses, margins that do not fit, non-convergence.
    """
    qn = survey if isinstance(survey, Questionnaire) else load_questionnaire(survey)
    store = store or Store(db)
    period_to = period_to or period_from
    data = load_responses(qn, period_from, period_to, store=store)
    if data.empty:
        raise WeightingError(f"no stored responses of '{qn.id}' for {period_from}..{period_to}",
                             hint="load the survey export first (pgi-survey ingest)")
    pm = prepare_margins(load_margins(margins).select(use), data)
    design = make_design(data, population=pm.total)
    if replicates:
        design = replicate_design(design, replicates, replicates=n_replicates, seed=seed)
    design = _adjust(design, pm, method, trim_limits, bounds)
    wid = None
    if save:
        meta = {"margins_file": str(margins), "margins_sha256": hashlib.sha256(Path(margins).read_bytes()).hexdigest(),
                "method": method, "rep_type": design.rep_type, "scale": design.scale,
                "rscales": None if design.rscales is None else design.rscales.tolist(),
                "summary": weight_summary(design), "log": list(pm.log + design.log)}
        wid = store.save_weights(qn.id, period_from, period_to, keys=data[["period", "response_key"]],
                                 weights=design.weights, repweights=design.repweights, meta=meta)
    return WeightingResult(design, pm, wid)


def load_design(survey: str | Questionnaire, period_from: str, period_to: str | None = None, *,
                db: str | None = None, store: Store | None = None) -> Design:
    """The design of the newest stored weighting of these periods: responses, weights, replicates.

    Raises
    ------
    WeightingError
        If the periods were never weighted.
    """
    qn = survey if isinstance(survey, Questionnaire) else load_questionnaire(survey)
    store = store or Store(db)
    period_to = period_to or period_from
    meta = store.latest_weighting(qn.id, period_from, period_to)
    if meta is None:
        raise WeightingError(f"'{qn.id}' {period_from}..{period_to} has no stored weights",
                             hint="run pgi-survey weights first")
    data = load_responses(qn, period_from, period_to, store=store)
    w = store.read_weights(meta["id"])
    merged = data.merge(w, on=["period", "response_key"], how="inner", validate="one_to_one")
    if len(merged) != len(data):
        raise WeightingError(f"{len(data) - len(merged)} stored responses have no weight in weighting "
                             f"#{meta['id']}: responses were loaded after it", hint="weight the periods again")
    reps = None if meta["rep_type"] is None else np.vstack(merged["replicates"].to_numpy())
    if reps is None:
        warnings.warn(f"weighting #{meta['id']} has no replicate weights: standard errors from this design "
                      "will not include the effect of calibration", SurveyWarning, stacklevel=2)
    design = Design(merged.drop(columns=["weight", "replicates"]), merged["weight"].to_numpy(dtype=float),
                    repweights=reps, rep_type=meta["rep_type"], scale=meta["scale"] or 1.0,
                    rscales=None if meta["rscales"] is None else np.asarray(meta["rscales"]),
                    log=tuple(meta["log"]))
    return design
