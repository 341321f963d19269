"""The names the command line offers as choices, defined once here and imported by the modules that use
them, so that ``pgi-survey --help`` builds its menus without importing pandas, SciPy or the store."""
from __future__ import annotations

__all__ = ["FORECAST_MODELS", "INGEST_FORMATS", "EXPORT_FORMAT_NAMES", "LONELY_PSU", "REPLICATE_TYPES",
           "BOOTSTRAP_SCALES", "WEIGHTING_METHODS"]

#: the forecast's model of a province's deviation (see survey.forecast.forecast)
FORECAST_MODELS = ("mean_reversion", "persistence")
#: the export formats ingest reads (see survey.ingest.readers)
INGEST_FORMATS = ("kobo_csv", "csv", "sav", "xlsx")
#: what a questionnaire is exported as (see survey.questionnaire.EXPORT_FORMATS)
EXPORT_FORMAT_NAMES = ("xlsform", "sav", "codebook")
#: what a stratum with a single primary unit does (R's options(survey.lonely.psu))
LONELY_PSU = ("fail", "certainty", "remove", "adjust", "average")
#: replicate weights the weighting can build
REPLICATE_TYPES = ("JK1", "JKn", "bootstrap", "subbootstrap", "BRR")
#: bootstrap conventions: how the replicates are drawn and scaled
BOOTSTRAP_SCALES = ("rao-wu", "subbootstrap", "bootstrap")
#: how the weights are adjusted to the margins
WEIGHTING_METHODS = ("rake", "linear", "logit", "poststratify")
