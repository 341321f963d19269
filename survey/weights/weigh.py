"""Weight responses to a province's margins: one pure step, configured by a frozen :class:`RakingConfig`.

This composes the steps of the weights module (prepare margins, make the
starting design and its replicates, calibrate, diagnose). Storing the result
and reading it back is the use-case layer's work (:mod:`survey.jobs`), so
this package never touches the store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import WeightingError
from .calibrate import calibrate, poststratify, rake
from .design import Design, make_design
from .diagnostics import Diagnostics, diagnose
from .margins import PopulationMargins, load_margins, prepare_margins
from .design import LONELY_PSU
from .replicates import BOOTSTRAP_SCALES, REPLICATE_TYPES, replicate_design

__all__ = ["RakingConfig", "WeightingResult", "weigh", "METHODS"]

from ..options import WEIGHTING_METHODS as METHODS  # noqa: E402  (one definition, light for the CLI)


@dataclass(frozen=True)
class RakingConfig:
    """How to weight, checked once when built.

    Attributes
    ----------
    margins : path of the margins file (see :mod:`survey.weights.margins`).
    use : names of the margins to use (default: all in the file).
    method : one of :data:`METHODS`.
    replicates : one of ``REPLICATE_TYPES`` or None
        Replicate weights, made before calibration and calibrated too.
    n_replicates : bootstrap replicates.
    seed : seed of the bootstrap.
    trim_limits : (lower, upper) limits on the weights for ``rake``, in enterprises per respondent.
    bounds : (lower, upper) limits on the g-factors (final / starting weight) for ``linear`` and ``logit``;
        ``logit`` with bounds is the bounded calibration to use when ``linear`` gives weights at or below zero.
    strata : column of the responses holding the first-stage strata of the selection (JKn, linearisation).
    ids : columns holding the clusters of a one- or two-stage cluster sample (replicates then drop or
        resample whole clusters).
    fpc : columns holding the population size at each stage (finite population correction); the starting
        weights then come from the sampling fractions.
    lonely_psu : what a stratum with one primary unit does (:data:`~survey.weights.design.LONELY_PSU`).
    bootstrap_scale : the bootstrap convention (:data:`~survey.weights.replicates.BOOTSTRAP_SCALES`) or a number.

    A margins file may name ``strata``, ``ids``, ``fpc`` and ``lonely_psu`` under ``design:``; what the
    configuration names takes precedence.

    Raises
    ------
    WeightingError
        An unknown method or replicate type, fewer than 2 replicates, limits out of order.
    """

    margins: str | Path
    use: tuple[str, ...] | None = None
    method: str = "rake"
    replicates: str | None = "bootstrap"
    n_replicates: int = 200
    seed: int = 20251
    trim_limits: tuple[float, float] | None = None
    bounds: tuple[float, float] = (-math.inf, math.inf)
    strata: str | None = None
    ids: tuple[str, ...] | None = None
    fpc: tuple[str, ...] | None = None
    lonely_psu: str | None = None
    bootstrap_scale: str | float = "rao-wu"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise WeightingError(f"unknown weighting method {self.method!r}", code="weighting.unknown_method",
                                 params={"method": str(self.method), "known": ", ".join(METHODS)},
                                 hint="one of " + ", ".join(METHODS))
        if self.replicates is not None and self.replicates not in REPLICATE_TYPES:
            raise WeightingError(f"unknown replicate type {self.replicates!r}", code="weighting.unknown_replicate_type",
                                 params={"type": str(self.replicates), "known": ", ".join(REPLICATE_TYPES)},
                                 hint="one of " + ", ".join(REPLICATE_TYPES) + ", or none")
        if self.n_replicates < 2:
            raise WeightingError(f"use at least 2 replicates, not {self.n_replicates}", code="weighting.too_few_replicates",
                                 params={"count": self.n_replicates})
        for name, pair in (("trim_limits", self.trim_limits), ("bounds", self.bounds)):
            if pair is not None and not pair[0] < pair[1]:
                raise WeightingError(f"{name}: the lower limit {pair[0]} must be below the upper {pair[1]}",
                                     code="weighting.limits_order",
                                     params={"name": name, "low": str(pair[0]), "high": str(pair[1])})
        if self.use is not None:
            object.__setattr__(self, "use", tuple(self.use))
        for name in ("ids", "fpc"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            elif value is not None:
                object.__setattr__(self, name, tuple(value))
        if self.lonely_psu is not None and self.lonely_psu not in LONELY_PSU:
            raise WeightingError(f"unknown lonely_psu {self.lonely_psu!r}", code="weighting.unknown_lonely_psu",
                                 params={"value": str(self.lonely_psu), "known": ", ".join(LONELY_PSU)})
        if isinstance(self.bootstrap_scale, str) and self.bootstrap_scale not in BOOTSTRAP_SCALES:
            raise WeightingError(f"unknown bootstrap scale {self.bootstrap_scale!r}",
                                 code="weighting.unknown_bootstrap_scale",
                                 params={"scale": self.bootstrap_scale, "known": ", ".join(BOOTSTRAP_SCALES)})
        if self.method not in ("linear", "logit") and any(math.isfinite(b) for b in self.bounds):
            raise WeightingError("bounds apply to linear and logit calibration", code="weighting.bounds_method",
                                 params={"method": self.method}, hint="use method logit with bounds")


@dataclass
class WeightingResult:
    """A weighted design, what it was calibrated to, its diagnostics, and where it was stored."""

    design: Design
    diagnostics: Diagnostics
    margins: PopulationMargins | None = None  # None when read back from the store
    weighting_id: int | None = None
    margins_file: str | None = None


def _adjust(design: Design, margins: PopulationMargins, config: RakingConfig) -> Design:
    """The adjustment of ``config`` on a design made for it and not used again: its replicate matrix is
    reused for the adjusted replicates (one (n, R) matrix alive, not two: issue 18)."""
    if config.method == "rake":
        return rake(design, margins, trim_limits=config.trim_limits, reuse_replicates=True)
    if config.method in ("linear", "logit"):
        return calibrate(design, margins, calfun=config.method, bounds=config.bounds, reuse_replicates=True)
    if len(margins.margins) != 1:
        raise WeightingError("post-stratification uses one margin; name it with use=[...]",
                             code="weighting.poststratify_one")
    return poststratify(design, margins.margins[0], reuse_replicates=True)


def weigh(data: pd.DataFrame, config: RakingConfig) -> WeightingResult:
    """Weight responses (one row per firm, answers as codes) to the margins of ``config``.

    Raises
    ------
    WeightingError
        No responses, margins that do not fit the answers, non-convergence.
    """
    if data.empty:
        raise WeightingError("there are no responses to weight", code="weighting.nothing_to_weight")
    pm = prepare_margins(load_margins(config.margins).select(list(config.use) if config.use else None), data)
    spec = pm.design
    design = make_design(data, population=pm.total, strata=config.strata or spec.get("strata"),
                         ids=config.ids or spec.get("ids"), fpc=config.fpc or spec.get("fpc"),
                         lonely_psu=config.lonely_psu or spec.get("lonely_psu") or "fail")
    if config.replicates:
        design = replicate_design(design, config.replicates, replicates=config.n_replicates, seed=config.seed,
                                  scale=config.bootstrap_scale)
    design = _adjust(design, pm, config)
    return WeightingResult(design, diagnose(design, pm), pm, margins_file=str(config.margins))
