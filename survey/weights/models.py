"""Regression on a design (linear and logistic), as R's ``svyglm``: statsmodels fits, design-based errors.

The coefficients are the weighted maximum (quasi-)likelihood estimates, fitted
by statsmodels' GLM with the analysis weights. Their covariance is
design-based: on a linearised design the sandwich ``A^-1 U' U A^-1``, where
the influence of response i is ``w_i x_i (y_i - mu_i)`` times ``A^-1``
(A: the weighted information ``X' W mu'(eta) X``), passed through the design's
calibration steps, strata, clusters and fpc (R's ``svy.varcoef``); on a
replicate design the model is refitted with every replicate's weights through
:func:`~survey.weights.replicates.with_replicates`. Intervals are Wald with a
t quantile on the design's degrees of freedom minus the coefficients plus one
(R's ``df.residual``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..lazy_import import lazy_module
from ..errors import EstimationError
from .design import Design
from .estimate import _numeric, degrees_of_freedom, result_frame
from .replicates import with_replicates
from .variance import linearised_covariance

stats = lazy_module("scipy.stats")  # imported when first used: start-up of commands that never need it
sm = lazy_module("statsmodels.api")

__all__ = ["glm", "FAMILIES"]

#: model families: linear (Gaussian, identity link) and logistic (binomial, logit link)
FAMILIES = ("gaussian", "binomial")


def _model_matrix(design: Design, predictors: list[str], rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Intercept, numeric predictors as they are, text predictors as indicators of every level but the first."""
    cols, names = [np.ones(design.n)], ["(Intercept)"]
    for name in predictors:
        values = design.data[name] if name in design.data.columns else None
        if values is None:
            _numeric(design, name)  # raises the unknown-variable error
        if pd.api.types.is_numeric_dtype(values):
            cols.append(values.to_numpy(dtype=float))
            names.append(name)
        else:
            for level in sorted(values[rows].dropna().unique())[1:]:
                cols.append((values == level).to_numpy(dtype=float))
                names.append(f"{name}{level}")
    return np.column_stack(cols), names


def _fit(y: np.ndarray, X: np.ndarray, w: np.ndarray, family: str) -> np.ndarray:
    fam = sm.families.Gaussian() if family == "gaussian" else sm.families.Binomial()
    keep = w > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-integer binomial weights: the quasi-likelihood is meant
        return sm.GLM(y[keep], X[keep], family=fam, var_weights=w[keep]).fit(tol=1e-12).params


def glm(design: Design, response: str, predictors: list[str], family: str = "gaussian",
        level: float = 0.95) -> pd.DataFrame:
    """Fit ``response ~ predictors`` on the design, as ``svyglm(y ~ x1 + x2, design, family=...)``.

    Parameters
    ----------
    family : {"gaussian", "binomial"}
        Linear regression, or logistic regression of a 0/1 answer (R's ``quasibinomial``).

    Returns
    -------
    DataFrame: term, then the result shape (``n``: responses used).

    Raises
    ------
    EstimationError
        Unknown family or variable.
    """
    if family not in FAMILIES:
        raise EstimationError(f"unknown model family {family!r}", code="estimation.unknown_family",
                              params={"family": str(family), "known": ", ".join(FAMILIES)})
    y = _numeric(design, response)
    rows = ~np.isnan(y) & (design.weights != 0)
    X, names = _model_matrix(design, list(predictors), rows)
    rows &= np.all(np.isfinite(X), axis=1)
    y0, X0 = np.where(rows, y, 0.0), np.where(rows[:, None], X, 0.0)
    w = design.weights * rows
    if design.repweights is not None:
        res = with_replicates(design, lambda W: np.array([_fit(y0, X0, W[:, j] * rows, family)
                                                          for j in range(W.shape[1])]))
        beta, var = res.estimate, res.variance
    else:
        beta = _fit(y0, X0, w, family)
        eta = X0 @ beta
        mu = eta if family == "gaussian" else 1 / (1 + np.exp(-eta))
        dmu = np.ones_like(mu) if family == "gaussian" else mu * (1 - mu)
        A = (X0 * (w * dmu)[:, None]).T @ X0
        influence = (X0 * (w * (y0 - mu))[:, None]) @ np.linalg.inv(A)
        var = np.diag(linearised_covariance(design, influence))
    se = np.sqrt(var)
    df = max(degrees_of_freedom(design) - len(beta) + 1, 1)
    q = stats.t.ppf(0.5 + level / 2, df)
    return result_frame([{"term": t} for t in names], beta, se, beta - q * se, beta + q * se, level,
                        [int(rows.sum())] * len(names))
