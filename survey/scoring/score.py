"""The association's own index (not VCCI's PGI): indicator shares first, then 10-point scores, sub-indices, total.

The chain, for each domain (the whole province, or each district, sector...):

1. each indicator's **value** is a weighted ratio of the questionnaire's answers (a share of valid answers in
   some codes, or a mean), declared missing codes left out; this value, with its interval and n, is the
   headline: it is what the firms said;
2. the value becomes a 0-10 score by its declared normalisation (goalposts; min-max across the domains
   shown; distance to a target);
3. a sub-index is the weighted mean of its indicators' scores; the total is the sum of the four.

The whole chain is **one statistic of the weight matrix** (:func:`survey.weights.with_replicates`): it runs
on the weights and on every replicate at once, and the min-max normaliser is fitted inside it, on each
replicate's own values, so its uncertainty is in the standard errors. Replicate variance is formed there
only.

Disclosure control: an indicator with fewer than ``min_n`` respondents in a domain is suppressed (primary),
and, when domains are shown beside the whole, a second domain is suppressed wherever one alone would be
(complementary), so that no hidden value can be worked out from the published whole and the other
domains. Sub-indices and totals that use a hidden indicator are hidden too.

Sensitivity: the answer coding ("agree" = 4-5 or 3-5), leaving one indicator out, the normalisation, the
indicator weights and the goalposts are varied one at a time (a tornado: which choice moves each
sub-index most) and all together (a Monte-Carlo range).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from ..notes import Note
from ..questionnaire import Indicator, Question, Questionnaire, evaluate
from ..questionnaire.expressions import holds_codes
from ..vocabulary import SCALE
from ..weights import Design, with_replicates
from .normalise import normaliser_for

__all__ = ["ScoringConfig", "indicator_matrices", "score", "ScoreResult", "complementary_suppression",
           "SENSITIVITY_FACTORS"]

#: what the sensitivity analysis varies, in the order the tornado lists them
SENSITIVITY_FACTORS = ("coding", "indicator_set", "normalisation", "weights", "goalposts")
#: codes counted as "agree" on the 5-point agreement scale, and the lenient alternative (neutral counts too)
AGREE, AGREE_LENIENT = (4, 5), (3, 4, 5)


@dataclass(frozen=True)
class ScoringConfig:
    """Settings of a scoring run, checked once.

    Attributes
    ----------
    min_n : int
        Fewest respondents in an indicator's base for it to be shown (default 10).
    level : float
        Confidence level of the intervals (0.95).
    sensitivity : bool
        Run the sensitivity analysis over the alternatives.
    seed : int
        Seed of the Monte Carlo.
    """

    min_n: int = 10
    level: float = 0.95
    sensitivity: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if self.min_n < 1:
            raise EstimationError(f"min_n must be at least 1, got {self.min_n}", code="estimation.min_n",
                                  params={"min_n": self.min_n})
        if not 0 < self.level < 1:
            raise EstimationError(f"confidence levels must be between 0 and 1, got {self.level}",
                                  code="estimation.levels", params={"levels": str(self.level)})


class _Answers:
    """A scoring run's view of the answers: what several indicators of one question share is worked out
    once (its valid answers; a multiple choice's distinct answers). At a million responses, six indicators
    of one multiple-choice question each searched the whole column (0.26 s in all); now its distinct
    answers are searched (128 in the benchmark's data)."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self._valid: dict[str, np.ndarray] = {}
        self._distinct: dict[str, tuple[np.ndarray, pd.Series]] = {}

    def valid(self, q: Question) -> np.ndarray:
        """Where ``q`` has an answer: given, not blank (a multiple choice), not a declared missing code. A
        new array (the caller narrows it)."""
        if q.id not in self._valid:
            col = self.data[q.id]
            valid = col.notna().to_numpy().copy()
            if q.type == "multiple":
                valid &= (col.astype("string").str.strip() != "").fillna(False).to_numpy(dtype=bool)
            if q.missing:
                valid &= ~col.isin([float(m) for m in q.missing]).to_numpy()
            self._valid[q.id] = valid
        return self._valid[q.id].copy()

    def holds(self, q: Question, codes: tuple[int, ...]) -> np.ndarray:
        """Per response, whether its multiple-choice answer to ``q`` holds any of ``codes`` (False when
        missing): :func:`holds_codes` on each distinct answer, spread to the responses."""
        if q.id not in self._distinct:
            index, distinct = pd.factorize(self.data[q.id])  # -1 where missing
            self._distinct[q.id] = index, pd.Series(distinct)
        index, distinct = self._distinct[q.id]
        return (index >= 0) & holds_codes(distinct, codes)[np.maximum(index, 0)]


def _parts(answers: _Answers, qn: Questionnaire, ind: Indicator,
           codes: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    data = answers.data
    q = qn.question(ind.question)
    if q.id not in data.columns:
        raise EstimationError(f"indicator '{ind.id}': the responses have no answers to '{q.id}'",
                              code="estimation.no_answers", params={"indicator": ind.id, "question": q.id})
    col = data[q.id]
    valid = answers.valid(q)
    if ind.among is not None:
        valid &= evaluate(ind.among, data).to_numpy()
    base = valid.astype(float)
    if ind.method == "mean":
        values = pd.to_numeric(col, errors="coerce").fillna(0).to_numpy(dtype=float)
        return base * values, base
    codes = tuple(codes or ind.codes)
    # a multiple choice: selected()'s rule, one RE2 search over its distinct answers
    hit = answers.holds(q, codes) if q.type == "multiple" else col.isin([float(c) for c in codes]).to_numpy()
    return base * hit, base


def indicator_matrices(design: Design, qn: Questionnaire, *, lenient: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators (n, I): indicator i's value is sum(w*num_i) / sum(w*den_i).

    ``lenient`` counts "neutral" (3) as agreeing in the agree-type indicators (codes 4-5), the coding
    alternative of the sensitivity analysis.
    """
    if not qn.indicators:
        raise EstimationError(f"questionnaire '{qn.id}' has no index indicators", code="estimation.no_indicators",
                              params={"questionnaire": qn.id})
    answers = _Answers(design.data)
    parts = [_parts(answers, qn, ind, AGREE_LENIENT if lenient and _agree_type(ind) else None)
             for ind in qn.indicators]
    return np.column_stack([p[0] for p in parts]), np.column_stack([p[1] for p in parts])


class _Pairs(NamedTuple):
    """Numerators and denominators side by side, (n, 2I): ``main`` (one byte a value) holds every column
    whose values are all whole numbers from 0 to 255 (shares are 0 or 1, means of answer codes small
    integers); the others (means of amounts such as 7.3) are zero there and held in float64 in ``extra``
    (n, k), column ``columns[j]`` of the whole. An eighth of the memory of float64 (72 MB instead of 576 MB
    at a million responses and 36 indicators), nothing rounded; products are taken in float64."""

    main: np.ndarray
    extra: np.ndarray
    columns: np.ndarray

    def totals(self, W: np.ndarray, rows) -> np.ndarray:
        """``W.T @ pairs[rows]`` (k, 2I) for weights W of those rows (k columns), in float64."""
        out = W.T @ self.main[rows]
        if len(self.columns):
            out[:, self.columns] = W.T @ self.extra[rows]
        return out

    def positive(self, rows) -> np.ndarray:
        """Per column (2I,): how many of ``rows`` are above 0."""
        out = (self.main[rows] > 0).sum(axis=0)
        if len(self.columns):
            out[self.columns] = (self.extra[rows] > 0).sum(axis=0)
        return out

    def in_order(self, order: np.ndarray) -> "_Pairs":
        return _Pairs(_in_order(self.main, order), _in_order(self.extra, order), self.columns)


def _indicator_pairs(design: Design, qn: Questionnaire) -> _Pairs:
    """Numerators and denominators (:class:`_Pairs`), filled a column at a time (not 2I columns and then a
    stacked copy of them)."""
    I = len(qn.indicators)
    main, extra, columns = np.zeros((design.n, 2 * I), dtype=np.uint8), [], []
    answers = _Answers(design.data)
    for i, ind in enumerate(qn.indicators):
        for j, values in zip((i, I + i), _parts(answers, qn, ind)):
            with np.errstate(invalid="ignore"):  # NaN or outside 0-255 casts to some byte, which then differs
                small = values.astype(np.uint8)
            if np.array_equal(small, values):
                main[:, j] = small
            else:
                extra.append(values)
                columns.append(j)
    return _Pairs(main, np.column_stack(extra) if extra else np.zeros((design.n, 0)), np.asarray(columns, dtype=int))


def _agree_type(ind: Indicator) -> bool:
    return ind.method != "mean" and tuple(ind.codes or ()) == AGREE


@dataclass
class ScoreResult:
    """A scoring run: the tidy table, the tornado of the sensitivity analysis, the settings behind it.

    ``table`` has one row per domain and kind (indicator, subindex, total): the keys, the indicator's value
    (``value``, ``value_se``, ``value_ci_low``, ``value_ci_high``: the share or mean itself), then the score
    in the one result shape (``estimate, se, ci_low, ci_high, level, n, suppressed, reason``) and the
    sensitivity range (``sens_low``, ``sens_high``). ``tornado`` has, per domain and sub-index/total, each
    factor's low and high (one factor varied at a time) and the base.
    """

    table: pd.DataFrame
    config: ScoringConfig
    notes: list[Note | str] = field(default_factory=list)  # shown with survey.notes.note_text
    tornado: pd.DataFrame | None = None
    official: pd.DataFrame | None = None  # the province's official record (see survey.scoring.official_record)


def _domains(design: Design, by: str | None) -> list[tuple[object, np.ndarray]]:
    """Each domain's label and the indices of its rows (the whole province when ``by`` is None)."""
    if by is None:
        return [(None, np.arange(design.n))]
    if by not in design.data.columns:
        raise EstimationError(f"the responses have no variable '{by}' to score by", code="estimation.no_score_by",
                              params={"by": by})
    codes, labels = pd.factorize(design.data[by], sort=True)
    order = np.argsort(codes, kind="stable")          # one sort, not a scan of every row per domain
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    return [(label, order[bounds[j]:bounds[j + 1]]) for j, label in enumerate(labels)]


def _values(W: np.ndarray, num: np.ndarray, den: np.ndarray, doms) -> np.ndarray:
    """Indicator values (C, D, I): each domain's own rows, every weight column of ``W`` at once."""
    out = np.empty((W.shape[1], len(doms), num.shape[1]))
    for d, (_, rows) in enumerate(doms):
        w = W[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, d, :] = (w.T @ num[rows]) / (w.T @ den[rows])
    return out


def _sorted_values(W: np.ndarray, pairs: _Pairs, order: np.ndarray, bounds: np.ndarray,
                   out: np.ndarray | None = None) -> np.ndarray:
    """As :func:`_values`, with numerators and denominators (``pairs``) already in domain order (``order``:
    each domain d the rows ``bounds[d]:bounds[d + 1]`` of ``pairs``): one product per domain, and only
    the domain's weights gathered, then upcast to float64 (``W`` may be a view of float32 replicates; a
    NaN weight counts as 0). Written into ``out`` (C, D, I) when given."""
    I = pairs.main.shape[1] // 2
    out = np.empty((W.shape[1], len(bounds) - 1, I)) if out is None else out
    for d in range(len(bounds) - 1):
        rows = slice(bounds[d], bounds[d + 1])
        w = W[order[rows]].astype(np.float64, copy=False)  # a new array (a gather copies)
        missing = np.isnan(w)
        if missing.any():
            w[missing] = 0.0
        totals = pairs.totals(w, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, d, :] = totals[:, :I] / totals[:, I:]
    return out


def _normalise(qn: Questionnaire, values: np.ndarray, hidden: np.ndarray, methods: list[str],
               goalposts: list, out: np.ndarray | None = None) -> np.ndarray:
    """Scores (C, D, I), written into ``out`` when given. A min-max normaliser learns its min and max from
    the domains shown (never the hidden ones), separately for each weight column (each replicate)."""
    scores = np.empty_like(values) if out is None else out
    for i, ind in enumerate(qn.indicators):
        norm = normaliser_for(ind, methods[i], goalposts[i])
        if methods[i] == "minmax":
            shown = np.where(hidden[None, :, i], np.nan, values[:, :, i])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanmin(shown, axis=1, keepdims=True), np.nanmax(shown, axis=1, keepdims=True)
            if np.sum(~hidden[:, i]) < 2 or not np.any(hi[0] > lo[0]):
                raise EstimationError("min-max rescaling needs a benchmark set of at least two different values",
                                      code="estimation.minmax_benchmark",
                                      hint="score by a domain or by period, or use goalposts")
            s = 1.0 + 9.0 * (values[:, :, i] - lo) / (hi - lo)
            scores[:, :, i] = 11.0 - s if ind.direction == "negative" else s
        else:
            scores[:, :, i] = norm.fit(None).transform(values[:, :, i])
    return scores


def _aggregate(qn: Questionnaire, scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-indices (C, D, 4) and total (C, D); NaN when an indicator is hidden or missing."""
    subs = []
    for s in qn.subindices:
        idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number]
        w = weights[idx]
        subs.append(np.einsum("cdi,i->cd", scores[:, :, idx], w) / w.sum())  # NaN propagates: hidden
    sub = np.stack(subs, axis=-1)
    return sub, sub.sum(axis=-1)


def complementary_suppression(counts: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """Cells (D, I) to hide besides the primary ones, so that no hidden cell follows from the whole by
    subtraction: in every indicator where exactly one domain with respondents is hidden, the shown
    domain with the fewest respondents is hidden too (the rule of sdcTable/tau-argus for a one-level
    table: never a single hidden cell in a sum)."""
    extra = np.zeros_like(primary)
    if counts.shape[0] < 2:
        return extra
    for i in range(counts.shape[1]):
        hidden = primary[:, i] & (counts[:, i] > 0)
        if hidden.sum() == 1:
            shown = np.flatnonzero(~primary[:, i] & (counts[:, i] > 0))
            if shown.size:
                extra[shown[np.argmin(counts[shown, i])], i] = True
    return extra


def _in_order(matrix: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The rows ``order`` of ``matrix``, moved to its first rows in place a column at a time (one column of
    scratch, not a second matrix); returns that part of ``matrix``."""
    if np.array_equal(order, np.arange(len(matrix))):
        return matrix
    for j in range(matrix.shape[1]):
        matrix[:len(order), j] = matrix[order, j]
    return matrix[:len(order)]


def _statistic(qn: Questionnaire, pairs: _Pairs, doms, hidden, methods, goalposts, weights):
    """The whole chain as one statistic of the weight matrix: (C, p) values, scores, sub-indices, totals.

    Each column on its own (the min-max normaliser is fitted per column), so it runs on any block of
    columns. ``pairs`` (numerators and denominators) are put in domain order once, in place (they belong
    to the caller's run and are not used after; a copy would be another (n, 2I) matrix).
    """
    order = np.concatenate([rows for _, rows in doms])
    bounds = np.concatenate([[0], np.cumsum([len(rows) for _, rows in doms])])
    pairs = pairs.in_order(order)

    D, I = len(doms), len(qn.indicators)

    def statistic(W: np.ndarray) -> np.ndarray:
        # each part written into its place in the one row per weight column (no parts beside their
        # concatenation: 64 columns x 128,000 estimates is 65 MB at a million responses)
        C = W.shape[1]
        out = np.empty((C, D * (2 * I + 5)))
        values = _sorted_values(W, pairs, order, bounds, out=_part(out, 0, D, I))
        scores = _normalise(qn, values, hidden, methods, goalposts, out=_part(out, D * I, D, I))
        scores[np.broadcast_to(hidden[None], scores.shape)] = np.nan
        sub, tot = _aggregate(qn, scores, weights)
        out[:, 2 * D * I:2 * D * I + 4 * D] = sub.reshape(C, -1)
        out[:, 2 * D * I + 4 * D:] = tot
        return out
    return statistic


def _part(out: np.ndarray, first: int, D: int, I: int) -> np.ndarray:
    """Columns ``first .. first + D * I - 1`` of ``out`` (C, p), C-ordered, as a (C, D, I) view (strides
    set, so never a copy, which would leave ``out`` unwritten)."""
    step = out.itemsize
    return np.lib.stride_tricks.as_strided(out[:, first:], shape=(out.shape[0], D, I),
                                           strides=(out.strides[0], I * step, step))


def score(design: Design, qn: Questionnaire, *, by: str | None = None,
          config: ScoringConfig = ScoringConfig()) -> ScoreResult:
    """Score the design: every indicator's value and score, the sub-indices and the total, per domain.

    Raises
    ------
    EstimationError
        No indicators, an unknown domain variable, or a min-max normalisation with no benchmark set.
    """
    notes: list[Note | str] = []
    pairs = _indicator_pairs(design, qn)
    I = len(qn.indicators)
    doms = _domains(design, by)
    D = len(doms)
    counts = np.stack([pairs.positive(rows)[I:] for _, rows in doms])  # (D, I): respondents in each base
    primary = counts < config.min_n
    extra = complementary_suppression(counts, primary) if by is not None else np.zeros_like(primary)
    hidden = primary | extra
    methods = [ind.normalisation for ind in qn.indicators]
    goalposts = [ind.goalposts for ind in qn.indicators]
    weights = np.array([ind.weight for ind in qn.indicators], dtype=float)
    statistic = _statistic(qn, pairs, doms, hidden, methods, goalposts, weights)  # reorders pairs
    if design.repweights is None:
        notes.append(Note("score.no_replicates"))
        est = statistic(design.weights[:, None])[0]
        var = np.full_like(est, np.nan)
    else:
        # the replicates as the design holds them (no float64 copy of every row), 64 columns at a time:
        # each domain's product then spans 64 weight columns, not the 8 a 64 MiB float64 block holds at a
        # million rows (3.4 s -> 2.2 s at a million responses in 1,667 domains)
        # and only the variances kept, summed as the blocks come: not the 201 x 128,000 replicate
        # estimates of a million responses (206 MB, most of what the score added to the design's memory)
        res = with_replicates(design, statistic, covariance=False, views=True, keep=False)
        est, var = res.estimate, res.variance
    parts = np.split(np.arange(est.size), np.cumsum([D * I, D * I, D * 4]))
    shaped = [(est[p].reshape(D, -1), np.sqrt(var[p]).reshape(D, -1)) for p in parts]
    sens, tornado = (_sensitivity(design, qn, doms, hidden, shaped[0][0], config, notes) if config.sensitivity
                     else (None, None))
    table = _table(qn, doms, by, shaped, counts, primary, extra, sens, config)
    if tornado is not None and by is not None:
        tornado = tornado.rename(columns={"domain": by})
    elif tornado is not None:
        tornado = tornado.drop(columns="domain")
    return ScoreResult(table, config, notes, tornado)


@lru_cache(maxsize=8)
def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _interval(est, se, level: float, bound: float | None = None):
    z = _z(level)
    lo, hi = est - z * se, est + z * se
    if bound is not None:
        lo, hi = np.clip(lo, 0.0, bound), np.clip(hi, 0.0, bound)  # scores cannot leave their scale
    return lo, hi


#: why a row is hidden, in the order the reasons are looked for (the first that applies)
_REASONS = ("not_applicable", "min_n", "complementary")
#: the total's row names
_TOTAL_NAMES = {"name_vi": "Chỉ số của Hiệp hội (tổng, thang 0–40)", "name_en": "Association's index (total, 0–40)",
                "short_vi": "Tổng (0–40)", "short_en": "Total (0–40)"}


def _reasons(counts: np.ndarray, primary: np.ndarray, extra: np.ndarray, groups: list[list[int]]
             ) -> tuple[np.ndarray, np.ndarray]:
    """Whether each row is hidden and why, for every domain (D, G) at once: row g uses the indicators
    ``groups[g]``. ``not_applicable`` (one of them has no one in its base), ``min_n`` (too few),
    ``complementary`` (hidden so that another hidden cell cannot be worked out); None when shown."""
    member = np.zeros((counts.shape[1], len(groups)), dtype=bool)
    for g, idx in enumerate(groups):
        member[idx, g] = True

    def any_of(mask: np.ndarray) -> np.ndarray:  # (D, I) -> (D, G): any indicator of the row's group
        return (mask.astype(np.int64) @ member) > 0
    flags = [any_of(primary & (counts == 0)), any_of(primary), any_of(extra)]
    why = np.select(flags, np.array(_REASONS, dtype=object), None)
    return flags[1] | flags[2], why


def _table(qn, doms, by, shaped, counts, primary, extra, sens, config) -> pd.DataFrame:
    """One row per domain and kind: each domain's indicators, then its sub-indices, then its total; made a
    column at a time over every domain (a million responses in 1,667 domains are 128,000 rows)."""
    (val, val_se), (sc, sc_se), (sub, sub_se), (tot, tot_se) = shaped
    inds, subs = qn.indicators, qn.subindices
    I, S, D = len(inds), len(subs), len(doms)
    groups = ([[i] for i in range(I)]
              + [[i for i, ind in enumerate(inds) if ind.subindex == s.number] for s in subs] + [list(range(I))])
    hide, why = _reasons(counts, primary, extra, groups)
    sizes = np.array([len(members) for _, members in doms], dtype=np.int64)
    empty = np.full((D, I), np.nan)
    est = np.concatenate([sc, sub, tot[:, :1]], axis=1)
    se = np.concatenate([sc_se, sub_se, tot_se[:, :1]], axis=1)
    bound = np.array([SCALE["sub1"]] * (I + S) + [SCALE["total"]])
    lo, hi = _interval(est, se, config.level, bound)
    vlo, vhi = _interval(val, val_se, config.level)

    def per_row(*parts) -> np.ndarray:  # (D, I), (D, S), (D, 1) side by side, then row by row
        return np.concatenate([np.broadcast_to(p, (D, w)) for p, w in zip(parts, (I, S, 1))], axis=1).ravel()

    def shown(values: np.ndarray) -> np.ndarray:  # a hidden row shows nothing: its value could be read off
        return np.where(hide, np.nan, values).ravel()

    def text(per_indicator, per_subindex, total) -> np.ndarray:
        return per_row(np.array(per_indicator, dtype=object), np.array(per_subindex, dtype=object),
                       np.array([total], dtype=object))

    columns = {
        "domain": pd.Series([label for label, _ in doms]).repeat(I + S + 1).reset_index(drop=True),
        "kind": text(["indicator"] * I, ["subindex"] * S, "total"),
        "id": text([ind.id for ind in inds], [f"sub{s.number}" for s in subs], "total"),
        "subindex": per_row(np.array([ind.subindex for ind in inds], dtype=float),
                            np.array([s.number for s in subs], dtype=float), np.nan),
        **{name: text([getattr(ind.label, lang) for ind in inds],
                      [getattr((s.label if name.startswith("name") else s.short), lang) for s in subs],
                      _TOTAL_NAMES[name])
           for name, lang in (("name_vi", "vi"), ("name_en", "en"), ("short_vi", "vi"), ("short_en", "en"))},
        "method": text([ind.method for ind in inds], ["subindex"] * S, "total"),
        **{name: shown(np.concatenate([v, np.full((D, S + 1), np.nan)], axis=1))
           for name, v in (("value", val), ("value_se", val_se), ("value_ci_low", vlo), ("value_ci_high", vhi))},
        "estimate": shown(est), "se": shown(se), "ci_low": shown(lo), "ci_high": shown(hi),
        "level": np.full(D * (I + S + 1), float(config.level)),
        "n": per_row(counts.astype(np.int64), sizes[:, None], sizes[:, None]),
        "suppressed": hide.ravel(),
        "reason": pd.Series(why.ravel().tolist()),  # as pandas reads such a column: str, or object with None
    }
    if sens is not None:  # sub-indices and total only
        for name, side in (("sens_low", sens[0]), ("sens_high", sens[1])):
            columns[name] = shown(np.concatenate([empty, side[:, :S], side[:, -1:]], axis=1))
    table = pd.DataFrame(columns)
    if by is not None:
        table = _domain_labels(table, qn, by)
        return table.rename(columns={"domain": by})
    return table.drop(columns=["domain"])


def _domain_labels(table: pd.DataFrame, qn: Questionnaire, by: str) -> pd.DataFrame:
    if by in {q.id for q in qn.questions} and qn.question(by).is_select:
        labels = {float(c.code): c.label for c in qn.choices(by)}
        table.insert(1, "domain_vi", table["domain"].map(lambda v: labels[v].vi if v in labels else str(v)))
        table.insert(2, "domain_en", table["domain"].map(lambda v: labels[v].en if v in labels else str(v)))
    return table


# ------------------------------------------------------------------ sensitivity

def _point(qn: Questionnaire, hidden, values, methods, goalposts, weights) -> np.ndarray:
    """(D, 5): sub-indices and total at the point estimate under one set of choices; ``values`` (D, I) are
    the indicators' point values under the answer coding chosen."""
    scores = _normalise(qn, values[None], hidden, methods, goalposts)
    scores[np.broadcast_to(hidden[None], scores.shape)] = np.nan
    sub, tot = _aggregate(qn, scores, weights)
    return np.concatenate([sub[0], tot[0][:, None]], axis=1)


def _alternatives(design: Design, qn: Questionnaire, doms, values, notes: list):
    """The choices of each factor, each as (values, methods, goalposts, weights); ``values`` (D, I) are the
    point values under the questionnaire's coding, the lenient coding's are computed here, once."""
    lenient = _values(np.nan_to_num(design.weights)[:, None], *indicator_matrices(design, qn, lenient=True),
                      doms)[0]
    base_m = [ind.normalisation for ind in qn.indicators]
    base_g = [tuple(ind.goalposts) for ind in qn.indicators]
    base_w = np.array([ind.weight for ind in qn.indicators], dtype=float)
    alt = qn.sensitivity
    norms = [m for m in alt.normalisations]
    if len(doms) < 2 and "minmax" in norms:
        norms = [m for m in norms if m != "minmax"] or ["goalposts"]
        notes.append(Note("score.sensitivity_minmax"))
    base = (values, base_m, base_g, base_w)
    factors: dict[str, list] = {"coding": [(lenient, base_m, base_g, base_w)],
                                "indicator_set": [], "normalisation": [], "weights": [], "goalposts": []}
    for s in qn.subindices:
        idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number]
        for i in idx if len(idx) > 1 else []:
            w = base_w.copy()
            w[i] = 0.0
            factors["indicator_set"].append((values, base_m, base_g, w))
    for m in norms:
        if m != "goalposts":
            methods = [m if ind.normalisation != "target" and (m != "target" or ind.target is not None)
                       else ind.normalisation for ind in qn.indicators]
            factors["normalisation"].append((values, methods, base_g, base_w))
    for low_or_high in alt.weights:
        for s in qn.subindices:
            w = base_w.copy()
            idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number]
            w[idx[0]] *= low_or_high  # the first indicator of each sub-index weighed up or down
            factors["weights"].append((values, base_m, base_g, w))
    for sign in (-1, 1):
        gps = [(lo + sign * alt.goalposts * (hi - lo), hi + sign * alt.goalposts * (hi - lo)) for lo, hi in base_g]
        factors["goalposts"].append((values, base_m, gps, base_w))
    return base, factors, (lenient, norms, base_g, base_w)


def _sensitivity(design: Design, qn: Questionnaire, doms, hidden, values, config: ScoringConfig, notes: list):
    """The Monte-Carlo range (5th-95th percentiles, (D, 5) each) and the one-at-a-time tornado table."""
    base, factors, (lenient, norms, base_g, base_w) = _alternatives(design, qn, doms, values, notes)
    ids = [f"sub{s.number}" for s in qn.subindices] + ["total"]
    at_base = _point(qn, hidden, *base)
    rows = []
    for factor in SENSITIVITY_FACTORS:
        results = [_point(qn, hidden, *choice) for choice in factors[factor]] or [at_base]
        arr = np.stack(results + [at_base])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
        for d, (dom, _) in enumerate(doms):
            for k, m in enumerate(ids):
                rows.append({"domain": dom, "id": m, "factor": factor, "base": at_base[d, k], "low": low[d, k],
                             "high": high[d, k]})
    tornado = pd.DataFrame(rows)
    tornado["swing"] = tornado["high"] - tornado["low"]
    rng = np.random.default_rng(config.seed)
    alt = qn.sensitivity
    draws = []
    for _ in range(alt.draws):
        coded = lenient if rng.random() < 0.5 else values
        w = base_w * rng.uniform(*alt.weights, size=len(base_w))
        for s in qn.subindices:
            idx = [i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number]
            if len(idx) > 1 and rng.random() < 0.5:
                w[idx[rng.integers(len(idx))]] = 0.0
        gps = [(lo + rng.uniform(-1, 1) * alt.goalposts * (hi - lo), hi + rng.uniform(-1, 1) * alt.goalposts * (hi - lo))
               for lo, hi in base_g]
        methods = [norms[rng.integers(len(norms))] if ind.normalisation != "target" else "target"
                   for ind in qn.indicators]
        methods = [m if m != "target" or ind.target is not None else "goalposts"
                   for m, ind in zip(methods, qn.indicators)]
        draws.append(_point(qn, hidden, coded, methods, gps, w))
    arr = np.stack(draws)
    with warnings.catch_warnings():  # a hidden domain has no draws: NaN, as its estimate
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanpercentile(arr, 5, axis=0), np.nanpercentile(arr, 95, axis=0)), tornado
