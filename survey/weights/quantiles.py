"""Weighted quantiles with Woodruff intervals, as R's ``svyquantile`` (survey >= 4.1) by default.

The quantile is R's ``qrule="math"``: the smallest answer whose cumulative
weight share reaches ``p`` (the lower value when a share equals ``p`` exactly).
Its interval is Woodruff's (1952), R's ``interval.type="mean"``: the share
of answers at or below the estimate, with its design-based standard error
(linearised or from the replicates) and a t interval on the design's degrees
of freedom, mapped back through the same rule. The standard error is the
interval's width over ``2 t``, as R reports it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..lazy_import import lazy_module
from .design import Design, subset
from .estimate import _columns, _numeric, degrees_of_freedom, estimate_matrix, result_frame

stats = lazy_module("scipy.stats")  # imported when first used: start-up of commands that never need it

__all__ = ["quantile", "weighted_quantile"]


def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``qrule_math``: the answer at which the cumulative weight share first reaches ``p`` (with R's
    quirk: when the first answer's share alone exceeds ``p``, the second answer).

    Zero weights are ignored; NaN when p is outside [0, 1] or there is no weight.
    """
    keep = w != 0
    x, w = x[keep], w[keep]
    if not 0 <= p <= 1 or len(x) == 0:
        return np.nan
    order = np.argsort(x, kind="stable")
    # sums accumulated in extended precision, then rounded, as R's cumsum and sum: a share that is
    # exactly p (equal weights, an even count) is then found exactly, as R finds it
    long = np.cumsum(w[order].astype(np.longdouble))
    x, cum, total = x[order], long.astype(float), float(long[-1])
    below = np.flatnonzero(cum <= p * total)
    pos = below[-1] if len(below) else 0  # R's survey:::last gives the first when none is below
    exact = p - cum[pos] / total == 0
    return float(x[pos] if exact or pos == len(x) - 1 else x[pos + 1])


def quantile(design: Design, variable: str, quantiles: float | list[float] = 0.5, by: str | None = None,
             level: float = 0.95, min_n: int = 0) -> pd.DataFrame:
    """Weighted quantiles of a numeric variable with Woodruff intervals, as ``svyquantile(~x, design, p)``,
    overall or by domain (``svyby(~x, ~by, design, svyquantile, p)``: each domain a subset of the design).

    Missing answers are left out as a subset of the design (``na.rm=TRUE``).

    Returns
    -------
    DataFrame: [by], variable, quantile (p), then the result shape.
    """
    if by is None:
        return _quantiles(design, variable, quantiles, level, min_n)
    col = _columns(design, by)
    inset = design.weights != 0
    parts = [_quantiles(subset(design, (col == v).to_numpy()), variable, quantiles, level, min_n).assign(**{by: v})
             for v in sorted(col[inset].dropna().unique())]
    frame = pd.concat(parts, ignore_index=True)
    return frame[[by] + [c for c in frame.columns if c != by]]


def _quantiles(design: Design, variable: str, quantiles, level: float, min_n: int) -> pd.DataFrame:
    x = _numeric(design, variable)
    ok = ~np.isnan(x) & (design.weights != 0)
    d = subset(design, ok)
    x0 = np.where(ok, x, 0.0)
    w = d.weights
    df = degrees_of_freedom(d)
    t = stats.t.ppf(0.5 + level / 2, df)
    keys, est, lo, hi = [], [], [], []
    for p in np.atleast_1d(quantiles):
        q = weighted_quantile(x0, w, float(p))
        share, var = estimate_matrix(d, ((x0 <= q) & ok).astype(float)[:, None], ok.astype(float)[:, None])
        half = t * np.sqrt(var[0])
        low, high = share[0] - half, share[0] + half
        lo.append(np.nan if low < 0 else weighted_quantile(x0, w, low))
        hi.append(np.nan if high > 1 else weighted_quantile(x0, w, high))
        est.append(q)
        keys.append({"variable": variable, "quantile": float(p)})
    lo, hi = np.array(lo), np.array(hi)
    n = int(np.sum(ok & (w != 0)))
    return result_frame(keys, np.array(est), (hi - lo) / (2 * t), lo, hi, level, [n] * len(keys), min_n)
