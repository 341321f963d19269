"""Weighted means, totals and proportions, with standard errors and confidence intervals.

Estimators take the design first, as R's ``svymean(design, ...)``. Which
variance applies is decided in one place (:func:`_variance`): replicate
weights when the design has them, else Taylor linearisation. For the
linearisation, the influence values are first adjusted for each calibration
step the design went through, exactly as R's ``svyrecvar`` does (residuals
on the calibration variables for GREG, post-stratum centring, and ten
passes of margin centring for raking), then the stratified one-stage
variance ``n_h/(n_h-1) * sum (z - mean z)^2`` is summed over strata.

Domains keep every row: outside the domain the influence is zero, so the
calibration's effect on the domain estimate is kept (Lumley 2010, 2.3).
Missing answers (NaN) are left out, as ``na.rm=TRUE``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from .design import Design, Step
from .replicates import replicate_variance

__all__ = ["mean", "total", "proportion", "linearised_variance", "degrees_of_freedom"]


# ------------------------------------------------------------------ linearisation

def _residualise(x: np.ndarray, step: Step) -> np.ndarray:
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


def _group_sums(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Column sums of x within each group 0..max(idx): (groups, p)."""
    sums = np.zeros((idx.max() + 1, x.shape[1]))
    np.add.at(sums, idx, x)
    return sums


