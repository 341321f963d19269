"""Weighted means, totals, proportions and ratios, with standard errors and confidence intervals.

Estimators take the design first, as R's ``svymean(design, ...)``, and any
number of variables at once: the estimates of every variable and domain come
from one matrix product ``W.T @ Y`` over the weight matrix W (n, 1 + R).
Which variance applies is decided in one place (:func:`estimate_matrix`):
replicate weights through :func:`~survey.weights.replicates.with_replicates`
when the design has them, else Taylor linearisation
(:func:`~survey.weights.variance.linearised_covariance`: calibration residuals,
then strata, clusters and the finite population correction as R's ``svyrecvar``).

Every estimator returns the one result shape (:data:`RESULT_COLUMNS`):
the keys of the row (domain, variable, answer), then ``estimate, se, ci_low,
ci_high, level, n, suppressed, reason`` (``level`` is the confidence level).

Domains keep every row: outside the domain the influence is zero, so the
calibration's effect on the domain estimate is kept (Lumley 2010, 2.3).
Missing answers (NaN) are left out, as ``na.rm=TRUE``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..lazy_import import lazy_module
from ..errors import EstimationError
from .design import BLOCK_BYTES, Design, replicates_finite, row_blocks
from .profile import likelihood_interval
from .replicates import with_replicates
from .variance import linearised_covariance, linearised_variance

__all__ = ["mean", "total", "proportion", "ratio", "linearised_variance", "degrees_of_freedom", "estimate_matrix",
           "result_frame", "RESULT_COLUMNS", "CI_METHODS"]

stats = lazy_module("scipy.stats")  # imported when first used: start-up of commands that never need it

#: the one result shape: after the keys of each row, these columns in this order
RESULT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "level", "n", "suppressed", "reason")

#: intervals for proportions, as R's ``svyciprop(method=...)``, and Wilson's
CI_METHODS = ("logit", "likelihood", "beta", "mean", "asin", "xlogit", "wilson")


def degrees_of_freedom(design: Design) -> int:
    """Design degrees of freedom, as R's ``degf``: primary units minus strata (among responses with a
    non-zero weight), or for replicate designs the rank of the replicate weights minus 1."""
    if design.repweights is not None:
        return max(_replicate_rank(design.repweights) - 1, 1)
    inset = design.weights != 0
    return max(len(np.unique(design.psu()[inset])) - len(np.unique(design.stratum()[inset])), 1)


def _replicate_rank(repweights: np.ndarray) -> int:
    """Rank of the finite replicate columns, as ``numpy.linalg.matrix_rank`` (tolerance: the largest singular
    value times max(n, R) times the machine epsilon of the stored dtype).

    A matrix larger than one block (:data:`~survey.weights.design.BLOCK_BYTES`) is reduced a block of rows
    at a time to the R factor of its QR decomposition (R x R, same singular values), so the whole matrix is
    never copied (a million rows: 200 x 200 instead of an SVD of 1M x 200).
    """
    finite = np.flatnonzero(replicates_finite(repweights))
    n, k = repweights.shape[0], len(finite)
    if k == 0:
        return 0
    if 8 * n * k <= BLOCK_BYTES:
        return int(np.linalg.matrix_rank(repweights[:, finite]))
    factor = np.zeros((0, k))
    for rows in row_blocks(n, k):
        factor = np.linalg.qr(np.vstack([factor, repweights[rows][:, finite].astype(float)]), mode="r")
    values = np.linalg.svd(factor, compute_uv=False)
    return int(np.sum(values > values.max() * max(n, k) * np.finfo(repweights.dtype).eps))


# ------------------------------------------------------------------ one variance engine

def estimate_matrix(design: Design, Y: np.ndarray, D: np.ndarray | None = None,
                    covariance: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Estimates of p totals sum(w Y) (``D`` None) or ratios sum(w Y)/sum(w D), and their variances.

    Y and D are (n, p): every variable and domain in one matrix product. Returns the
    estimates (p,) and the variances (p,), or the covariance (p, p) when ``covariance``.
    """
    if design.repweights is not None:
        def statistic(W: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (W.T @ Y) / (W.T @ D) if D is not None else W.T @ Y
        res = with_replicates(design, statistic, covariance=covariance)
        return res.estimate, res.covariance if covariance else res.variance
    w = design.weights
    num = w @ Y
    if D is None:
        est, infl = num, w[:, None] * Y
    else:
        den = w @ D
        with np.errstate(divide="ignore", invalid="ignore"):
            est = num / den
            infl = w[:, None] * (Y - D * est) / den
    cov = linearised_covariance(design, infl)
    return est, cov if covariance else np.diag(cov).copy()


def _columns(design: Design, variable: str) -> pd.Series:
    if variable not in design.data.columns:
        raise EstimationError(f"the responses have no variable '{variable}'", code="estimation.no_variable",
                              params={"variable": variable})
    return design.data[variable]


def _domains(design: Design, by: str | None) -> list[tuple[object, np.ndarray]]:
    """Each domain's rows among the responses in the design (weight not 0: outside a ``subset``, rows stay
    in the design for the variance but count in no domain)."""
    inset = design.weights != 0
    if by is None:
        return [(None, inset)]
    col = _columns(design, by)
    return [(value, (col == value).to_numpy() & inset) for value in sorted(col[inset].dropna().unique())]


def _names(variables: str | list[str] | tuple[str, ...]) -> list[str]:
    return [variables] if isinstance(variables, str) else list(variables)


def normal_ci(est: np.ndarray, se: np.ndarray, level: float, df: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric interval est -/+ q se, q the normal (or t with ``df``) quantile, as R's ``confint``."""
    q = stats.norm.ppf(0.5 + level / 2) if not np.isfinite(df) else stats.t.ppf(0.5 + level / 2, df)
    return est - q * se, est + q * se


def result_frame(keys: list[dict], est: np.ndarray, se: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 level: float, n: list[int], min_n: int = 0) -> pd.DataFrame:
    """The one result shape: the keys of each row, then :data:`RESULT_COLUMNS`.

    A row with fewer than ``min_n`` responses in its base is ``suppressed`` (reason ``min_n``); its
    numbers are kept for the analyst, and reports do not show them.
    """
    frame = pd.DataFrame(keys)
    few = np.asarray(n) < min_n
    values = pd.DataFrame({"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "level": float(level),
                           "n": np.asarray(n, dtype=int), "suppressed": few,
                           "reason": pd.Series(["min_n" if f else None for f in few], dtype=object)})
    return pd.concat([frame.reset_index(drop=True), values], axis=1)


def _keys(by: str | None, dom, **more) -> dict:
    return ({} if by is None else {by: dom}) | more


# ------------------------------------------------------------------ estimators

def _numeric(design: Design, variable: str) -> np.ndarray:
    return pd.to_numeric(_columns(design, variable), errors="coerce").to_numpy(dtype=float)


def mean(design: Design, variables: str | list[str], by: str | None = None, level: float = 0.95,
         min_n: int = 0) -> pd.DataFrame:
    """Weighted means of numeric variables, overall or by domain, all in one matrix product (R's ``svymean``).

    Returns
    -------
    DataFrame: [by], variable, then the result shape (normal interval at ``level``, as R's ``confint``).

    Raises
    ------
    EstimationError
        Unknown variable, or a domain with no answer.
    """
    doms, keys, Ys, Ds = _domains(design, by), [], [], []
    for variable in _names(variables):
        y = _numeric(design, variable)
        ok = ~np.isnan(y)
        for dom, d in doms:
            base = (d & ok).astype(float)
            if base.sum() == 0:
                raise EstimationError(f"a domain of '{by}' has no answer to '{variable}'",
                                      code="estimation.empty_domain", params={"by": by, "variable": variable})
            Ys.append(base * np.where(ok, y, 0.0))
            Ds.append(base)
            keys.append(_keys(by, dom, variable=variable))
    est, var = estimate_matrix(design, np.column_stack(Ys), np.column_stack(Ds))
    se = np.sqrt(var)
    return result_frame(keys, est, se, *normal_ci(est, se, level), level, [int(np.sum(d > 0)) for d in Ds], min_n)


def total(design: Design, variables: str | list[str], by: str | None = None, level: float = 0.95,
          min_n: int = 0) -> pd.DataFrame:
    """Weighted totals of numeric variables (missing answers count as 0), overall or by domain (``svytotal``)."""
    doms, keys, Ys, ns = _domains(design, by), [], [], []
    for variable in _names(variables):
        y = _numeric(design, variable)
        ok = ~np.isnan(y)
        for dom, d in doms:
            Ys.append(d * np.where(ok, y, 0.0))
            ns.append(int(np.sum(d & ok)))
            keys.append(_keys(by, dom, variable=variable))
    est, var = estimate_matrix(design, np.column_stack(Ys))
    se = np.sqrt(var)
    return result_frame(keys, est, se, *normal_ci(est, se, level), level, ns, min_n)


def ratio(design: Design, numerator: str, denominator: str, by: str | None = None, level: float = 0.95,
          min_n: int = 0) -> pd.DataFrame:
    """Ratio of two weighted totals, sum(w y) / sum(w x), overall or by domain, as R's ``svyratio``.

    Rows missing either variable are left out of both totals (``na.rm=TRUE``).
    """
    y, x = _numeric(design, numerator), _numeric(design, denominator)
    ok = ~np.isnan(y) & ~np.isnan(x)
    keys, Ys, Ds = [], [], []
    for dom, d in _domains(design, by):
        base = (d & ok).astype(float)
        Ys.append(base * np.where(ok, y, 0.0))
        Ds.append(base * np.where(ok, x, 0.0))
        keys.append(_keys(by, dom, numerator=numerator, denominator=denominator))
    est, var = estimate_matrix(design, np.column_stack(Ys), np.column_stack(Ds))
    se = np.sqrt(var)
    return result_frame(keys, est, se, *normal_ci(est, se, level), level,
                        [int(np.sum(d != 0)) for d in Ds], min_n)


def _prop_ci(design: Design, p: np.ndarray, se: np.ndarray, logit_se: np.ndarray, level: float, df: int,
             method: str) -> tuple[np.ndarray, np.ndarray]:
    """Intervals for proportions as R's ``svyciprop``; ``wilson``: Wilson's score interval with n_eff = p(1-p)/se^2.

    ``likelihood`` (in :func:`_likelihood`): R's profile-likelihood interval;
    ``logit``: logit(p) -/+ t_df * se(logit p), back-transformed (R: ``svyglm(y ~ 1, quasibinomial)`` and a
    Wald interval; on a replicate design se(logit p) comes from the replicates of logit(p));
    ``beta``: Korn & Graubard's beta interval with the effective sample size p(1-p)/se^2 scaled by
    (t_{n-1} / t_df)^2; ``mean``: p -/+ t_df * se; ``asin`` and ``xlogit``: the interval of
    asin(sqrt(p)) or logit(p) by the delta method (R's ``svycontrast``, also on replicate designs), mapped back.
    """
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "logit":
            t = stats.t.ppf(1 - alpha / 2, df)
            logit = np.log(p / (1 - p))
            lo, hi = 1 / (1 + np.exp(-(logit - t * logit_se))), 1 / (1 + np.exp(-(logit + t * logit_se)))
            lo, hi = np.where(p <= 0, 0.0, lo), np.where(p >= 1, 1.0, hi)
            return np.where(se == 0, p, lo), np.where(se == 0, p, hi)  # no variation: the estimate itself
        if method == "beta":
            n_eff = p * (1 - p) / se ** 2 * (stats.t.ppf(alpha / 2, design.n - 1) / stats.t.ppf(alpha / 2, df)) ** 2
            return (stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1),
                    stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
        if method == "mean":
            return normal_ci(p, se, level, df)
        if method in ("asin", "xlogit"):  # svycontrast of the mean: the delta method on every design
            t = stats.t.ppf(1 - alpha / 2, df)
            if method == "asin":
                a, half = np.arcsin(np.sqrt(p)), t * se / (2 * np.sqrt(p * (1 - p)))
                return np.sin(a - half) ** 2, np.sin(a + half) ** 2
            logit, half = np.log(p / (1 - p)), t * se / (p * (1 - p))
            return 1 / (1 + np.exp(-(logit - half))), 1 / (1 + np.exp(-(logit + half)))
        if method == "wilson":
            z = stats.norm.ppf(0.5 + level / 2)
            n_eff = np.where(se > 0, p * (1 - p) / se ** 2, np.inf)
            centre = (p + z ** 2 / (2 * n_eff)) / (1 + z ** 2 / n_eff)
            half = z / (1 + z ** 2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z ** 2 / (4 * n_eff ** 2))
            return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    raise EstimationError(f"unknown interval method {method!r}", code="estimation.unknown_interval",
                          params={"method": str(method)}, hint=", ".join(CI_METHODS))


def _logit_se(design: Design, Y: np.ndarray, D: np.ndarray, p: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Standard error of logit(p): from the replicates of logit(p) on a replicate design (as R's svyglm
    refitted on every replicate), else by the delta method se(p) / (p (1 - p)) (svyglm's sandwich)."""
    if design.repweights is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(var) / (p * (1 - p))

    def statistic(W: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            q = (W.T @ Y) / (W.T @ D)
            return np.log(q / (1 - q))
    return np.sqrt(with_replicates(design, statistic).variance)


def _likelihood(design: Design, Y: np.ndarray, D: np.ndarray, p: np.ndarray, var: np.ndarray,
                level: float) -> tuple[np.ndarray, np.ndarray]:
    """R's ``svyciprop(method="likelihood")`` for each column (:mod:`survey.weights.profile`)."""
    if design.repweights is not None:
        raise EstimationError("the likelihood interval needs a linearised design (R gives none on replicate "
                              "weights)", code="estimation.likelihood_replicates", hint="use method logit or beta")
    df = degrees_of_freedom(design)
    ends = []
    for j in range(Y.shape[1]):
        if not 0 < p[j] < 1 or var[j] <= 0:
            ends.append((p[j], p[j]))
            continue
        y = np.divide(Y[:, j], D[:, j], out=np.zeros(design.n), where=D[:, j] != 0)
        ends.append(likelihood_interval(y, design.weights * D[:, j], p[j], var[j] / (p[j] * (1 - p[j])) ** 2,
                                        level, df))
    return np.array([e[0] for e in ends]), np.array([e[1] for e in ends])


def proportion(design: Design, variable: str, codes: list | None = None, by: str | None = None,
               level: float = 0.95, method: str = "logit", exclude: list | None = None,
               min_n: int = 0) -> pd.DataFrame:
    """Weighted share of answers, overall or by domain, with intervals as R's ``svyciprop``.

    Parameters
    ----------
    codes : list, optional
        Share of answers in ``codes`` (one row per domain). Without it, the share
        of each answer value (one row per value and domain).
    exclude : list, optional
        Answers left out of the base, e.g. declared missing codes [98, 99].
    method : one of :data:`CI_METHODS`
        ``logit``, ``likelihood``, ``beta``, ``mean``, ``asin`` and ``xlogit`` as ``svyciprop(method=...)`` (t quantiles
        on the design's degrees of freedom; ``likelihood`` on linearised designs only, as R);
        ``wilson``: Wilson's score interval.

    Returns
    -------
    DataFrame: [by], variable, answer (the code or list of codes), then the result shape.
    """
    if method not in CI_METHODS:
        _prop_ci(design, np.zeros(0), np.zeros(0), np.zeros(0), level, 1, method)  # raises, naming the methods
    col = _columns(design, variable)
    valid = col.notna() & ~col.isin(exclude or [])
    answers = [tuple(codes)] if codes is not None else sorted(col[valid].unique())
    Ys, Ds, keys, ns = [], [], [], []
    for dom, d in _domains(design, by):
        base = (d & valid.to_numpy()).astype(float)
        if base.sum() == 0:
            raise EstimationError(f"no answer to '{variable}' in domain {dom!r} of '{by}'",
                                  code="estimation.no_answer_in_domain",
                                  params={"variable": variable, "domain": repr(dom), "by": by})
        for ans in answers:
            Ys.append(base * col.isin(ans if isinstance(ans, tuple) else [ans]).to_numpy())
            Ds.append(base)
            keys.append(_keys(by, dom, variable=variable, answer=list(ans) if isinstance(ans, tuple) else ans))
            ns.append(int(base.sum()))
    Y, D = np.column_stack(Ys), np.column_stack(Ds)
    est, var = estimate_matrix(design, Y, D)
    se = np.sqrt(var)
    if method == "likelihood":
        lo, hi = _likelihood(design, Y, D, est, var, level)
    else:
        logit_se = _logit_se(design, Y, D, est, var) if method == "logit" else se
        lo, hi = _prop_ci(design, est, se, logit_se, level, degrees_of_freedom(design), method)
    return result_frame(keys, est, se, lo, hi, level, ns, min_n)
