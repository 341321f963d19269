"""A national data set for the scoring benchmark: 63 provinces x 200 firms x 3 years of pgi_feedback."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey.demo import make_population, make_responses  # noqa: E402
from survey.questionnaire import load_questionnaire  # noqa: E402
from survey.scoring import ScoringConfig, indicator_matrices, score  # noqa: E402
from survey.weights import load_margins, default_margins_path, make_design, prepare_margins, rake, replicate_design  # noqa: E402


def national(provinces: int = 63, firms: int = 200, years: int = 3, replicates: int = 200):
    """A raked design with bootstrap replicates over every province and year."""
    qn = load_questionnaire("pgi_feedback")
    margins = load_margins(default_margins_path("bac_giang", 2024))
    pop = make_population(margins, seed=1)
    one = make_responses(qn, pop, firms * years, seed=2)
    frames = []
    for p in range(provinces):  # the same answer pattern, shuffled, per province: the cost is what matters
        f = one.sample(frac=1.0, random_state=p).reset_index(drop=True)
        f["province"] = p
        f["year"] = np.repeat(np.arange(2022, 2022 + years), firms)
        frames.append(f)
    data = pd.concat(frames, ignore_index=True)
    del frames  # the pieces are not kept beside the whole while the design is built
    m = margins.select(["size_class", "ownership"])
    design = make_design(data, population=m.total * provinces)
    scaled = type(m)(m.province, m.year, m.source, True, tuple(
        type(x)(x.name, x.question, tuple(type(c)(c.name, c.codes, c.count * provinces) for c in x.categories))
        for x in m.margins), m.collapse, m.min_respondents)
    # as weigh() does: the replicate design is made for the raking and not used again, so the raking reuses
    # its matrix (one 1M x 200 matrix alive while weighting, not two)
    design = rake(replicate_design(design, "bootstrap", replicates=replicates, seed=3), prepare_margins(scaled, data),
                  reuse_replicates=True)
    return design, qn


def score_national(design, qn) -> int:
    result = score(design, qn, by="province", config=ScoringConfig(sensitivity=False))
    return int(result.table["suppressed"].sum())


def bare_ratio(design, qn) -> float:
    """The leanest honest code for the same numbers: each province's own rows (group indices, not masks over
    every row), weighted ratios of the indicator matrices on the weights and all replicates at once, and
    their replicate variance. Each province's rows of the weights and replicates are gathered from the
    design's matrices as it holds them (float32 replicates at 1M rows) into one float64 block: no
    (n, 1 + R) float64 copy, and no reordered copy of the whole replicate matrix (the baseline before this
    one put the matrix in province order first: 4.5-5.5 s at 1M rows instead of 1.7-2.4 s, and 1.7 times
    the memory)."""
    num, den = indicator_matrices(design, qn)
    codes = pd.factorize(design.data["province"], sort=True)[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    replicates = design.repweights.shape[1]
    total = 0.0
    for p in range(codes.max() + 1):
        rows = order[bounds[p]:bounds[p + 1]]
        w = np.empty((len(rows), 1 + replicates))
        w[:, 0] = design.weights[rows]
        w[:, 1:] = design.repweights[rows]
        np.nan_to_num(w, copy=False)
        ratio = (w.T @ num[rows]) / (w.T @ den[rows])
        total += float(np.nansum(ratio[0]) + np.nansum(ratio[1:].var(axis=0)))
    return total
