"""PGI-style scoring: indicators -> 10-point sub-indices -> total /40, with uncertainty, targets and the official record."""
from ..reference import Targets, last_official, load_targets, match_province, official_panel, province_key, targets_for
from ..vocabulary import MEASURES, MERGER_YEAR, SCALE
from .normalise import DistanceToTarget, Goalposts, MinMax, normaliser_for
from .official import OfficialError, read_official_table
from .run import association_estimates, official_record, summary_text
from .score import SENSITIVITY_FACTORS, ScoreResult, ScoringConfig, complementary_suppression, indicator_matrices, score

__all__ = ["Goalposts", "MinMax", "DistanceToTarget", "normaliser_for", "ScoringConfig", "ScoreResult",
           "indicator_matrices", "score", "complementary_suppression", "SENSITIVITY_FACTORS", "association_estimates", "official_record", "summary_text", "OfficialError",
           "read_official_table", "official_panel", "last_official", "load_targets", "targets_for",
           "match_province", "province_key", "Targets", "MEASURES", "MERGER_YEAR", "SCALE"]
