"""Adjust weights to population margins: post-stratification, raking, calibration, trimming.

Each function takes a :class:`Design` and returns a new one. With replicate
weights, the same adjustment is applied to every replicate column, as R's
``survey`` does, so replicate standard errors include the adjustment.

Methods (references: Deville & Särndal 1992; Lumley 2010, ch. 7):

- :func:`poststratify`: one margin; weights in each category scaled to its count.
- :func:`rake`: iterative proportional fitting over two or more margins until
  every margin is met within ``tol`` (relative), optionally with trimming.
- :func:`calibrate`: generalised regression (``linear``, GREG), ``raking`` or
  ``logit`` (bounded) calibration to all margins at once, by Newton's method
  on the calibration equations, exactly as R's ``grake``.
- :func:`trim`: weights held within limits, the trimmed mass spread over the others.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ..errors import Problem, SurveyWarning, WeightingError
from .design import Design, Step
from .margins import Margin, PopulationMargins, margin_categories, margin_values
from .notes import Note

__all__ = ["poststratify", "rake", "calibrate", "trim", "group_index", "CALFUNS"]


def group_index(design: Design, margin: Margin) -> tuple[np.ndarray, np.ndarray]:
    """Category index (0..K-1) of each respondent, and the population counts (K,).

    Raises
    ------
    WeightingError
        A numeric margin (only :func:`calibrate` uses those), or a respondent in no category.
    """
    if margin.is_numeric:
        raise WeightingError(f"margin '{margin.name}' is a numeric total: only calibration uses it",
                             code="weighting.numeric_needs_calibration", params={"margin": margin.name},
                             hint="use method linear, logit or raking calibration (calibrate)")
    names = margin_categories(design.data, margin)
    order = {c.name: i for i, c in enumerate(margin.categories)}
    idx = names.map(order)
    if idx.isna().any():
        raise WeightingError(f"{int(idx.isna().sum())} response(s) have no category in margin '{margin.name}'",
                             code="weighting.no_category", params={"count": int(idx.isna().sum()),
                                                                   "margin": margin.name},
                             hint="run prepare_margins first")
    return idx.to_numpy(dtype=int), margin.counts().to_numpy()


def _indicator(idx: np.ndarray, k: int) -> sp.csr_matrix:
    n = len(idx)
    return sp.csr_matrix((np.ones(n), (idx, np.arange(n))), shape=(k, n))


def _check_cells(margin: Margin, totals: np.ndarray, pop: np.ndarray) -> None:
    empty = [margin.categories[i].name for i in np.flatnonzero((totals[:, 0] <= 0) & (pop > 0))]
    if empty:
        raise WeightingError(f"margin '{margin.name}': categories {empty} have population but no weighted respondent",
                             code="weighting.empty_cells", params={"margin": margin.name, "categories": str(empty)},
                             hint="declare a merge in the margins file (collapse)")


def _own_matrix(design: Design) -> np.ndarray:
    """The design's weights and replicates as a float matrix that shares no memory with the design, to be
    scaled in place (``all_weights`` is already a new array when there are replicates: no second copy)."""
    W = design.all_weights()
    if W.dtype != np.float64 or np.shares_memory(W, design.weights) or (
            design.repweights is not None and np.shares_memory(W, design.repweights)):
        W = np.array(W, dtype=np.float64, copy=True)
    return W


#: rows scaled at a time: the factors of a block are (rows x columns), not a second copy of W
_ROWS_PER_BLOCK = 16_384


def _scale_to(G: sp.csr_matrix, idx: np.ndarray, pop: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Scale each column's weights, in place, so that category totals equal ``pop`` (NaN where a replicate
    has none); returns ``W``.

    In place and a block of rows at a time: with a million respondents and 200 replicates, ``W *
    factor[idx]`` made two more (n, 1 + R) float64 arrays, 1.6 GB each (issue 18).
    """
    totals = np.asarray(G @ W)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(totals > 0, pop[:, None] / totals, np.where(pop[:, None] > 0, np.nan, 1.0))
    for start in range(0, W.shape[0], _ROWS_PER_BLOCK):
        rows = slice(start, start + _ROWS_PER_BLOCK)
        W[rows] *= factor[idx[rows]]
    return W


