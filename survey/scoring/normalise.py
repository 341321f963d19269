"""Put indicator values on the PGI's 10-point scale.

- :class:`Goalposts` (default): the indicator's theoretical range [low, high]
  maps to 0-10, values outside are held at the ends.
- :class:`MinMax`: the PCI's rescaling against a benchmark set,
  ``1 + 9 (x - min) / (max - min)`` with min and max learned by ``fit``.
- :class:`DistanceToTarget`: the worse goalpost maps to 0 and the target to 10.

Negative indicators (lower is better) are reversed. As in scikit-learn,
``fit`` learns (attributes ending in ``_``) and ``transform`` applies; a
normaliser used before ``fit`` raises :class:`~survey.errors.EstimationError`.
"""
from __future__ import annotations

import numpy as np

from ..errors import EstimationError
from ..questionnaire import Indicator

__all__ = ["Goalposts", "MinMax", "DistanceToTarget", "normaliser_for"]


class _Normaliser:
    direction: str

    def _check(self, *names: str) -> None:
        if any(not hasattr(self, n) for n in names):
            raise EstimationError(f"{type(self).__name__} is not fitted yet: call fit() first",
                                  code="estimation.not_fitted", params={"name": type(self).__name__})


class Goalposts(_Normaliser):
    """0-10 between goalposts ``low`` and ``high`` (in the indicator's unit)."""

    def __init__(self, low: float, high: float, direction: str = "positive") -> None:
        self.low, self.high, self.direction = low, high, direction

    def fit(self, values=None) -> "Goalposts":
        if self.low == self.high:
            raise EstimationError("goalposts must differ", code="estimation.goalposts_equal")
        self.low_, self.high_ = float(self.low), float(self.high)
        return self

    def transform(self, x):
        self._check("low_", "high_")
        s = np.clip(10.0 * (np.asarray(x, dtype=float) - self.low_) / (self.high_ - self.low_), 0.0, 10.0)
        return 10.0 - s if self.direction == "negative" else s


class MinMax(_Normaliser):
    """The PCI's 1-10 rescaling: ``1 + 9 (x - min) / (max - min)`` over a benchmark set."""

    def __init__(self, direction: str = "positive") -> None:
        self.direction = direction

    def fit(self, values) -> "MinMax":
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size < 2 or v.min() == v.max():
            raise EstimationError("min-max rescaling needs a benchmark set of at least two different values",
                                  code="estimation.minmax_benchmark",
                                  hint="score by a domain or by period, or use goalposts")
        self.min_, self.max_ = float(v.min()), float(v.max())
        return self

    def transform(self, x):
        self._check("min_", "max_")
        s = 1.0 + 9.0 * (np.asarray(x, dtype=float) - self.min_) / (self.max_ - self.min_)
        return 11.0 - s if self.direction == "negative" else s


class DistanceToTarget(_Normaliser):
    """0 at the worse goalpost, 10 at the target (and beyond)."""

    def __init__(self, low: float, high: float, target: float, direction: str = "positive") -> None:
        self.low, self.high, self.target, self.direction = low, high, target, direction

    def fit(self, values=None) -> "DistanceToTarget":
        self.worst_ = float(self.low if self.direction == "positive" else self.high)
        if self.target == self.worst_:
            raise EstimationError("the target equals the worse goalpost", code="estimation.target_at_goalpost")
        return self

    def transform(self, x):
        self._check("worst_")
        return np.clip(10.0 * (np.asarray(x, dtype=float) - self.worst_) / (self.target - self.worst_), 0.0, 10.0)


def normaliser_for(indicator: Indicator, method: str | None = None,
                   goalposts: tuple[float, float] | None = None):
    """The normaliser declared for an indicator (or ``method``/``goalposts`` instead), unfitted."""
    method = method or indicator.normalisation
    low, high = goalposts or indicator.goalposts
    if method == "goalposts":
        return Goalposts(low, high, indicator.direction)
    if method == "minmax":
        return MinMax(indicator.direction)
    if method == "target":
        if indicator.target is None:
            raise EstimationError(f"indicator '{indicator.id}' has no target for distance-to-target scoring",
                                  code="estimation.no_target", params={"indicator": indicator.id})
        return DistanceToTarget(low, high, indicator.target, indicator.direction)
    raise EstimationError(f"unknown normalisation {method!r}", code="estimation.unknown_normalisation",
                          params={"method": str(method)})
