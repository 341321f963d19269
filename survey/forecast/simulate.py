"""Joint simulation of every province's forecast: scores, ranks and probabilities.

Each draw takes one common national shift and one mean-reversion coefficient for
all provinces, then each province's own shock, so that ranks, which depend only on
differences between provinces, are not blurred by the uncertainty all provinces
share. A survey signal for one province is combined with that province's forecast
within each draw (given the common components), so it moves the province relative
to the others exactly as much as its precision allows.
"""
from __future__ import annotations

import numpy as np

from .models import ForecastInputs, _geometric, precision_weighted

__all__ = ["simulate", "ranks_of"]


def simulate(inputs: ForecastInputs, draws: int = 10_000, seed: int = 1,
             signal: tuple[int, float, float] | None = None) -> np.ndarray:
    """Draws (draws, provinces) of the measure in the forecast year.

    Parameters
    ----------
    signal : (province index, value on the official scale, its variance), optional
        The association's estimate for one province (the bridge).
    """
    rng = np.random.default_rng(seed)
    delta = rng.normal(inputs.shift, np.sqrt(inputs.shift_var), size=(draws, 1))
    rho = rng.normal(inputs.rho, np.sqrt(inputs.rho_var), size=(draws, 1)) if inputs.rho_var > 0 else inputs.rho
    gap = inputs.gap[None, :]
    mean = inputs.level + delta + np.power(rho, gap) * inputs.deviation[None, :]
    var = inputs.sigma2 * _geometric(inputs.rho, inputs.gap) + inputs.extra_var
    sd = np.sqrt(np.broadcast_to(var, mean.shape)).copy()
    if signal is not None:
        k, z, v = signal
        mean[:, k], combined_var, _ = precision_weighted(mean[:, k], var[k], z, v)
        sd[:, k] = np.sqrt(combined_var)
    return mean + rng.standard_normal(mean.shape) * sd


def ranks_of(values: np.ndarray, k: int) -> np.ndarray:
    """Rank (1 = highest score) of province k in each draw."""
    return 1 + np.sum(values > values[:, [k]], axis=1)