def _group_means(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Each row's group mean of x (unweighted), as R's ``ave``."""
    return (_group_sums(x, idx) / np.bincount(idx)[:, None])[idx]


def linearised_variance(design: Design, influence: np.ndarray) -> np.ndarray:
    """Variance of estimates with these influence values (n, p), after the design's adjustments."""
    x = np.asarray(influence, dtype=float).reshape(design.n, -1)
    for step in design.steps:
        x = _residualise(x, step)
    strata = design.strata if design.strata is not None else np.zeros(design.n, dtype=int)
    var = np.zeros(x.shape[1])
    for s in pd.unique(strata):
        xs = x[strata == s]
        nh = len(xs)
        if nh > 1:
            var += nh / (nh - 1) * np.sum((xs - xs.mean(axis=0)) ** 2, axis=0)
    return var


def degrees_of_freedom(design: Design) -> int:
    """Design degrees of freedom: responses minus strata, or (replicates) rank of the replicate weights minus 1."""
    if design.repweights is not None:
        finite = design.repweights[:, np.all(np.isfinite(design.repweights), axis=0)]
        return max(int(np.linalg.matrix_rank(finite)) - 1, 1)
    strata = 1 if design.strata is None else len(pd.unique(design.strata))
    return max(design.n - strata, 1)


# ------------------------------------------------------------------ one variance engine

def _variance(design: Design, Y: np.ndarray, D: np.ndarray, ratio: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and variances of p ratios sum(w*Y)/sum(w*D) (or totals sum(w*Y))."""
    W = design.all_weights()
    num = W.T @ Y
    den = W.T @ D
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = num / den if ratio else num
    est = theta[0]
    if design.repweights is not None:
        return est, replicate_variance(design, theta[1:])
    w = design.weights[:, None]
    infl = w * (Y - D * est) / den[0] if ratio else w * Y
    return est, linearised_variance(design, infl)


def _columns(design: Design, variable: str) -> pd.Series:
    if variable not in design.data.columns:
        raise EstimationError(f"the responses have no variable '{variable}'", code="estimation.no_variable",
                              params={"variable": variable})
    return design.data[variable]


def _domains(design: Design, by: str | None) -> list[tuple[object, np.ndarray]]:
    if by is None:
        return [(None, np.ones(design.n, dtype=bool))]
    col = _columns(design, by)
    return [(value, (col == value).to_numpy()) for value in sorted(col.dropna().unique())]


def _frame(rows: list[dict], by: str | None) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if by is None:
        frame = frame.drop(columns=["domain"])
    else:
        frame = frame.rename(columns={"domain": by})
    return frame


def _normal_ci(est: np.ndarray, se: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + level / 2)
    return est - z * se, est + z * se


# ------------------------------------------------------------------ estimators

def mean(design: Design, variable: str, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Weighted mean of a numeric variable, overall or by domain.

    Returns
    -------
    DataFrame: [by], variable, estimate, se, ci_low, ci_high (normal, ``level``), n.

    Raises
    ------
    EstimationError
        Unknown variable, or a domain with no answer.
    """
    y = pd.to_numeric(_columns(design, variable), errors="coerce").to_numpy(dtype=float)
    doms = _domains(design, by)
    ok = ~np.isnan(y)
    D = np.column_stack([(d & ok).astype(float) for _, d in doms])
    Y = D * np.where(ok, y, 0.0)[:, None]
    if np.any(D.sum(axis=0) == 0):
        raise EstimationError(f"a domain of '{by}' has no answer to '{variable}'", code="estimation.empty_domain",
                              params={"by": by, "variable": variable})
    est, var = _variance(design, Y, D, ratio=True)
    se = np.sqrt(var)
    lo, hi = _normal_ci(est, se, level)
    rows = [{"domain": dom, "variable": variable, "estimate": est[i], "se": se[i], "ci_low": lo[i],
             "ci_high": hi[i], "n": int(D[:, i].sum())} for i, (dom, _) in enumerate(doms)]
    return _frame(rows, by)


def total(design: Design, variable: str, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Weighted total of a numeric variable (missing answers count as 0), overall or by domain."""
    y = pd.to_numeric(_columns(design, variable), errors="coerce").to_numpy(dtype=float)
    doms = _domains(design, by)
    ok = ~np.isnan(y)
    D = np.column_stack([d.astype(float) for _, d in doms])
    Y = D * np.where(ok, y, 0.0)[:, None]
    est, var = _variance(design, Y, D, ratio=False)
    se = np.sqrt(var)
    lo, hi = _normal_ci(est, se, level)
    rows = [{"domain": dom, "variable": variable, "estimate": est[i], "se": se[i], "ci_low": lo[i],
             "ci_high": hi[i], "n": int((D[:, i] * ok).sum())} for i, (dom, _) in enumerate(doms)]
    return _frame(rows, by)


def _prop_ci(p: np.ndarray, se: np.ndarray, level: float, df: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Intervals for proportions that stay within [0, 1].

    ``logit``: on the logit scale with a t quantile (design df), as R's
    ``svyciprop(method="logit")``; ``wilson``: Wilson's score interval with the
    effective sample size p(1-p)/se^2.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "logit":
            t = stats.t.ppf(0.5 + level / 2, df)
            half = t * se / (p * (1 - p))
            logit = np.log(p / (1 - p))
            lo, hi = 1 / (1 + np.exp(-(logit - half))), 1 / (1 + np.exp(-(logit + half)))
            lo, hi = np.where(p <= 0, 0.0, lo), np.where(p >= 1, 1.0, hi)
            return np.where(se == 0, p, lo), np.where(se == 0, p, hi)  # no variation: the estimate itself
        if method == "wilson":
            z = stats.norm.ppf(0.5 + level / 2)
            n_eff = np.where(se > 0, p * (1 - p) / se ** 2, np.inf)
            centre = (p + z ** 2 / (2 * n_eff)) / (1 + z ** 2 / n_eff)
            half = z / (1 + z ** 2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z ** 2 / (4 * n_eff ** 2))
            return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    raise EstimationError(f"unknown interval method {method!r}", code="estimation.unknown_interval",
                          params={"method": str(method)}, hint="logit or wilson")


def proportion(design: Design, variable: str, codes: list | None = None, by: str | None = None,
               level: float = 0.95, method: str = "logit", exclude: list | None = None) -> pd.DataFrame:
    """Weighted share of answers, overall or by domain.

    Parameters
    ----------
    codes : list, optional
        Share of answers in ``codes`` (one row per domain). Without it, the share
        of each answer value (one row per value and domain).
    exclude : list, optional
        Answers left out of the base, e.g. declared missing codes [98, 99].
    method : {"logit", "wilson"}
        Confidence interval; both stay within [0, 1].

    Returns
    -------
    DataFrame: [by], variable, level, estimate, se, ci_low, ci_high, n.
    """
    col = _columns(design, variable)
    valid = col.notna() & ~col.isin(exclude or [])
    doms = _domains(design, by)
    levels = [tuple(codes)] if codes is not None else sorted(col[valid].unique())
    rows, Ys, Ds, keys = [], [], [], []
    for dom, d in doms:
        base = (d & valid.to_numpy()).astype(float)
        if base.sum() == 0:
            raise EstimationError(f"no answer to '{variable}' in domain {dom!r} of '{by}'",
                                  code="estimation.no_answer_in_domain",
                                  params={"variable": variable, "domain": repr(dom), "by": by})
        for lev in levels:
            hit = col.isin(lev if isinstance(lev, tuple) else [lev]).to_numpy()
            Ys.append(base * hit)
            Ds.append(base)
            keys.append((dom, list(lev) if isinstance(lev, tuple) else lev, int(base.sum())))
    est, var = _variance(design, np.column_stack(Ys), np.column_stack(Ds), ratio=True)
    se = np.sqrt(var)
    lo, hi = _prop_ci(est, se, level, degrees_of_freedom(design), method)
    for i, (dom, lev, n) in enumerate(keys):
        rows.append({"domain": dom, "variable": variable, "level": lev, "estimate": est[i], "se": se[i],
                     "ci_low": lo[i], "ci_high": hi[i], "n": n})
    return _frame(rows, by)
