"""Forecast the province's official PGI score and rank, with predictive intervals and honest backtests."""
from ..reference import national_means
from ..vocabulary import MEASURES, MERGER_YEAR, SCALE
from .forecast import ForecastConfig, ForecastResult, forecast_province, resolve_province
from .models import MODELS, Bridge, ForecastInputs, MeanReversion, Persistence
from .panel import to_units, wide_panel
from .report import forecast_text
from .simulate import ranks_of, simulate
from .trust import backtest, simulate_panel, simulation_study

__all__ = ["ForecastConfig", "ForecastResult", "forecast_province", "resolve_province", "MODELS", "Bridge",
           "ForecastInputs", "MeanReversion", "Persistence", "MEASURES", "MERGER_YEAR", "SCALE", "national_means",
           "to_units", "wide_panel", "ranks_of", "simulate", "backtest", "simulate_panel", "simulation_study",
           "forecast_text"]
