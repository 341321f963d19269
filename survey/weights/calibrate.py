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

from ..errors import Problem, SurveyWarning, WeightingError
from .design import (
    BLOCK_BYTES, Design, Step, group_indicator, replicate_matrix, replicates_finite, row_blocks,
)
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


def _check_cells(margin: Margin, totals: np.ndarray, pop: np.ndarray) -> None:
    empty = [margin.categories[i].name for i in np.flatnonzero((totals[:, 0] <= 0) & (pop > 0))]
    if empty:
        raise WeightingError(f"margin '{margin.name}': categories {empty} have population but no weighted respondent",
                             code="weighting.empty_cells", params={"margin": margin.name, "categories": str(empty)},
                             hint="declare a merge in the margins file (collapse)")


def _columns(design: Design) -> int:
    """Columns of the weight matrix: the weights and every replicate."""
    return 1 + (0 if design.repweights is None else design.repweights.shape[1])


def _new_replicates(design: Design, reuse: bool) -> np.ndarray:
    """Where an adjustment writes the new replicate weights: a new matrix of the design's dtype, or, when
    the caller gives the design up (``reuse``), the design's own matrix."""
    if reuse:
        return design.repweights
    return replicate_matrix(design.n, design.repweights.shape[1], design.repweights.dtype)


def _cell_totals(design: Design, cell: np.ndarray, cells: int) -> np.ndarray:
    """Weighted totals (cells, 1 + R) of each cell, for the weights and every replicate, in float64.

    One sweep over the rows, a block at a time (a block of float32 replicates is upcast, never the whole
    matrix). A replicate that is NaN somewhere (dropped by an earlier adjustment) has NaN totals.
    """
    totals = np.zeros((cells, _columns(design)))
    totals[:, 0] = np.bincount(cell, weights=design.weights, minlength=cells)
    if design.repweights is not None:
        for rows in row_blocks(design.n, totals.shape[1]):
            block = np.ascontiguousarray(design.repweights[rows], dtype=np.float64)
            totals[:, 1:] += group_indicator(cell[rows], cells) @ block
            del block  # one block alive, not two
    return totals


