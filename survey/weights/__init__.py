"""Survey weights: margins, the design object, calibration, replicates, estimators, diagnostics."""
from .calibrate import CALFUNS, calibrate, poststratify, rake, trim
from .design import Design, Step, make_design, steps_from_arrays, steps_to_arrays
from .diagnostics import Diagnostics, diagnose, format_diagnostics, margin_check, weight_summary
from .estimate import degrees_of_freedom, linearised_variance, mean, proportion, total
from .margins import (
    Category, Margin, PopulationMargins, default_margins_path, load_margins, margin_categories, prepare_margins,
)
from .notes import NOTE_CODES, Note, log_from_json, log_text, log_to_json, note_text
from .replicates import REPLICATE_TYPES, replicate_design, replicate_variance, with_replicates
from .weigh import METHODS, RakingConfig, WeightingResult, weigh

__all__ = [
    "Design", "Step", "make_design", "Category", "Margin", "PopulationMargins", "load_margins", "prepare_margins",
    "margin_categories", "default_margins_path", "poststratify", "rake", "calibrate", "trim", "CALFUNS",
    "replicate_design", "with_replicates", "replicate_variance", "REPLICATE_TYPES",
    "mean", "total", "proportion", "linearised_variance", "degrees_of_freedom",
    "weight_summary", "margin_check", "format_diagnostics", "Diagnostics", "diagnose",
    "steps_to_arrays", "steps_from_arrays", "Note", "NOTE_CODES", "note_text", "log_text", "log_to_json",
    "log_from_json", "RakingConfig", "weigh", "WeightingResult", "METHODS",
]