# ------------------------------------------------------------------ post-stratification

def poststratify(design: Design, margin: Margin) -> Design:
    """Scale weights within each category of one margin to its population count.

    Raises
    ------
    WeightingError
        A category with population has no respondent.
    """
    idx, pop = group_index(design, margin)
    G = _indicator(idx, len(pop))
    W = _own_matrix(design)
    _check_cells(margin, np.asarray(G @ W), pop)
    new = _scale_to(G, idx, pop, W)
    step = Step("poststratify", {"groups": idx, "old": design.weights.copy(), "new": new[:, 0].copy()})
    return design.with_all_weights(new, step, Note("poststratified", {"margin": margin.name}))


# ------------------------------------------------------------------ raking

def _ipf(W: np.ndarray, parts: list, tol: float, maxit: int) -> tuple[np.ndarray, int, int]:
    """Rake every column; return weights, passes (-1: the main weights did not converge) and the
    number of replicate columns given up (NaN: no respondent left in a category, or no convergence)."""
    for it in range(1, maxit + 1):
        for _, idx, pop, G in parts:
            W = _scale_to(G, idx, pop, W)
        gaps = np.max([_column_misfit(G, pop, W) for _, _, pop, G in parts], axis=0)
        if gaps[0] < tol and np.all(gaps[1:][np.isfinite(gaps[1:])] < tol):
            break
    else:
        if not gaps[0] < tol:
            return W, -1, 0
        W[:, 1:][:, ~(gaps[1:] < tol)] = np.nan  # replicates that would not converge are left out
    return W, it, int(np.sum(~np.all(np.isfinite(W[:, 1:]), axis=0)))