def _times_cell_factors(design: Design, cell: np.ndarray, factors: np.ndarray,
                        reuse: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """New weights and replicates: each row's weights times its cell's factors (cells, 1 + R).

    The replicates come out in a new matrix of their own dtype, written a block of rows at a time: the
    design's matrix and the new one are the only two (n, R) arrays alive; with ``reuse``, in the design's
    own matrix (each block read before it is written).
    """
    weights = design.weights * factors[cell, 0]
    if design.repweights is None:
        return weights, None
    reps = _new_replicates(design, reuse)
    for rows in row_blocks(design.n, factors.shape[1]):
        block = factors[cell[rows], 1:]  # a new array: scaled in place, one temporary per block
        block *= design.repweights[rows]
        reps[rows] = block
        del block  # let go before the next block is gathered: one block alive, not two
    return weights, reps


def _cells(idxs: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The cross-classification of several margins: each row's cell (0..C-1) and, per margin, each cell's
    category (C,). Raking scales every row of a cell alike, so it can run on the cells' totals."""
    cell = np.zeros(len(idxs[0]), dtype=np.int64)
    for idx in idxs:  # renumbered after each margin: the codes stay below n, never overflow
        cell = np.unique(cell * (int(idx.max()) + 1) + idx, return_inverse=True)[1].ravel()
    first = np.unique(cell, return_index=True)[1]
    return cell, [idx[first] for idx in idxs]


def _factors(totals: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Per category and column, the factor bringing the totals (K, C) to ``pop`` (K,): NaN where a category
    with population has no weight in a replicate (the replicate is then left out), 1 where both are 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals > 0, pop[:, None] / totals, np.where(pop[:, None] > 0, np.nan, 1.0))


def _margin_totals(category: np.ndarray, k: int, cell_totals: np.ndarray) -> np.ndarray:
    """Totals (K, C) of a margin's categories from the cells' totals (cells, C)."""
    return np.asarray(group_indicator(category, k) @ cell_totals)


def _column_by_column(design: Design, adjust, reuse: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """New weights and replicates from ``adjust(j, w)``, the new column j (0: the weights) of the weight
    matrix from its old one ``w`` (float64), one column at a time into a new replicate matrix of the
    design's dtype (with ``reuse``, its own: each column read before it is written): no (n, 1 + R) copy
    of the old matrix, nor of the factors."""
    weights = adjust(0, np.asarray(design.weights, dtype=float))
    if design.repweights is None:
        return weights, None
    reps = _new_replicates(design, reuse)
    for j in range(reps.shape[1]):
        reps[:, j] = adjust(j + 1, design.repweights[:, j].astype(float))
    return weights, reps


# ------------------------------------------------------------------ post-stratification

def poststratify(design: Design, margin: Margin, *, reuse_replicates: bool = False) -> Design:
    """Scale weights within each category of one margin to its population count.

    Parameters
    ----------
    reuse_replicates : bool
        The design given is not used again (as in :func:`~survey.weights.weigh`, which made it): its
        replicate matrix is overwritten with the new replicate weights and becomes the new design's, so
        one (n, R) matrix is alive instead of two (0.75 GiB less at a million responses and 200 float32
        replicates). Never for a design still in use: it would then hold the new replicate weights.

    Raises
    ------
    WeightingError
        A category with population has no respondent.
    """
    idx, pop = group_index(design, margin)
    totals = _cell_totals(design, idx, len(pop))
    _check_cells(margin, totals, pop)
    weights, reps = _times_cell_factors(design, idx, _factors(totals, pop), reuse_replicates)
    step = Step("poststratify", {"groups": idx, "old": design.weights.copy(), "new": weights.copy()})
    return design.with_weights(weights, reps, step, Note("poststratified", {"margin": margin.name}))


# ------------------------------------------------------------------ raking

def _ipf(cell_totals: np.ndarray, parts: list, tol: float, maxit: int) -> tuple[np.ndarray, int, int]:
    """Rake every column of the cells' totals (cells, C), in place; return the cells' factors (cells, C),
    passes (-1: the main weights did not converge) and the number of replicate columns given up (NaN
    factors: no respondent left in a category, or no convergence).

    Iterative proportional fitting on the cells of the margins' cross-classification: every row of a cell is
    scaled alike, so this is raking row by row, on a table of a few hundred cells instead of n rows (at
    most the product of the margins' category counts, and never more than n: two (cells, C) tables).
    """
    current, factors = cell_totals, np.ones_like(cell_totals)  # the totals are raked in place
    for it in range(1, maxit + 1):
        for _, category, pop, _ in parts:
            f = _factors(_margin_totals(category, len(pop), current), pop)[category]
            with np.errstate(over="ignore", invalid="ignore"):  # a replicate that diverges is left out below
                current *= f
                factors *= f
        gaps = np.max([_column_misfit(_margin_totals(category, len(pop), current), pop)
                       for _, category, pop, _ in parts], axis=0)
        if gaps[0] < tol and np.all(gaps[1:][np.isfinite(gaps[1:])] < tol):
            break
    else:
        if not gaps[0] < tol:
            return factors, -1, 0
        factors[:, 1:][:, ~(gaps[1:] < tol)] = np.nan  # replicates that would not converge are left out
    return factors, it, int(np.sum(~np.all(np.isfinite(factors[:, 1:]), axis=0)))


def _column_misfit(totals: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Per column: the largest relative gap between category totals (K, C) and counts (NaN for a failed column)."""
    return np.max(np.abs(totals - pop[:, None]) / np.maximum(pop[:, None], 1.0), axis=0)


def _misfit(totals: np.ndarray, pop: np.ndarray) -> float:
    """Largest relative gap between weighted totals and counts, over finite columns."""
    gaps = _column_misfit(totals, pop)
    return float(np.max(gaps[np.isfinite(gaps)])) if np.isfinite(gaps).any() else 0.0


def _not_met(parts: list, cell_weights: np.ndarray, tol: float, what: str) -> WeightingError:
    """The error of a weighting that did not converge, naming each margin the weights (cells' totals of
    column 0, (cells, 1)) miss."""
    gaps = [(m, _misfit(_margin_totals(category, len(pop), cell_weights), pop)) for m, category, pop, _ in parts]
    problems = [Problem(f"margin '{m.name}' is off by up to {gap:.2%}", where=m.name,
                        code="weighting.margin_off", params={"margin": m.name, "gap": gap})
                for m, gap in gaps if gap >= tol]
    return WeightingError(f"{what} did not converge: the weights cannot meet every margin",
                          code="weighting.not_converged", params={"what": what},  # what: weighting.method.<what>
                          problems=problems or [Problem("a replicate did not converge",
                                                        code="weighting.replicate_not_converged")],
                          hint="merge sparse categories, drop a margin or loosen the trimming limits")


def rake(design: Design, margins: PopulationMargins, *, tol: float = 1e-8, maxit: int = 500,
         trim_limits: tuple[float, float] | None = None, reuse_replicates: bool = False) -> Design:
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
    reuse_replicates : bool
        The design given is not used again (as in :func:`~survey.weights.weigh`, which made it): its
        replicate matrix is overwritten with the new replicate weights and becomes the new design's, so
        one (n, R) matrix is alive instead of two (0.75 GiB less at a million responses and 200 float32
        replicates). Never for a design still in use: it would then hold the new replicate weights.
        (With ``trim_limits`` the raking writes a new matrix, as the bounded raking may start again from
        the design given; that one reuses it.)

    Raises
    ------
    WeightingError
        Empty categories, or no convergence (naming the margins not met).
    """
    idxs = [group_index(design, m) for m in margins.margins]
    cell, categories = _cells([idx for idx, _ in idxs])
    totals = _cell_totals(design, cell, len(categories[0]))  # the one sweep over the rows before the last
    parts = []
    for m, (idx, pop), category in zip(margins.margins, idxs, categories):
        _check_cells(m, _margin_totals(category, len(pop), totals), pop)
        parts.append((m, category, pop, idx))
    factors, it, dropped = _ipf(totals, parts, tol, maxit)  # totals: now the raked cells' totals
    if it < 0:
        raise _not_met(parts, totals[:, :1], tol, "raking")
    names = ", ".join(m.name for m in margins.margins)
    note = (Note("raked_dropped", {"margins": names, "passes": int(it), "dropped": int(dropped)}) if dropped
            else Note("raked", {"margins": names, "passes": int(it)}))
    replicates = totals.shape[1] - 1
    if dropped > 0.1 * replicates:
        warnings.warn(f"{dropped} of {replicates} replicates could not be raked to the margins {names}: "
                      "standard errors rest on the others; merge sparse categories or use fewer margins",
                      SurveyWarning, stacklevel=2)
    weights, reps = _times_cell_factors(design, cell, factors, reuse_replicates and not trim_limits)
    if trim_limits and not _within(weights, reps, trim_limits, tol):
        del reps
        return _bounded_rake(design, margins, trim_limits, names, reuse_replicates)
    step = Step("rake", {"margins": [idx for _, _, _, idx in parts], "new": weights.copy()})
    return design.with_weights(weights, reps, step, note)


def _bounded_rake(design: Design, margins: PopulationMargins, limits: tuple[float, float], names: str,
                  reuse: bool = False) -> Design:
    X, T = model_matrix(design, margins)
    lo, hi = limits
    first: list[np.ndarray] = []

    def adjust(j: int, w: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(w)):
            return np.full_like(w, np.nan)
        shift = T[0] / w.sum()  # start from weights that already add up to the population
        ws = w * shift
        with np.errstate(divide="ignore"):
            bounds = (np.where(ws > 0, lo / ws, 0.0), np.where(ws > 0, hi / ws, np.inf))
        try:
            g = shift * _grake(X, ws, T, "logit", bounds, 1e-10, 200, rescale=False)
        except WeightingError:
            if j == 0:
                raise WeightingError(
                    f"raking with weights kept within [{lo:g}, {hi:g}] did not converge: no weights within these "
                    f"limits meet the margins {names}", code="weighting.bounded_not_converged",
                    params={"low": f"{lo:g}", "high": f"{hi:g}", "margins": names},
                    hint="widen the limits, merge sparse categories or drop a margin") from None
            return np.full_like(w, np.nan)  # this replicate is dropped from the variance
        if j == 0:
            first.append(g)
        return w * g
    weights, reps = _column_by_column(design, adjust, reuse)
    step = Step("greg", {"X": X, "old": design.weights.copy(), "g": first[0].copy()})
    return design.with_weights(weights, reps, step, Note("raked_bounded", {"margins": names, "low": f"{lo:g}",
                                                                         "high": f"{hi:g}"}))


def _within(weights: np.ndarray, reps: np.ndarray | None, limits: tuple[float, float], tol: float) -> bool:
    """Whether the weights and every finite replicate lie within the limits (a block of columns at a time)."""
    lo, hi = limits
    inside = (lambda W: bool(np.all(W >= lo * (1 - tol)) and np.all(W <= hi * (1 + tol))))
    if not inside(weights):
        return False
    if reps is None:
        return True
    finite = replicates_finite(reps)
    step = max(1, BLOCK_BYTES // (8 * max(len(weights), 1)))
    return all(inside(reps[:, first:first + step][:, finite[first:first + step]])
               for first in range(0, reps.shape[1], step))


# ------------------------------------------------------------------ trimming

def _trim_column(w: np.ndarray, lower: float, upper: float, strict: bool = True) -> np.ndarray:
    """One column of weights held within the limits, the trimmed mass spread evenly over the others."""
    if not np.all(np.isfinite(w)):
        return w
    for _ in range(100):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        new = np.clip(w, lower, upper)
        new[~outside] += (w - new).sum() / (~outside).sum()  # spread the trimmed mass evenly, as R does
        w = new
        if not strict:
            break
    return w


def trim(design: Design, lower: float = -np.inf, upper: float = np.inf, strict: bool = True) -> Design:
    """Hold weights within ``[lower, upper]``; the trimmed mass is spread evenly over the other weights.

    As R's ``trimWeights``; ``strict`` repeats until no weight is outside. The
    total of the weights is kept; margins may move, so rake again (or use
    ``rake(..., trim_limits=...)``) to meet them.
    """
    weights, reps = _column_by_column(design, lambda j, w: _trim_column(w, lower, upper, strict))
    moved = int(np.sum(weights != design.weights))
    return design.with_weights(weights, reps, None, Note("trimmed", {"low": f"{lower:g}", "high": f"{upper:g}",
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
              bounds: tuple[float, float] = (-np.inf, np.inf), tol: float = 1e-10, maxit: int = 100,
              reuse_replicates: bool = False) -> Design:
    """Calibrate to all margins at once.

    Parameters
    ----------
    calfun : {"linear", "raking", "logit"}
        ``linear`` is GREG (weights may go below zero without bounds);
        ``raking`` gives the raking weights; ``logit`` keeps the ratio of
        final to starting weight strictly within ``bounds``.
    bounds : (lower, upper)
        Limits on g = final / starting weight.
    reuse_replicates : bool
        The design given is not used again (as in :func:`~survey.weights.weigh`, which made it): its
        replicate matrix is overwritten with the new replicate weights and becomes the new design's, so
        one (n, R) matrix is alive instead of two (0.75 GiB less at a million responses and 200 float32
        replicates). Never for a design still in use: it would then hold the new replicate weights.

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
    for m in (m for m in margins.margins if not m.is_numeric):
        idx, pop = group_index(design, m)
        _check_cells(m, np.bincount(idx, weights=design.weights, minlength=len(pop))[:, None], pop)
    found: dict[str, object] = {"failed": 0}

    def adjust(j: int, w: np.ndarray) -> np.ndarray:
        if j == 0:
            g = _calibrate_column(X, w, T, calfun, bounds, tol, maxit)
            if calfun == "linear":
                _refuse_non_positive(w, g)
            found["g"] = g
            return w * g
        g = _replicate_column(X, w, T, calfun, bounds, tol, maxit)
        found["failed"] += int(np.all(np.isfinite(w)) and not np.all(np.isfinite(g)))
        return w * g
    weights, reps = _column_by_column(design, adjust, reuse_replicates)
    step = Step("greg", {"X": X, "old": design.weights.copy(), "g": found["g"].copy()})
    names = ", ".join(m.name for m in margins.margins)
    failed = found["failed"]
    note = (Note("calibrated_dropped", {"calfun": calfun, "margins": names, "dropped": failed}) if failed > 0
            else Note("calibrated", {"calfun": calfun, "margins": names}))
    return design.with_weights(weights, reps, step, note)


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
