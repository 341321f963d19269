"""Survey weights: margins, the design object, calibration, replicates, estimators, diagnostics."""
from .calibrate import CALFUNS, calibrate, poststratify, rake, trim
from .design import LONELY_PSU, Design, Step, make_design, steps_from_arrays, steps_to_arrays, subset
from .diagnostics import Diagnostics, diagnose, format_diagnostics, margin_check, weight_summary
from .estimate import (
    CI_METHODS, RESULT_COLUMNS, degrees_of_freedom, estimate_matrix, mean, proportion, ratio, result_frame, total,
)
from .margins import (
    Category, Margin, PopulationMargins, default_margins_path, load_margins, margin_categories, prepare_margins,
)
from .notes import NOTE_CODES, Note, log_from_json, log_text, log_to_json, note_text
from .replicates import (
    BOOTSTRAP_SCALES, REPLICATE_TYPES, ReplicateResult, hadamard, replicate_covariance, replicate_design,
    replicate_variance, with_replicates,
)
from .variance import linearised_covariance, linearised_variance
from .quantiles import quantile, weighted_quantile
from .tables import CHISQ_STATISTICS, chisq, table
from .models import FAMILIES, glm
from .weigh import METHODS, RakingConfig, WeightingResult, weigh

__all__ = [
    "Design", "Step", "make_design", "Category", "Margin", "PopulationMargins", "load_margins", "prepare_margins",
    "margin_categories", "default_margins_path", "poststratify", "rake", "calibrate", "trim", "CALFUNS",
    "replicate_design", "with_replicates", "replicate_variance", "replicate_covariance", "ReplicateResult",
    "REPLICATE_TYPES", "BOOTSTRAP_SCALES", "hadamard", "LONELY_PSU",
    "mean", "total", "proportion", "ratio", "linearised_variance", "linearised_covariance", "degrees_of_freedom",
    "estimate_matrix", "result_frame", "RESULT_COLUMNS", "CI_METHODS", "subset", "quantile", "weighted_quantile",
    "table", "chisq", "CHISQ_STATISTICS", "glm", "FAMILIES",
    "weight_summary", "margin_check", "format_diagnostics", "Diagnostics", "diagnose",
    "steps_to_arrays", "steps_from_arrays", "Note", "NOTE_CODES", "note_text", "log_text", "log_to_json",
    "log_from_json", "RakingConfig", "weigh", "WeightingResult", "METHODS",
]
