"""Taylor-linearised variance of a design, as R's ``svyrecvar``: calibration residuals, then the stages.

The influence values (n, p) of p estimates are first adjusted for each
calibration step the design went through (residuals on the calibration
variables for GREG, post-stratum centring, ten passes of margin centring for
raking), then summed within primary units and, in every first-stage
stratum ``h`` with ``n_h`` primary units out of ``N_h``,

    V_h = (1 - n_h / N_h) * n_h / (n_h - 1) * sum_i (z_hi - mean_h z)(z_hi - mean_h z)'

(without ``fpc`` the correction is 1: sampling with replacement). With a
population size at the second stage too, each primary unit adds its own
second-stage variance times the first-stage sampling fraction ``n_h / N_h``
(R's ``multistage``; Särndal, Swensson & Wretman 1992, 4.3). A stratum with
one primary unit follows ``design.lonely_psu`` as R's ``survey.lonely.psu``.

Domains keep every row with zero influence outside, so the counts of primary
units are those of the whole design, as R's ``subset`` keeps them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .design import Design, Step, group_indicator, stage_sizes

__all__ = ["linearised_covariance", "linearised_variance", "residualise"]


def _group_sums(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Column sums of x within each group 0..max(idx): (groups, p)."""
    k = int(idx.max()) + 1
    return np.asarray(group_indicator(idx, k) @ x)


def _group_means(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Each row's group mean of x (unweighted), as R's ``ave``."""
    return (_group_sums(x, idx) / np.bincount(idx)[:, None])[idx]


def residualise(x: np.ndarray, step: Step) -> np.ndarray:
    """Influence values after one calibration step, as ``svyrecvar``'s ``postStrata`` loop."""
    info = step.info
    if step.kind == "greg":
        a = np.sqrt(info["old"])
        w = info["g"] * a
        A = info["X"] * a[:, None]
        z = x / w[:, None]
        coef = np.linalg.lstsq(A, z, rcond=None)[0]
        return (z - A @ coef) * w[:, None]
    if step.kind == "rake":
        psw = info["new"][:, None]
        for _ in range(10):  # R: a fixed ten passes of backfitting over the margins
            for idx in info["margins"]:
                x = x - psw * _group_means(x / psw, idx)
        return x
    if step.kind == "poststratify":
        idx, old, new = info["groups"], info["old"][:, None], info["new"][:, None]
        means = _group_sums(x * old / new, idx) / np.bincount(idx, weights=old[:, 0])[:, None]
        return x - means[idx] * new
    raise EstimationError(f"unknown adjustment {step.kind!r}", code="estimation.unknown_adjustment",
                          params={"kind": str(step.kind)})


def _one_stratum(z: np.ndarray, n_psu: int, popsize: float | None, lonely: str, stratum) -> np.ndarray | None:
    """Covariance from one stratum's primary-unit totals z (m, p); None for ``average`` on a lonely unit."""
    f = 1.0 if popsize is None or popsize == np.inf else (popsize - n_psu) / popsize
    p = z.shape[1]
    if f < 1e-7:  # the whole stratum was taken: no sampling variance
        return np.zeros((p, p))
    if len(z) < n_psu:
        z = np.vstack([z, np.zeros((n_psu - len(z), p))])
    if lonely != "adjust" or len(z) > 1:
        z = z - z.mean(axis=0)
    if n_psu > 1:
        return f * n_psu / (n_psu - 1) * (z.T @ z)
    if lonely == "fail":
        raise EstimationError(f"stratum {stratum!r} has a single primary sampling unit",
                              code="estimation.lonely_psu", params={"stratum": repr(stratum)},
                              hint="merge it with another stratum, or choose lonely_psu (certainty, remove, "
                                   "adjust or average)")
    return None if lonely == "average" else f * (z.T @ z)


def _one_stage(x, strata, psu, n_psu, popsize, lonely) -> np.ndarray:
    p = x.shape[1]
    total, kept, count = np.zeros((p, p)), 0, 0
    for h in pd.unique(strata):
        rows = np.flatnonzero(strata == h)
        z = _group_sums(x[rows], pd.factorize(psu[rows])[0])
        v = _one_stratum(z, int(n_psu[rows[0]]), None if popsize is None else float(popsize[rows[0]]), lonely, h)
        count += 1
        if v is not None:
            total, kept = total + v, kept + 1
    return total * count / kept if kept else total * np.nan


def _multistage(x, strata, clusters, sizes, popsize, lonely) -> np.ndarray:
    v = _one_stage(x, strata, clusters[:, 0], sizes[:, 0], None if popsize is None else popsize[:, 0], lonely)
    if popsize is None or clusters.shape[1] < 2:
        return v
    for c in pd.unique(clusters[:, 0]):
        rows = np.flatnonzero(clusters[:, 0] == c)
        sub = _multistage(x[rows], clusters[rows, 0], clusters[rows, 1:], sizes[rows, 1:], popsize[rows, 1:], lonely)
        v = v + sub * sizes[rows[0], 0] / popsize[rows[0], 0]
    return v


def linearised_covariance(design: Design, influence: np.ndarray) -> np.ndarray:
    """Covariance (p, p) of estimates with these influence values (n, p), after the design's adjustments.

    Raises
    ------
    EstimationError
        A stratum with one primary unit when ``design.lonely_psu`` is ``fail``.
    """
    x = np.asarray(influence, dtype=float).reshape(design.n, -1)
    for step in design.steps:
        x = residualise(x, step)
    strata = design.stratum()
    clusters = design.clusters if design.clusters is not None else np.arange(design.n)[:, None]
    sizes = stage_sizes(clusters, strata)
    return _multistage(x, strata, clusters, sizes, design.fpc, design.lonely_psu)


def linearised_variance(design: Design, influence: np.ndarray) -> np.ndarray:
    """Variances (p,) of estimates with these influence values (n, p): the diagonal of :func:`linearised_covariance`."""
    return np.diag(linearised_covariance(design, influence)).copy()
