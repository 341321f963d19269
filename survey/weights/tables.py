"""Weighted tables and the Rao-Scott test of association, as R's ``svytable``/``svytotal`` and ``svychisq``.

:func:`table` gives the weighted count of every cell (enterprises) with its
design-based standard error, in the one result shape. :func:`chisq` tests
the association of two answers with Pearson's X^2 on the weighted table
(scaled to the number of responses) corrected for the design by Rao & Scott
(1984): the design effect matrix Delta of the interaction contrasts gives
the F statistic X^2 / tr(Delta) on d0 = tr(Delta)^2 / tr(Delta^2) and d0 * nu
degrees of freedom (nu: the design's), R's default ``statistic="F"``; or
the first-order correction X^2 / mean(diag Delta) against chi^2 (``"Chisq"``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..lazy_import import lazy_module
from ..errors import EstimationError
from .design import Design
from .estimate import _columns, degrees_of_freedom, estimate_matrix, normal_ci, result_frame

stats = lazy_module("scipy.stats")  # imported when first used: start-up of commands that never need it

__all__ = ["table", "chisq", "CHISQ_STATISTICS"]

CHISQ_STATISTICS = ("F", "Chisq")


def _cells(design: Design, rows: str, cols: str) -> tuple[np.ndarray, list, list, np.ndarray]:
    """Cell indicators (n, nr * nc), the row fastest as R's ``interaction(rows, cols)``; levels; valid rows."""
    r, c = _columns(design, rows), _columns(design, cols)
    valid = (r.notna() & c.notna()).to_numpy() & (design.weights != 0)
    rl, cl = sorted(r[valid].unique()), sorted(c[valid].unique())
    if len(rl) < 2 or len(cl) < 2:
        raise EstimationError(f"'{rows}' and '{cols}' need at least two answers each for a table test",
                              code="estimation.table_levels", params={"rows": rows, "cols": cols})
    ri = pd.Categorical(r, categories=rl).codes
    ci = pd.Categorical(c, categories=cl).codes
    cell = np.where(valid, ri + len(rl) * ci, -1)
    mm = (cell[:, None] == np.arange(len(rl) * len(cl))[None, :]).astype(float)
    return mm, rl, cl, valid


def table(design: Design, rows: str, cols: str | None = None, level: float = 0.95, min_n: int = 0) -> pd.DataFrame:
    """Weighted count of each answer (or pair of answers) with its standard error (``svytotal`` of the cells).

    Returns
    -------
    DataFrame: rows[, cols], then the result shape; the estimates are R's ``svytable``.
    """
    if cols is None:
        col = _columns(design, rows)
        inset = design.weights != 0
        levels = sorted(col[inset].dropna().unique())
        mm = np.column_stack([((col == v).to_numpy() & inset).astype(float) for v in levels])
        keys = [{rows: v} for v in levels]
    else:
        mm, rl, cl, _ = _cells(design, rows, cols)
        keys = [{rows: r, cols: c} for c in cl for r in rl]
    est, var = estimate_matrix(design, mm)
    se = np.sqrt(var)
    return result_frame(keys, est, se, *normal_ci(est, se, level), level, mm.sum(axis=0).astype(int).tolist(), min_n)


def _pearson(tbl: np.ndarray) -> float:
    expected = np.outer(tbl.sum(axis=1), tbl.sum(axis=0)) / tbl.sum()
    return float(np.sum((tbl - expected) ** 2 / expected))


def _contrasts(nr: int, nc: int) -> np.ndarray:
    """Interaction contrasts of an nr x nc table, residualised on the main effects (R's ``Cmat``)."""
    grid_r, grid_c = np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)
    main = np.column_stack([np.ones(nr * nc)] + [(grid_r == i).astype(float) for i in range(1, nr)]
                           + [(grid_c == j).astype(float) for j in range(1, nc)])
    inter = np.column_stack([((grid_r == i) & (grid_c == j)).astype(float)
                             for j in range(1, nc) for i in range(1, nr)])
    return inter - main @ np.linalg.lstsq(main, inter, rcond=None)[0]


def chisq(design: Design, rows: str, cols: str, statistic: str = "F") -> pd.DataFrame:
    """Rao-Scott test of association between two answers, as R's ``svychisq(~rows + cols, design)``.

    Returns
    -------
    DataFrame, one row: statistic, ndf, ddf (NaN for ``Chisq``), p_value, method.

    Raises
    ------
    EstimationError
        Unknown ``statistic``, or fewer than two answers in either variable.
    """
    if statistic not in CHISQ_STATISTICS:
        raise EstimationError(f"unknown statistic {statistic!r}", code="estimation.unknown_chisq",
                              params={"statistic": str(statistic), "known": ", ".join(CHISQ_STATISTICS)})
    mm, rl, cl, valid = _cells(design, rows, cols)
    nr, nc = len(rl), len(cl)
    n = int(np.sum(design.weights != 0))
    p, V = estimate_matrix(design, mm, np.repeat(valid.astype(float)[:, None], nr * nc, axis=1), covariance=True)
    tbl = (design.weights @ mm).reshape(nc, nr).T
    x2 = _pearson(tbl * n / tbl.sum())
    C = _contrasts(nr, nc)
    inv = np.where(p == 0, 0.0, 1 / np.where(p == 0, 1.0, p))
    denom = C.T @ (C * inv[:, None]) / n
    numr = (C * inv[:, None]).T @ V @ (C * inv[:, None])
    delta = np.linalg.solve(denom, numr)
    trace = np.trace(delta)
    if statistic == "F":
        d0 = trace ** 2 / np.trace(delta @ delta)
        ddf = d0 * degrees_of_freedom(design)
        f = x2 / trace
        return pd.DataFrame([{"statistic": f, "ndf": d0, "ddf": ddf, "p_value": stats.f.sf(f, d0, ddf),
                              "method": "rao-scott-F"}])
    df = delta.shape[1]
    return pd.DataFrame([{"statistic": x2, "ndf": float(df), "ddf": np.nan,
                          "p_value": stats.chi2.sf(x2 / (trace / df), df), "method": "rao-scott-chisq"}])
