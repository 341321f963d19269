"""Forecast the official PGI of a province: deviation from the national mean and rank first, then the level."""
from ..reference import national_means
from ..vocabulary import MEASURES, MERGER_YEAR, SCALE
from .engine import Draws, Signal, ranks_of, simulate_units, split_subindices
from .forecast import (
    MIN_BRIDGE_YEARS, MODELS, ForecastConfig, ForecastResult, forecast_province, resolve_province, round_probability,
)
from .panel import wide_panel
from .record import YearRecord, table_problems, wide_record, year_record
from .report import backtest_text, forecast_text, simulation_text
from .trust import backtest, realistic_panel, simulation_study

__all__ = ["ForecastConfig", "ForecastResult", "forecast_province", "resolve_province", "round_probability", "MODELS",
           "MIN_BRIDGE_YEARS", "MEASURES", "MERGER_YEAR", "SCALE", "national_means", "Draws", "Signal", "ranks_of",
           "simulate_units", "split_subindices", "YearRecord", "table_problems", "wide_record", "year_record",
           "wide_panel", "forecast_text", "backtest_text", "simulation_text", "backtest", "realistic_panel", "simulation_study"]
