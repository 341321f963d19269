"""The association's estimate of the PGI: indicators -> 10-point scores -> 4 sub-indices -> total /40.

The chain, for each domain (the whole province, or each district, sector...):

1. each indicator's value is a weighted ratio of the questionnaire's answers
   (a share of valid answers in some codes, or a mean), declared missing codes left out;
2. the value becomes a 0-10 score by its declared normalisation;
3. a sub-index is the weighted mean of its indicators' scores;
4. the total is the sum of the four sub-indices.

The whole chain runs on the weights and on every replicate weight at once,
so each indicator, sub-index and the total get a standard error and 90%
and 95% intervals from the replicates. An indicator with fewer than
``min_n`` respondents in its base is suppressed (never shown), and so are
the sub-index and total that would use it. A Monte Carlo over the declared
alternatives (weights, goalposts, normalisations) gives a sensitivity range.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from ..notes import Note
from ..questionnaire import Indicator, Questionnaire, evaluate
from ..vocabulary import SCALE
from ..weights import Design, replicate_variance
from .normalise import MinMax, normaliser_for

__all__ = ["ScoringConfig", "indicator_matrices", "score", "ScoreResult"]


@dataclass(frozen=True)
class ScoringConfig:
    """Settings of a scoring run, checked once.

    Attributes
    ----------
    min_n : int
        Fewest respondents in an indicator's base for it to be shown (default 10).
    levels : tuple of float
        Confidence levels of the intervals.
    sensitivity : bool
        Run the Monte Carlo over the questionnaire's declared alternatives.
    seed : int
        Seed of the Monte Carlo.
    """

    min_n: int = 10
    levels: tuple[float, ...] = (0.90, 0.95)
    sensitivity: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if self.min_n < 1:
            raise EstimationError(f"min_n must be at least 1, got {self.min_n}", code="estimation.min_n",
                                  params={"min_n": self.min_n})
        if not all(0 < lv < 1 for lv in self.levels):
            raise EstimationError(f"confidence levels must be between 0 and 1, got {self.levels}",
                                  code="estimation.levels", params={"levels": str(self.levels)})


def _selected(col: pd.Series, codes: tuple[int, ...]) -> np.ndarray:
    tokens = col.astype("string").fillna("").str.split()
    wanted = {str(c) for c in codes}
    return tokens.map(lambda t: bool(wanted.intersection(t))).to_numpy(dtype=bool)


def _parts(data: pd.DataFrame, qn: Questionnaire, ind: Indicator) -> tuple[np.ndarray, np.ndarray]:
    q = qn.question(ind.question)
    if q.id not in data.columns:
        raise EstimationError(f"indicator '{ind.id}': the responses have no answers to '{q.id}'",
                              code="estimation.no_answers", params={"indicator": ind.id, "question": q.id})
    col = data[q.id]
    valid = col.notna().to_numpy().copy()
    if q.type == "multiple":
        valid &= (col.astype("string").str.strip() != "").fillna(False).to_numpy(dtype=bool)
    if q.missing:
        valid &= ~col.isin([float(m) for m in q.missing]).to_numpy()
    if ind.among is not None:
        valid &= evaluate(ind.among, data).to_numpy()
    base = valid.astype(float)
    if ind.method == "mean":
        values = pd.to_numeric(col, errors="coerce").fillna(0).to_numpy(dtype=float)
        return base * values, base
    hit = _selected(col, ind.codes) if q.type == "multiple" else col.isin([float(c) for c in ind.codes]).to_numpy()
    return base * hit, base


def indicator_matrices(design: Design, qn: Questionnaire) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators (n, I): indicator i's value is sum(w*num_i) / sum(w*den_i)."""
    if not qn.indicators:
        raise EstimationError(f"questionnaire '{qn.id}' has no index indicators", code="estimation.no_indicators",
                              params={"questionnaire": qn.id})
    parts = [_parts(design.data, qn, ind) for ind in qn.indicators]
    return np.column_stack([p[0] for p in parts]), np.column_stack([p[1] for p in parts])


@dataclass
class ScoreResult:
    """A scoring run: the tidy table and the settings behind it."""

    table: pd.DataFrame
    config: ScoringConfig
    notes: list[Note | str] = field(default_factory=list)  # shown with survey.notes.note_text


def _domains(design: Design, by: str | None) -> list[tuple[object, np.ndarray]]:
    if by is None:
        return [(None, np.ones(design.n, dtype=bool))]
    if by not in design.data.columns:
        raise EstimationError(f"the responses have no variable '{by}' to score by", code="estimation.no_score_by",
                              params={"by": by})
    col = design.data[by]
    return [(v, (col == v).to_numpy()) for v in sorted(col.dropna().unique())]


