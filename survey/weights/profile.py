"""The likelihood interval of a proportion, as R's ``svyciprop(method="likelihood")``.

R fits ``svyglm(y ~ 1, design, family=quasibinomial)`` and profiles its
deviance: the intercept (logit p) is moved in steps of ``zmax/5`` standard
errors until the signed root ``z = sign * sqrt((D(b) - D(b0)) / phi)`` passes
``zmax`` (phi: the design-based variance of the Pearson residuals), a cubic
spline (Forsythe, Malcolm & Moler, R's ``spline(method="fmm")``) is put
through the points, and the interval is where it crosses the normal quantile
of level ``2 alpha``, ``alpha = Phi(t_{df, (1 - level)/2} sqrt(lambda)) / 2``
with lambda the design effect of the intercept (Rao & Scott). Following R
step by step (the same grid and spline) gives R's interval, not only a close one.
"""
from __future__ import annotations

import numpy as np

from ..lazy_import import lazy_module

stats = lazy_module("scipy.stats")  # imported when first used: start-up of commands that never need it

__all__ = ["likelihood_interval", "fmm_spline"]


def fmm_spline(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``spline(x, y, method="fmm")`` evaluated at ``xout`` (x sorted, distinct): the interpolating cubic
    spline whose end third derivatives match the cubics through the first and last four points."""
    n = len(x)
    if n < 3:
        return np.interp(xout, x, y)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, n - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0], b[n - 1] = -d[0], -d[n - 2]
    c[0] = c[n - 1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):  # Gaussian elimination of the tridiagonal system
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[n - 1] /= b[n - 1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2 * c[n - 1])
    for i in range(n - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3 * c[i]
    c[n - 1] *= 3
    d[n - 1] = d[n - 2]
    i = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, n - 1)
    dx = xout - x[i]
    return y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def _approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout)``: linear, ties averaged, NaN outside the range."""
    ux, inverse = np.unique(x, return_inverse=True)
    uy = np.bincount(inverse, weights=y) / np.bincount(inverse)
    return np.interp(xout, ux, uy, left=np.nan, right=np.nan)


def _glm_intercept(y: np.ndarray, wt: np.ndarray) -> tuple[float, float]:
    """R's ``glm.fit`` for ``y ~ 1``, binomial: the intercept and the sum of the working weights of its last
    iteration (taken, as R does, before the final update: its model-based variance is their inverse)."""
    mu = (wt * y + 0.5) / (wt + 1)  # binomial()$initialize
    eta = np.log(mu / (1 - mu))

    def deviance(m: np.ndarray) -> float:
        return float(-2 * np.sum(wt * (y * np.log(m) + (1 - y) * np.log1p(-m))))

    dev_old = deviance(mu)
    for _ in range(25):
        working = wt * mu * (1 - mu)
        z = eta + (y - mu) / (mu * (1 - mu))
        coef = float(np.sum(working * z) / working.sum())
        eta = np.full_like(y, coef)
        mu = 1 / (1 + np.exp(-eta))
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            break
        dev_old = dev
    return coef, float(working.sum())


def likelihood_interval(y: np.ndarray, w: np.ndarray, p: float, var_logit: float, level: float,
                        df: float) -> tuple[float, float]:
    """Interval for a proportion ``p`` of the 0/1 answers ``y`` with weights ``w`` (0 outside the base).

    ``var_logit``: the design-based variance of logit(p) (svyglm's); ``df``: the design's degrees of freedom.
    """
    keep = w != 0
    y, w = y[keep], w[keep]
    n = len(y)
    wt = w / w.mean()  # svyglm's rescaled prior weights
    b0, information = _glm_intercept(y, wt)
    se = np.sqrt(var_logit)

    def deviance(b: float) -> float:
        mu = 1 / (1 + np.exp(-b))
        return float(-2 * np.sum(wt * (y * np.log(mu) + (1 - y) * np.log1p(-mu))))

    mu = 1 / (1 + np.exp(-b0))
    r = (y - mu) / np.sqrt(mu * (1 - mu))  # Pearson residuals as residuals.svyglm (the weights cancel)
    rbar = np.sum(w * r) / w.sum()
    phi = np.sum(w * (r - rbar) ** 2) / w.sum() * n / (n - 1)  # svyvar of the residuals
    lam = var_logit * information  # design-based over model-based (naive) variance
    alpha = stats.norm.cdf(stats.t.ppf((1 - level) / 2, df) * np.sqrt(lam)) / 2
    zmax = np.sqrt(stats.f.isf(alpha, 1, n - 1))
    step_size = zmax / 5
    dev0 = deviance(b0)
    zs, bs = [0.0], [b0]
    for sign in (-1, 1):
        z, step = 0.0, 1
        while step < 10 and abs(z) < zmax:
            b = b0 + sign * step * step_size * se
            z = sign * np.sqrt(max((deviance(b) - dev0) / phi, 0.0))
            zs.append(z)
            bs.append(b)
            step += 1
    order = np.argsort(bs)
    bx, zy = np.asarray(bs)[order], np.asarray(zs)[order]
    grid = np.linspace(bx[0], bx[-1], 3 * len(bx))
    curve = fmm_spline(bx, zy, grid)
    cut = stats.norm.ppf(2 * alpha)
    lo, hi = _approx(curve, grid, np.array([cut, -cut]))
    return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))
