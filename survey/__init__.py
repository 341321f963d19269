"""pgi-survey: firm surveys for the Provincial Green Index (PGI).

The data flow, one module each: ``questionnaire`` -> ingest -> store ->
weights -> scoring -> forecast -> reports.
"""
from .errors import SurveyError

__version__ = "0.1.0"
__all__ = ["SurveyError", "__version__"]