def _values(design: Design, num: np.ndarray, den: np.ndarray, doms) -> tuple[np.ndarray, np.ndarray]:
    """Indicator values (D, C, I) for every domain and weight column, and base counts (D, I)."""
    W = np.nan_to_num(design.all_weights(), nan=0.0)
    finite = np.all(np.isfinite(design.all_weights()), axis=0)
    out, counts = [], []
    for _, mask in doms:
        m = mask[:, None].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = (W.T @ (num * m)) / (W.T @ (den * m))
        v[~finite] = np.nan  # a replicate that could not be weighted
        out.append(v)
        counts.append(((den * m) > 0).sum(axis=0))
    return np.stack(out), np.stack(counts)


def _scores(qn: Questionnaire, values: np.ndarray, methods: list[str], goalposts: list, notes: list[Note]) -> np.ndarray:
    """Scores (D, C, I); min-max normalisers learn min and max from the domains' point estimates."""
    scores = np.empty_like(values)
    for i, ind in enumerate(qn.indicators):
        norm = normaliser_for(ind, methods[i], goalposts[i])
        norm.fit(values[:, 0, i] if isinstance(norm, MinMax) else None)
        scores[:, :, i] = norm.transform(values[:, :, i])
    return scores


def _aggregate(qn: Questionnaire, scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-indices (D, C, 4) and total (D, C); NaN when an indicator is suppressed or missing."""
    subs = []
    for s in qn.subindices:
        idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number]
        w = weights[idx]
        subs.append(np.einsum("dci,i->dc", scores[:, :, idx], w) / w.sum())  # NaN propagates: suppressed
    sub = np.stack(subs, axis=-1)
    return sub, sub.sum(axis=-1)


def _summaries(design: Design, est_and_reps: np.ndarray, levels) -> dict[str, np.ndarray]:
    """Estimate, SE and intervals from (C, k) values: column 0 and the replicates."""
    est = est_and_reps[0]
    if design.repweights is None:
        se = np.full_like(est, np.nan)
    else:
        se = np.sqrt(replicate_variance(design, est_and_reps[1:]))
    out = {"estimate": est, "se": se}
    for lv in levels:
        z = stats.norm.ppf(0.5 + lv / 2)
        tag = f"{round(lv * 100)}"
        out[f"ci{tag}_low"], out[f"ci{tag}_high"] = est - z * se, est + z * se
    return out


def score(design: Design, qn: Questionnaire, *, by: str | None = None,
          config: ScoringConfig = ScoringConfig()) -> ScoreResult:
    """Score the design: every indicator, sub-index and the total, per domain.

    Returns
    -------
    ScoreResult whose ``table`` has one row per domain and level (indicator,
    subindex, total): id, names, indicator value and its SE, score (estimate),
    se, 90% and 95% intervals, n, suppressed, and the sensitivity range
    (``sens_low``, ``sens_high``: 5th and 95th percentiles over the alternatives).

    Raises
    ------
    EstimationError
        No indicators, an unknown domain variable, or a min-max normalisation with
        no benchmark set.
    """
    notes = []
    if design.repweights is None:
        notes.append(Note("score.no_replicates"))
    num, den = indicator_matrices(design, qn)
    doms = _domains(design, by)
    values, counts = _values(design, num, den, doms)
    suppressed = counts < config.min_n  # (D, I)
    methods = [ind.normalisation for ind in qn.indicators]
    goalposts = [ind.goalposts for ind in qn.indicators]
    scores = _scores(qn, values, methods, goalposts, notes)
    scores[np.broadcast_to(suppressed[:, None, :], scores.shape)] = np.nan
    weights = np.array([ind.weight for ind in qn.indicators])
    sub, tot = _aggregate(qn, scores, weights)
    sens = _sensitivity(qn, values[:, :1], suppressed, config, notes) if config.sensitivity else None
    table = _table(design, qn, doms, by, values, scores, sub, tot, counts, suppressed, sens, config)
    return ScoreResult(table, config, notes)


def _table(design, qn, doms, by, values, scores, sub, tot, counts, suppressed, sens, config) -> pd.DataFrame:
    rows = []
    for d, (dom, mask) in enumerate(doms):
        n_dom = int(mask.sum())
        ind_val = _summaries(design, values[d], config.levels)
        ind_sc = _summaries(design, scores[d], config.levels)
        for i, ind in enumerate(qn.indicators):
            hide = bool(suppressed[d, i])
            row = {"domain": dom, "level": "indicator", "id": ind.id, "subindex": ind.subindex,
                   "name_vi": ind.label.vi, "name_en": ind.label.en, "n": int(counts[d, i]), "suppressed": hide,
                   "value": np.nan if hide else ind_val["estimate"][i],
                   "value_se": np.nan if hide else ind_val["se"][i]}
            row.update({k: (np.nan if hide else v[i]) for k, v in ind_sc.items()})
            rows.append(row)
        sub_s = _summaries(design, sub[d], config.levels)
        for k, s in enumerate(qn.subindices):
            row = {"domain": dom, "level": "subindex", "id": f"sub{s.number}", "subindex": s.number,
                   "name_vi": s.label.vi, "name_en": s.label.en, "n": n_dom,
                   "suppressed": bool(np.isnan(sub[d, 0, k]))}
            row.update({key: v[k] for key, v in sub_s.items()})
            if sens is not None:
                row["sens_low"], row["sens_high"] = sens[0][d, k], sens[1][d, k]
            rows.append(row)
        tot_s = _summaries(design, tot[d][:, None], config.levels)
        row = {"domain": dom, "level": "total", "id": "total", "subindex": np.nan, "name_vi": "Tổng điểm PGI",
               "name_en": "PGI total", "n": n_dom, "suppressed": bool(np.isnan(tot[d, 0]))}
        row.update({key: v[0] for key, v in tot_s.items()})
        if sens is not None:
            row["sens_low"], row["sens_high"] = sens[0][d, -1], sens[1][d, -1]
        rows.append(row)
    table = pd.DataFrame(rows)
    table["suppressed_reason"] = _reasons(qn, table, counts, doms, by)
    table["short_vi"] = table["id"].map({f"sub{s.number}": s.short.vi for s in qn.subindices}).fillna(table["name_vi"])
    table["short_en"] = table["id"].map({f"sub{s.number}": s.short.en for s in qn.subindices}).fillna(table["name_en"])
    if by is not None and by in {q.id for q in qn.questions} and qn.question(by).is_select:
        labels = {float(c.code): c.label for c in qn.choices(by)}
        table.insert(1, "domain_vi", table["domain"].map(lambda v: labels[v].vi if v in labels else str(v)))
        table.insert(2, "domain_en", table["domain"].map(lambda v: labels[v].en if v in labels else str(v)))
    bounds = np.where(table["level"] == "total", SCALE["total"], SCALE["sub1"])
    for col in [c for c in table.columns if c.startswith("ci")]:
        table[col] = np.clip(table[col], 0.0, bounds)  # scores cannot leave their scale
    if by is None:
        return table.drop(columns=["domain"])
    return table.rename(columns={"domain": by})


def _reasons(qn: Questionnaire, table: pd.DataFrame, counts: np.ndarray, doms, by) -> list[str | None]:
    """Why a row is hidden: ``not_applicable`` (an indicator has no one in its base) or ``too_few``."""
    out, per_dom = [], len(qn.indicators) + len(qn.subindices) + 1
    for j, row in enumerate(table.itertuples(index=False)):
        d = j // per_dom
        if not row.suppressed:
            out.append(None)
            continue
        if row.level == "indicator":
            idx = [next(i for i, ind in enumerate(qn.indicators) if ind.id == row.id)]
        elif row.level == "subindex":
            idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == row.subindex]
        else:
            idx = list(range(len(qn.indicators)))
        out.append("not_applicable" if np.any(counts[d, idx] == 0) else "too_few")
    return out


def _sensitivity(qn: Questionnaire, point: np.ndarray, suppressed: np.ndarray, config: ScoringConfig,
                 notes: list[Note]) -> tuple[np.ndarray, np.ndarray]:
    """5th and 95th percentiles (D, 5) of sub-indices and total over the declared alternatives."""
    alt = qn.sensitivity
    rng = np.random.default_rng(config.seed)
    methods = list(alt.normalisations)
    if point.shape[0] < 2 and "minmax" in methods:
        methods = [m for m in methods if m != "minmax"] or ["goalposts"]
        notes.append(Note("score.sensitivity_minmax"))
    base_w = np.array([ind.weight for ind in qn.indicators])
    draws = []
    for _ in range(alt.draws):
        w = base_w * rng.uniform(*alt.weights, size=len(base_w))
        gps, chosen = [], []
        for ind in qn.indicators:
            lo, hi = ind.goalposts
            span = hi - lo
            gps.append((lo + rng.uniform(-1, 1) * alt.goalposts * span, hi + rng.uniform(-1, 1) * alt.goalposts * span))
            chosen.append(methods[rng.integers(len(methods))] if ind.normalisation != "target" else "target")
        s = _scores(qn, point, chosen, gps, [])
        s[np.broadcast_to(suppressed[:, None, :], s.shape)] = np.nan
        sub, tot = _aggregate(qn, s, w)
        draws.append(np.concatenate([sub[:, 0], tot[:, :1]], axis=1))  # (D, 5)
    arr = np.stack(draws)
    with warnings.catch_warnings():  # a suppressed domain has no draws: NaN, as its estimate
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(arr, 5, axis=0), np.nanpercentile(arr, 95, axis=0)
