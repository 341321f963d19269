"""Replicate weights: jackknife (JK1, JKn) and the Rao-Wu bootstrap, and the replicate variance.

Replicates are made from the starting design, before any adjustment; every
later adjustment (post-stratification, raking, calibration, trimming) is
then redone on each replicate, so the standard errors include the weighting.
Scale factors follow R's ``survey`` (``jk1weights``, ``jknweights``,
``subbootweights``) so results agree with it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from ..errors import WeightingError
from .design import Design
from .notes import Note

__all__ = ["replicate_design", "with_replicates", "replicate_variance", "REPLICATE_TYPES"]

REPLICATE_TYPES = ("JK1", "JKn", "bootstrap")


def _jk1(n: int) -> tuple[np.ndarray, float, np.ndarray]:
    if n < 2:
        raise WeightingError("the jackknife needs at least 2 responses", code="weighting.jackknife_size")
    m = np.full((n, n), n / (n - 1))
    np.fill_diagonal(m, 0.0)
    return m, (n - 1) / n, np.ones(n)


def _jkn(strata: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    n = len(strata)
    m = np.ones((n, n))
    rscales = np.empty(n)
    for s in dict.fromkeys(strata):  # strata in order of appearance, as R
        rows = np.flatnonzero(strata == s)
        nh = len(rows)
        if nh < 2:
            raise WeightingError(f"stratum {s!r} has a single response: the JKn jackknife needs at least 2",
                                 code="weighting.jkn_single", params={"stratum": repr(s)},
                                 hint="merge it with another stratum")
        for r in rows:
            m[rows, r] = nh / (nh - 1)
            m[r, r] = 0.0
            rscales[r] = (nh - 1) / nh
    return m, 1.0, rscales


def _bootstrap(strata: np.ndarray, replicates: int, rng: np.random.Generator) -> tuple[np.ndarray, float, np.ndarray]:
    """Rao-Wu (1988) bootstrap: in each stratum, n_h - 1 draws with replacement, rescaled by n_h / (n_h - 1)."""
    n = len(strata)
    m = np.empty((n, replicates))
    for s in dict.fromkeys(strata):
        rows = np.flatnonzero(strata == s)
        nh = len(rows)
        if nh < 2:
            raise WeightingError(f"stratum {s!r} has a single response: the bootstrap needs at least 2",
                                 code="weighting.bootstrap_single", params={"stratum": repr(s)})
        draws = rng.integers(0, nh, size=(replicates, nh - 1))
        counts = np.apply_along_axis(np.bincount, 1, draws, minlength=nh).T  # (nh, R)
        m[rows] = counts * nh / (nh - 1)
    if replicates < 2:
        raise WeightingError("the bootstrap needs at least 2 replicates", code="weighting.bootstrap_size")
    return m, 1.0 / (replicates - 1), np.ones(replicates)


def replicate_design(design: Design, type: str = "bootstrap", *, replicates: int = 200,
                     seed: int | None = None, multipliers: np.ndarray | None = None) -> Design:
    """Add replicate weights to a design that has not been adjusted yet.

    Parameters
    ----------
    type : {"JK1", "JKn", "bootstrap"}
        JK1 drops one response at a time; JKn drops one at a time within
        strata (needs ``design.strata``); bootstrap is Rao-Wu within strata.
    replicates : int
        Number of bootstrap replicates.
    seed : int, optional
        Seed of the bootstrap draws (recorded in the log).
    multipliers : ndarray (n, R), optional
        Bootstrap multipliers made elsewhere (e.g. by R), used as given.

    Raises
    ------
    WeightingError
        Unknown type, a design already adjusted, or strata too small.
    """
    if design.steps:
        raise WeightingError("make replicates before adjusting the weights, so that every adjustment is redone "
                             "on each replicate", code="weighting.replicates_after")
    strata = design.strata if design.strata is not None else np.zeros(design.n, dtype=int)
    if type == "JK1":
        m, scale, rscales = _jk1(design.n)
    elif type == "JKn":
        if design.strata is None:
            raise WeightingError("JKn replicates need strata", code="weighting.jkn_strata")
        m, scale, rscales = _jkn(strata)
    elif type == "bootstrap":
        if multipliers is not None:
            m = np.asarray(multipliers, dtype=float)
            scale, rscales = 1.0 / (m.shape[1] - 1), np.ones(m.shape[1])
        else:
            m, scale, rscales = _bootstrap(strata, replicates, np.random.default_rng(seed))
    else:
        raise WeightingError(f"unknown replicate type {type!r}", code="weighting.unknown_replicates",
                             params={"type": str(type), "known": ", ".join(REPLICATE_TYPES)},
                             hint="one of " + ", ".join(REPLICATE_TYPES))
    seeded = type == "bootstrap" and multipliers is None and seed is not None  # the jackknife draws nothing
    note = (Note("replicates_seeded", {"type": type, "count": int(m.shape[1]), "seed": int(seed)}) if seeded
            else Note("replicates", {"type": type, "count": int(m.shape[1])}))
    return replace(design, repweights=design.weights[:, None] * m, rep_type=type, scale=scale,
                   rscales=rscales, log=design.log + (note,))


def with_replicates(design: Design, statistic: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Run ``statistic(weights) -> array`` on the weights and on every replicate.

    Returns the estimate (p,) and the replicate estimates (R, p). Any
    statistic, however composite (a sub-index, the PGI total), gets its
    uncertainty through this one hook.
    """
    if design.repweights is None:
        raise WeightingError("the design has no replicate weights", code="weighting.no_replicates",
                             hint="use replicate_design first")
    estimate = np.atleast_1d(np.asarray(statistic(design.weights), dtype=float))
    reps = np.array([np.atleast_1d(statistic(design.repweights[:, r])) for r in range(design.repweights.shape[1])],
                    dtype=float)
    return estimate, reps.reshape(len(reps), -1)


def replicate_variance(design: Design, thetas: np.ndarray) -> np.ndarray:
    """Variances from replicate estimates (R, p): ``scale * sum(rscales * (theta_r - mean)^2)``.

    Replicates whose estimate is not finite (a replicate with no respondent in a
    category) are dropped, as R's ``svrVar`` does.
    """
    thetas = np.asarray(thetas, dtype=float).reshape(len(thetas), -1)
    out = np.full(thetas.shape[1], np.nan)
    for j in range(thetas.shape[1]):  # per column: a statistic that is undefined everywhere stays NaN alone
        ok = np.isfinite(thetas[:, j])
        if ok.any():
            t, rs = thetas[ok, j], design.rscales[ok]
            centre = t[rs > 0].mean()
            out[j] = design.scale * np.sum(rs * (t - centre) ** 2)
    return out