def _column_misfit(G: sp.csr_matrix, pop: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Per column: the largest relative gap between category totals and counts (NaN for a failed column)."""
    totals = np.asarray(G @ W)
    return np.max(np.abs(totals - pop[:, None]) / np.maximum(pop[:, None], 1.0), axis=0)


def _misfit(G: sp.csr_matrix, pop: np.ndarray, W: np.ndarray) -> float:
    """Largest relative gap between weighted totals and counts, over finite columns."""
    gaps = _column_misfit(G, pop, W)
    return float(np.max(gaps[np.isfinite(gaps)])) if np.isfinite(gaps).any() else 0.0


def _not_met(parts: list, W: np.ndarray, tol: float, what: str) -> WeightingError:
    problems = [Problem(f"margin '{m.name}' is off by up to {_misfit(G, pop, W[:, :1]):.2%}", where=m.name,
                        code="weighting.margin_off", params={"margin": m.name, "gap": _misfit(G, pop, W[:, :1])})
                for m, _, pop, G in parts if _misfit(G, pop, W[:, :1]) >= tol]
    return WeightingError(f"{what} did not converge: the weights cannot meet every margin",
                          code="weighting.not_converged", params={"what": what},  # what: weighting.method.<what>
                          problems=problems or [Problem("a replicate did not converge",
                                                        code="weighting.replicate_not_converged")],
                          hint="merge sparse categories, drop a margin or loosen the trimming limits")


def rake(design: Design, margins: PopulationMargins, *, tol: float = 1e-8, maxit: int = 500,
         trim_limits: tuple[float, float] | None = None) -> Design:
    """Rake (iterative proportional fitting) to two or more margins.

    Parameters
    ----------
    tol : float
        Convergence: every category total within ``tol`` (relative) of its count.
    maxit : int
        Most passes over the margins.
    trim_limits : (lower, upper), optional
        Limits on the weights (enterprises per respondent). When raking alone
        leaves weights outside them, the weights are recomputed by logit
        calibration (Deville & Särndal 1992; R's ``calibrate(calfun="logit",
        bounds=...)``) with each respondent's bounds set so that its weight stays
        within the limits: like raking for weights well inside, it moves the
        trimmed mass to the other respondents and still meets every margin.

    Raises
    ------
    WeightingError
        Empty categories, or no convergence (naming the margins not met).
    """
    parts = []
    W = _own_matrix(design)  # scaled in place by _ipf
    for m in margins.margins:
        idx, pop = group_index(design, m)
        G = _indicator(idx, len(pop))
        _check_cells(m, np.asarray(G @ W), pop)
        parts.append((m, idx, pop, G))
    new, it, dropped = _ipf(W, parts, tol, maxit)
    if it < 0:
        raise _not_met(parts, new, tol, "raking")
    names = ", ".join(m.name for m in margins.margins)
    note = (Note("raked_dropped", {"margins": names, "passes": int(it), "dropped": int(dropped)}) if dropped
            else Note("raked", {"margins": names, "passes": int(it)}))
    if dropped > 0.1 * (W.shape[1] - 1):
        warnings.warn(f"{dropped} of {W.shape[1] - 1} replicates could not be raked to the margins {names}: "
                      "standard errors rest on the others; merge sparse categories or use fewer margins",
                      SurveyWarning, stacklevel=2)
    if trim_limits and not _within(new, trim_limits, tol):
        return _bounded_rake(design, margins, trim_limits, names)
    step = Step("rake", {"margins": [idx for _, idx, _, _ in parts], "new": new[:, 0].copy()})
    return design.with_all_weights(new, step, note)


def _bounded_rake(design: Design, margins: PopulationMargins, limits: tuple[float, float], names: str) -> Design:
    X, T = model_matrix(design, margins)
    W = design.all_weights()
    lo, hi = limits
    cols = []
    for j in range(W.shape[1]):
        w = W[:, j]
        if not np.all(np.isfinite(w)):
            cols.append(np.full_like(w, np.nan))
            continue
        shift = T[0] / w.sum()  # start from weights that already add up to the population
        ws = w * shift
        with np.errstate(divide="ignore"):
            bounds = (np.where(ws > 0, lo / ws, 0.0), np.where(ws > 0, hi / ws, np.inf))
        try:
            cols.append(shift * _grake(X, ws, T, "logit", bounds, 1e-10, 200, rescale=False))
        except WeightingError:
            if j == 0:
                raise WeightingError(
                    f"raking with weights kept within [{lo:g}, {hi:g}] did not converge: no weights within these "
                    f"limits meet the margins {names}", code="weighting.bounded_not_converged",
                    params={"low": f"{lo:g}", "high": f"{hi:g}", "margins": names},
                    hint="widen the limits, merge sparse categories or drop a margin") from None
            cols.append(np.full_like(w, np.nan))  # this replicate is dropped from the variance
    G = np.column_stack(cols)
    step = Step("greg", {"X": X, "old": design.weights.copy(), "g": G[:, 0].copy()})
    return design.with_all_weights(W * G, step, Note("raked_bounded", {"margins": names, "low": f"{lo:g}",
                                                                  "high": f"{hi:g}"}))


def _within(W: np.ndarray, limits: tuple[float, float], tol: float) -> bool:
    lo, hi = limits
    finite = W[:, np.all(np.isfinite(W), axis=0)]
    return bool(np.all(finite >= lo * (1 - tol)) and np.all(finite <= hi * (1 + tol)))


# ------------------------------------------------------------------ trimming

def _trim_matrix(W: np.ndarray, lower: float, upper: float, strict: bool = True) -> np.ndarray:
    W = W.copy()
    for j in range(W.shape[1]):
        w = W[:, j]
        if not np.all(np.isfinite(w)):
            continue
        for _ in range(100):
            outside = (w < lower) | (w > upper)
            if not outside.any():
                break
            new = np.clip(w, lower, upper)
            new[~outside] += (w - new).sum() / (~outside).sum()  # spread the trimmed mass evenly, as R does
            w = new
            if not strict:
                break
        W[:, j] = w
    return W


def trim(design: Design, lower: float = -np.inf, upper: float = np.inf, strict: bool = True) -> Design:
    """Hold weights within ``[lower, upper]``; the trimmed mass is spread evenly over the other weights.

    As R's ``trimWeights``; ``strict`` repeats until no weight is outside. The
    total of the weights is kept; margins may move, so rake again (or use
    ``rake(..., trim_limits=...)``) to meet them.
    """
    W = _trim_matrix(design.all_weights(), lower, upper, strict)
    moved = int(np.sum(W[:, 0] != design.weights))
    return design.with_all_weights(W, None, Note("trimmed", {"low": f"{lower:g}", "high": f"{upper:g}",
                                                              "moved": moved}))


# ------------------------------------------------------------------ calibration (GREG, raking, logit)

def _linear(u, lo, hi):
    return np.minimum(np.maximum(u + 1, lo), hi) - 1, ((u < hi - 1) & (u > lo - 1)).astype(float)


def _raking(u, lo, hi):
    e = np.exp(u)
    return np.minimum(np.maximum(e, lo), hi) - 1, np.where((u < hi - 1) & (u > lo - 1), e, 0.0)


def _logit(u, lo, hi):
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise WeightingError("logit calibration needs finite bounds, e.g. bounds=(0.5, 2)",
                             code="weighting.logit_bounds")
    a = (hi - lo) / ((hi - 1) * (1 - lo))
    e = np.exp(a * u)
    num, den = lo * (hi - 1) + hi * (1 - lo) * e, hi - 1 + (1 - lo) * e
    return num / den - 1, hi * (1 - lo) * e * a / den - num * ((1 - lo) * e * a) / den ** 2


#: calibration functions F^-1(u) - 1 and their derivative, as R's cal.linear, cal.raking, cal.logit
CALFUNS = {"linear": _linear, "raking": _raking, "logit": _logit}


def model_matrix(design: Design, margins: PopulationMargins) -> tuple[np.ndarray, np.ndarray]:
    """Intercept plus indicators of every category but the first of each margin (or cell, for an
    interaction), numeric auxiliaries as they are, and their population totals.

    The same column space, and so the same calibrated weights, as R's
    ``model.matrix(~a + b + x)`` with ``population = c(N, N_a2, ..., N_b2, ..., T_x)``.
    """
    cols, totals = [np.ones(design.n)], [margins.total]
    for m in margins.margins:
        if m.is_numeric:
            cols.append(margin_values(design.data, m).to_numpy(dtype=float))
            totals.append(m.value_total)
            continue
        idx, pop = group_index(design, m)
        for k in range(1, len(pop)):
            cols.append((idx == k).astype(float))
            totals.append(pop[k])
    return np.column_stack(cols), np.asarray(totals, dtype=float)


def _grake(X: np.ndarray, w: np.ndarray, T: np.ndarray, calfun: str, bounds, tol: float, maxit: int,
           rescale: bool = True) -> np.ndarray:
    """g-factors solving sum(w * g * x) = T with g = 1 + F(x'eta) (Newton, as R's grake)."""
    F = CALFUNS[calfun]
    lo, hi = bounds
    eta = np.zeros(X.shape[1])
    s_total = X.T @ w
    scale = 1.0
    ratios = T / np.where(s_total == 0, np.nan, s_total)
    if rescale and np.nanmin(ratios) > 20:  # R rescales wildly small starting weights
        scale = float(np.nanmean(ratios))
        w, s_total = w * scale, s_total * scale
    fm1, deriv = F(X @ eta, lo, hi)
    it = 0
    while it < maxit:
        Tmat = (X * (w * deriv)[:, None]).T @ X
        misfit = T - s_total - X.T @ (w * fm1)
        step = np.linalg.pinv(Tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        with np.errstate(over="ignore", invalid="ignore"):
            fm1, deriv = F(X @ eta, lo, hi)
            while it < maxit and not (np.all(np.isfinite(fm1)) and np.all(np.isfinite(deriv))):
                it += 1  # step halving, as R's grake
                step = step / 2
                eta = eta - step
                fm1, deriv = F(X @ eta, lo, hi)
        misfit = T - s_total - X.T @ (w * fm1)
        if np.all(np.abs(misfit) / (1 + np.abs(T)) < tol):
            return (1 + fm1) * scale
        it += 1
    raise WeightingError(f"{calfun} calibration did not converge in {maxit} iterations",
                         code="weighting.calibration_not_converged", params={"calfun": calfun, "maxit": maxit},
                         hint="loosen the bounds or merge sparse categories")


def calibrate(design: Design, margins: PopulationMargins, *, calfun: str = "linear",
              bounds: tuple[float, float] = (-np.inf, np.inf), tol: float = 1e-10, maxit: int = 100) -> Design:
    """Calibrate to all margins at once.

    Parameters
    ----------
    calfun : {"linear", "raking", "logit"}
        ``linear`` is GREG (weights may go below zero without bounds);
        ``raking`` gives the raking weights; ``logit`` keeps the ratio of
        final to starting weight strictly within ``bounds``.
    bounds : (lower, upper)
        Limits on g = final / starting weight.

    Raises
    ------
    WeightingError
        Unknown ``calfun``, empty categories, no convergence, or (``linear``) a final
        weight at or below zero where the starting weight was positive: use ``logit``
        with ``bounds`` instead (``weighting.negative_weights``).
    """
    if calfun not in CALFUNS:
        raise WeightingError(f"unknown calibration function {calfun!r}", code="weighting.unknown_calfun",
                             params={"calfun": str(calfun)}, hint="linear, raking or logit")
    X, T = model_matrix(design, margins)
    W = design.all_weights()
    for m in (m for m in margins.margins if not m.is_numeric):
        idx, pop = group_index(design, m)
        _check_cells(m, np.asarray(_indicator(idx, len(pop)) @ W), pop)
    G = np.column_stack([_calibrate_column(X, W[:, 0], T, calfun, bounds, tol, maxit)]
                        + [_replicate_column(X, W[:, j], T, calfun, bounds, tol, maxit) for j in range(1, W.shape[1])])
    if calfun == "linear":
        _refuse_non_positive(W[:, 0], G[:, 0])
    step = Step("greg", {"X": X, "old": design.weights.copy(), "g": G[:, 0].copy()})
    names = ", ".join(m.name for m in margins.margins)
    failed = int(np.sum(~np.all(np.isfinite(G[:, 1:]), axis=0))) - int(np.sum(~np.all(np.isfinite(W[:, 1:]), axis=0)))
    note = (Note("calibrated_dropped", {"calfun": calfun, "margins": names, "dropped": failed}) if failed > 0
            else Note("calibrated", {"calfun": calfun, "margins": names}))
    return design.with_all_weights(W * G, step, note)


def _replicate_column(X, w, T, calfun, bounds, tol, maxit) -> np.ndarray:
    """g-factors of one replicate; NaN when the calibration does not converge on it: the replicate is
    then left out of the variance, counted in the diagnostics, and the scale accounts for it."""
    try:
        return _calibrate_column(X, w, T, calfun, bounds, tol, maxit)
    except WeightingError:
        return np.full_like(w, np.nan)


def _refuse_non_positive(start: np.ndarray, g: np.ndarray) -> None:
    """Linear calibration (GREG) can give weights at or below zero; a firm cannot stand for a negative number
    of enterprises, so such weights are refused, pointing to bounded (logit) calibration."""
    bad = (start > 0) & (g <= 0)
    if bad.any():
        smallest = float(np.min(start[bad] * g[bad]))
        raise WeightingError(f"linear calibration gives {int(bad.sum())} weight(s) at or below zero (smallest "
                             f"{smallest:.4g}): a respondent cannot stand for a negative number of enterprises",
                             code="weighting.negative_weights", params={"count": int(bad.sum()), "smallest": smallest},
                             hint="use bounded calibration: method logit with bounds on the weight ratio, e.g. "
                                  "pgi-survey weights --method logit --bounds 0.3 3 (calibrate(..., calfun='logit', "
                                  "bounds=(0.3, 3))), or merge sparse categories")


def _calibrate_column(X, w, T, calfun, bounds, tol, maxit) -> np.ndarray:
    if not np.all(np.isfinite(w)):
        return np.full_like(w, np.nan)
    if calfun == "linear" and not np.any(np.isfinite(bounds)):
        # closed form GREG, as R's regcalibrate
        A = X * np.sqrt(w)[:, None]
        lam = np.linalg.lstsq(A.T @ A, T - X.T @ w, rcond=None)[0]
        return 1 + X @ lam
    return _grake(X, w, T, calfun, bounds, tol, maxit)
