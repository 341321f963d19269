"""Replicate weights (jackknife JK1 and JKn, bootstrap, BRR) on primary units, and the one replicate variance.

Replicates are made from the starting design, before any adjustment; every
later adjustment (post-stratification, raking, calibration, trimming) is
then redone on each replicate, so the standard errors include the weighting.
Scale factors follow R's ``survey`` (``jk1weights``, ``jknweights``,
``bootweights``, ``subbootweights``, ``brrweights``) so results agree with it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from ..errors import WeightingError
from .design import BLOCK_BYTES, Design, replicate_dtype, replicate_matrix
from .notes import Note

__all__ = ["replicate_design", "with_replicates", "replicate_variance", "replicate_covariance", "ReplicateResult",
           "REPLICATE_TYPES", "BOOTSTRAP_SCALES", "hadamard"]

from ..options import REPLICATE_TYPES  # noqa: E402,F401  (one definition, light for the CLI)

#: bootstrap conventions: how the replicates are drawn and scaled (see :func:`replicate_design`)
from ..options import BOOTSTRAP_SCALES  # noqa: E402,F401


class ReplicateResult(NamedTuple):
    """What :func:`with_replicates` gives: estimates (p,), replicate estimates (R, p), covariance (p, p) (None
    unless asked for), variances (p,) and, per estimate, the replicates left out (estimate not finite)."""

    estimate: np.ndarray
    replicates: np.ndarray
    covariance: np.ndarray
    variance: np.ndarray
    dropped: np.ndarray


def _units(design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary units (codes 0..m-1 in order of appearance), their strata and each response's unit."""
    psu_of_row = pd.factorize(design.psu())[0]
    first = np.unique(psu_of_row, return_index=True)[1]
    return np.arange(len(first)), design.stratum()[first], psu_of_row


def _first_stage_popsize(design: Design, first_rows: np.ndarray) -> np.ndarray | None:
    return None if design.fpc is None else design.fpc[first_rows, 0]


def _jk1(m: int, popsize: float | None) -> tuple[np.ndarray, float, np.ndarray]:
    """R's jk1weights: one replicate per primary unit, scale (1 - f)(m - 1)/m."""
    if m < 2:
        raise WeightingError("the jackknife needs at least 2 responses", code="weighting.jackknife_size")
    mult = np.full((m, m), m / (m - 1))
    np.fill_diagonal(mult, 0.0)
    f = 1.0 if popsize is None else (popsize - m) / popsize
    return mult, f * (m - 1) / m, np.ones(m)


def _jkn(strata: np.ndarray, popsize: np.ndarray | None, lonely: str) -> tuple[np.ndarray, float, np.ndarray]:
    """R's jknweights: in each stratum drop one primary unit at a time; rscales (1 - f_h)(m_h - 1)/m_h."""
    m = len(strata)
    cols, rscales, order = [], [], list(dict.fromkeys(strata))  # strata in order of appearance, as R
    for s in order:
        units = np.flatnonzero(strata == s)
        mh = len(units)
        f = 1.0 if popsize is None else (popsize[units[0]] - mh) / popsize[units[0]]
        if f == 0:
            continue  # a stratum taken whole adds no replicate (R's survey.drop.replicates)
        if mh == 1:
            if lonely == "fail":
                raise WeightingError(f"stratum {s!r} has a single primary unit: the JKn jackknife needs at least 2",
                                     code="weighting.jkn_single", params={"stratum": repr(s)},
                                     hint="merge it with another stratum")
            if lonely == "adjust":
                col = np.where(strata == s, 0.0, len(order) / (len(order) - 1))
                cols.append(col)
                rscales.append((len(order) - 1) / len(order))
            continue
        for u in units:
            col = np.ones(m)
            col[units] = mh / (mh - 1)
            col[u] = 0.0
            cols.append(col)
            rscales.append(f * (mh - 1) / mh)
    if not cols:
        raise WeightingError("every stratum was taken whole: there is no sampling variance",
                             code="weighting.jkn_census")
    scale = m / len(cols) if lonely == "average" and len(cols) < m else 1.0
    return np.column_stack(cols), scale, np.asarray(rscales)


def _counts(mh: int, size: int, replicates: int, rng: np.random.Generator,
            popsize: float | None = None) -> np.ndarray:
    """How often each of a stratum's ``mh`` units is drawn in each replicate: (mh, replicates). With
    ``popsize``, ``size`` draws without replacement from the units repeated to the population size (R's
    ``bootstratum``). The generator's stream is continuous across calls, so drawing a stratum's replicates a
    block at a time gives the same draws as all at once."""
    if popsize is None:
        draws = rng.integers(0, mh, size=(replicates, size))
    else:
        pool = np.resize(np.arange(mh), int(round(popsize)))
        draws = np.array([rng.choice(pool, size, replace=False) for _ in range(replicates)])
    draws += mh * np.arange(replicates)[:, None]  # one bincount for every replicate
    flat = draws.ravel()
    return np.bincount(flat, minlength=mh * replicates).reshape(replicates, mh).T


def _bootstrap(design: Design, strata: np.ndarray, psu_of_row: np.ndarray, out: np.ndarray,
               rng: np.random.Generator, convention: str, popsize: np.ndarray | None) -> tuple[float, np.ndarray]:
    """Bootstrap replicate weights, drawn on primary units within strata, written into ``out`` (n, R).

    ``rao-wu``/``subbootstrap``: m_h - 1 draws, rescaled by m_h / (m_h - 1), scale 1/(R-1) (Rao & Wu 1988,
    R's ``subbootweights``). ``bootstrap``: m_h draws (from the population with ``fpc``), scale
    mbar / ((mbar - 1)(R - 1)) with mbar the harmonic mean of units per stratum (R's ``bootweights``).

    Strata in order of appearance, and in each stratum the replicates a block at a time (the draws of a
    block are (block, m_h) integers, not (R, m_h)), each block's weights written straight into ``out``.
    """
    replicates = out.shape[1]
    sizes = []
    # a quarter of a block: each block's draws pass through a few arrays of that size at once (the draws,
    # their counts, the multipliers, each row's, the weights): 4 x 64 MiB at a million units was the peak
    # of weighting a million responses, 2.1 GiB; the draws are the same whatever the block (one stream)
    per_block = max(1, BLOCK_BYTES // 4 // (8 * max(len(strata), 1)))
    codes, names = pd.factorize(strata)  # strata in order of appearance
    units_of, local = _groups(codes, len(names))
    rows_of, _ = _groups(codes[psu_of_row], len(names))
    for h, s in enumerate(names):
        units = units_of[h]
        mh = len(units)
        sizes.append(mh)
        if mh < 2:
            raise WeightingError(f"stratum {s!r} has a single response: the bootstrap needs at least 2",
                                 code="weighting.bootstrap_single", params={"stratum": repr(s)})
        rows = rows_of[h]
        unit_of_row = local[psu_of_row[rows]]  # each row's unit, numbered within the stratum
        for first in range(0, replicates, per_block):
            block = min(per_block, replicates - first)
            if convention == "bootstrap":
                mult = _counts(mh, mh, block, rng, None if popsize is None else popsize[units[0]])
            else:
                mult = _counts(mh, mh - 1, block, rng) * mh / (mh - 1)
            out[rows, first:first + block] = design.weights[rows, None] * mult[unit_of_row]
    return _bootstrap_scale(convention, replicates, np.asarray(sizes)), np.ones(replicates)


def _groups(codes: np.ndarray, k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The positions of each code 0..k-1 (increasing), and each position's rank among those of its code:
    one sort, not a scan of every position per code."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - bounds[codes[order]]
    return [order[bounds[h]:bounds[h + 1]] for h in range(k)], rank


def _bootstrap_scale(convention: str | float, replicates: int, sizes: np.ndarray) -> float:
    if not isinstance(convention, str):
        return float(convention)
    if convention not in BOOTSTRAP_SCALES:
        raise WeightingError(f"unknown bootstrap scale {convention!r}", code="weighting.unknown_bootstrap_scale",
                             params={"scale": convention, "known": ", ".join(BOOTSTRAP_SCALES)})
    if convention == "bootstrap":
        mbar = 1 / np.mean(1 / sizes)
        return float(mbar / ((mbar - 1) * (replicates - 1)))
    return 1.0 / (replicates - 1)


def hadamard(size: int) -> np.ndarray:
    """Sylvester's Hadamard matrix (+1/-1) with at least ``size`` rows (a power of 2)."""
    h = np.ones((1, 1))
    while len(h) < size:
        h = np.block([[h, h], [h, -h]])
    return h


def _brr(strata: np.ndarray, hadamard_matrix: np.ndarray | None) -> tuple[np.ndarray, float, np.ndarray]:
    """Balanced repeated replication for strata of exactly two primary units, as R's ``brrweights``.

    Strata are taken in sorted order; replicate i keeps, in the k-th stratum, the second unit (by order of
    appearance) when ``H[k, i]`` equals ``H[0, 0]`` and the first otherwise, with multiplier 2; scale 1/R.
    """
    names = sorted(dict.fromkeys(strata), key=str)
    sizes = {s: int(np.sum(strata == s)) for s in names}
    if any(v != 2 for v in sizes.values()):
        bad = [s for s, v in sizes.items() if v != 2]
        raise WeightingError(f"BRR needs exactly two primary units in every stratum; strata {bad} differ",
                             code="weighting.brr_pairs", params={"strata": str(bad)},
                             hint="use JKn or the bootstrap, or pair the units")
    H = hadamard(len(names) + 1) if hadamard_matrix is None else np.asarray(hadamard_matrix)
    if len(H) < len(names) + 1:
        raise WeightingError("the Hadamard matrix needs more rows than there are strata", code="weighting.brr_hadamard")
    mult = np.zeros((len(strata), H.shape[1]))
    for k, s in enumerate(names, start=1):
        first, second = np.flatnonzero(strata == s)
        same = H[k] == H[0, 0]
        mult[second] = np.where(same, 2.0, 0.0)
        mult[first] = np.where(same, 0.0, 2.0)
    return mult, 1.0 / H.shape[1], np.ones(H.shape[1])


def replicate_design(design: Design, type: str = "bootstrap", *, replicates: int = 200,
                     seed: int | None = None, multipliers: np.ndarray | None = None,
                     scale: str | float = "rao-wu", hadamard_matrix: np.ndarray | None = None,
                     dtype: str | None = None) -> Design:
    """Add replicate weights to a design that has not been adjusted yet, as R's ``as.svrepdesign``.

    Replicates are formed on the primary sampling units (clusters when the design has
    them, else responses), within first-stage strata where the type uses them.

    Parameters
    ----------
    type : {"JK1", "JKn", "bootstrap", "subbootstrap", "BRR"}
        JK1 drops one primary unit at a time (scale (1 - f)(m - 1)/m with the first-stage
        ``fpc``); JKn drops one at a time within strata (needs strata); ``bootstrap`` resamples
        primary units within strata following ``scale``; ``subbootstrap`` is R's name for the
        Rao-Wu bootstrap; BRR needs two primary units per stratum (half-samples from a Hadamard matrix).
    replicates : int
        Number of bootstrap replicates.
    seed : int, optional
        Seed of the bootstrap draws (recorded in the log).
    multipliers : ndarray (n, R) or (units, R), optional
        Replicate multipliers made elsewhere (e.g. by R's ``as.svrepdesign``), used as given, per
        response or per primary unit; the scale follows ``scale`` (bootstrap) or the type.
    scale : {"rao-wu", "subbootstrap", "bootstrap"} or float
        Bootstrap convention: ``rao-wu`` (default) and ``subbootstrap`` draw m_h - 1 units rescaled
        by m_h / (m_h - 1), scale 1/(R - 1); ``bootstrap`` draws m_h units as R's default
        ``bootweights``, scale mbar/((mbar - 1)(R - 1)); a number sets the scale itself.
    hadamard_matrix : ndarray, optional
        For BRR: the Hadamard matrix (default Sylvester's, at least strata + 1 rows).
    dtype : {"float64", "float32"}, optional
        How the replicate weights are held: by default float64, and float32 when in float64 they would
        take more than :data:`~survey.weights.design.FLOAT32_ABOVE_BYTES` (256 MiB: e.g. 200 replicates
        of more than 167,772 responses). Sums over them are always taken in float64. Adjustments keep it.

    Raises
    ------
    WeightingError
        Unknown type or dtype, a design already adjusted, or strata too small for the type.
    """
    if design.steps:
        raise WeightingError("make replicates before adjusting the weights, so that every adjustment is redone "
                             "on each replicate", code="weighting.replicates_after")
    if type not in REPLICATE_TYPES:
        raise WeightingError(f"unknown replicate type {type!r}", code="weighting.unknown_replicates",
                             params={"type": str(type), "known": ", ".join(REPLICATE_TYPES)},
                             hint="one of " + ", ".join(REPLICATE_TYPES))
    if type in ("JKn", "BRR") and design.strata is None:
        raise WeightingError(f"{type} replicates need strata", code="weighting.jkn_strata", params={"type": type})
    _, strata, psu_of_row = _units(design)
    if multipliers is not None:
        return _given(design, np.asarray(multipliers, dtype=float), type, scale, strata, psu_of_row, dtype)
    popsize = _first_stage_popsize(design, np.unique(psu_of_row, return_index=True)[1])
    if type in ("bootstrap", "subbootstrap"):
        if replicates < 2:
            raise WeightingError("the bootstrap needs at least 2 replicates", code="weighting.bootstrap_size")
        out = replicate_matrix(design.n, replicates, replicate_dtype(design.n, replicates, dtype))
        convention = scale if type == "bootstrap" and isinstance(scale, str) else "rao-wu"
        rep_scale, rscales = _bootstrap(design, strata, psu_of_row, out, np.random.default_rng(seed), convention,
                                        popsize)
        if not isinstance(scale, str):
            rep_scale = float(scale)  # a scale given as a number is used as given
        return _with_replicates(design, out, type, rep_scale, rscales, seed)
    if type == "JK1":
        if popsize is not None and len(np.unique(popsize)) > 1:
            raise WeightingError("JK1 takes one population size; use JKn for a stratified design",
                                 code="weighting.jk1_strata")
        m, rep_scale, rscales = _jk1(len(strata), None if popsize is None else float(popsize[0]))
    elif type == "JKn":
        m, rep_scale, rscales = _jkn(strata, popsize, design.lonely_psu)
    else:
        m, rep_scale, rscales = _brr(strata, hadamard_matrix)
    return _with_replicates(design, _weights_times(design, m, psu_of_row, dtype), type, rep_scale, rscales, None)


def _weights_times(design: Design, mult: np.ndarray, psu_of_row: np.ndarray | None, dtype) -> np.ndarray:
    """Replicate weights ``weights * mult`` (n, R) from multipliers per primary unit (``psu_of_row`` maps rows
    to them) or per response (``psu_of_row`` None), a block of replicates at a time into one matrix."""
    out = replicate_matrix(design.n, mult.shape[1], replicate_dtype(design.n, mult.shape[1], dtype))
    per_block = max(1, BLOCK_BYTES // (8 * max(design.n, 1)))
    for first in range(0, out.shape[1], per_block):
        cols = slice(first, first + per_block)
        rows_mult = mult[:, cols] if psu_of_row is None else mult[psu_of_row, cols]
        out[:, cols] = design.weights[:, None] * rows_mult
    return out


def _given(design: Design, m: np.ndarray, type: str, scale: str | float, strata: np.ndarray,
           psu_of_row: np.ndarray, dtype) -> Design:
    """Replicates from multipliers made elsewhere (per response or per primary unit), bootstrap or BRR."""
    per_row = m.shape[0] == design.n
    if not per_row and m.shape[0] != len(strata):
        raise WeightingError("multipliers need one row per response or per primary unit",
                             code="weighting.multipliers_rows", params={"rows": int(m.shape[0])})
    if type not in ("bootstrap", "subbootstrap", "BRR"):
        raise WeightingError("multipliers made elsewhere are for bootstrap or BRR replicates",
                             code="weighting.multipliers_type", params={"type": type})
    sizes = np.bincount(pd.factorize(strata)[0])
    rep_scale = 1.0 / m.shape[1] if type == "BRR" else _bootstrap_scale(scale, m.shape[1], sizes)
    reps = _weights_times(design, m, None if per_row else psu_of_row, dtype)
    return _with_replicates(design, reps, type, rep_scale, np.ones(m.shape[1]), None)


def _with_replicates(design: Design, reps: np.ndarray, type: str, scale: float, rscales: np.ndarray,
                     seed: int | None) -> Design:
    """The design with its replicate weights ``reps`` (n, R), already multiplied by the weights."""
    note = (Note("replicates_seeded", {"type": type, "count": int(reps.shape[1]), "seed": int(seed)})
            if seed is not None else Note("replicates", {"type": type, "count": int(reps.shape[1])}))
    return replace(design, repweights=reps, rep_type=type, scale=float(scale),
                   rscales=np.asarray(rscales, dtype=float), log=design.log + (note,))


def with_replicates(design: Design, statistic: Callable[[np.ndarray], np.ndarray],
                    covariance: bool = False, *, views: bool = False, keep: bool = True) -> ReplicateResult:
    """Run a statistic on the weights and on every replicate, and form its replicate variance.

    ``statistic(W)`` takes a block of columns of the weight matrix [weights | replicates] (n, 1 + R), as
    float64: the first block starts with the analysis weights, the others hold the next replicates (all of
    them in one block when the matrix takes at most :data:`~survey.weights.design.BLOCK_BYTES`). It returns
    the estimates (k, p) (or (k,)), one row per column of its block, and must treat each column on its own
    (as any statistic computed on each replicate does); a matrix product ``W.T @ Y`` does every variable at
    once. The blocks keep a million responses with 200 replicates from being copied whole (issue 18). Any
    statistic, however composite (a sub-index, the index total), gets its uncertainty through this hook,
    and the replicate variance is formed here only (:func:`replicate_variance`, and
    :func:`replicate_covariance` when ``covariance``; otherwise the result's ``covariance`` is None).

    ``views``: the statistic gets read-only views of the design's own matrices instead of float64 blocks
    (:meth:`Design.weight_blocks` with ``views=True``: float32 replicates at a million responses), and
    must read them in float64 itself. For a statistic that reads a domain's rows at a time: it gathers
    them and upcasts those, and no float64 copy of every row is made for it (the score, issue 18).

    ``keep=False``: the replicate estimates are not held (the result's ``replicates`` is None); their
    variance is summed a block at a time (:class:`_RunningVariance`): the numbers of
    :func:`replicate_variance` up to rounding (tested to a relative 1e-9), without the (R, p) matrix, for a statistic
    of many estimates (the score at a million responses: 201 x 128,000, 206 MB). With ``covariance``, they
    are kept all the same (it needs them).

    Raises
    ------
    WeightingError
        The design has no replicate weights, or the statistic does not give one row per column of W.
    """
    if design.repweights is None:
        raise WeightingError("the design has no replicate weights", code="weighting.no_replicates",
                             hint="use replicate_design first")
    keep = keep or covariance  # a covariance needs the replicate estimates
    thetas = running = None
    for first, W in design.weight_blocks(views=views):
        block = np.asarray(statistic(W), dtype=float)
        block = block.reshape(len(block), -1) if block.ndim else block.reshape(1, 1)
        if block.shape[0] != W.shape[1]:
            raise WeightingError("the statistic must give one row of estimates per weight column",
                                 code="weighting.statistic_shape",
                                 params={"rows": int(block.shape[0]), "columns": int(W.shape[1])})
        del W  # one block of weights at a time
        if not keep:
            if running is None:  # the first block starts with the full-sample estimates
                running = _RunningVariance(design, block[0].copy())  # a copy: not the whole block kept
            running.add(block[1:] if first == 0 else block)
        else:
            if thetas is None:  # filled block by block: no list of blocks beside their concatenation
                thetas = np.empty((1 + design.repweights.shape[1], block.shape[1]))
            thetas[first:first + len(block)] = block
        del block  # not held while the statistic makes the next
    if not keep:
        return ReplicateResult(running.estimate, None, None, running.variance(), running.dropped())
    reps = thetas[1:]
    cov = replicate_covariance(design, reps) if covariance else None
    return ReplicateResult(thetas[0], reps, cov, replicate_variance(design, reps), (~np.isfinite(reps)).sum(axis=0))


class _RunningVariance:
    """:func:`replicate_variance` summed a block of replicate estimates at a time, holding a few numbers per
    estimate instead of every replicate's (see :func:`with_replicates` with ``keep=False``).

    For each estimate, over its finite replicates with a positive rscale (the others add nothing to the
    sum; the scale still counts every finite one, as there): their number N, their mean m (the centre),
    and the sums of ``rscale``, ``rscale * (theta - m)`` and ``rscale * (theta - m)**2``. Each block's own
    sums are taken around its own mean and merged by moving both to the mean of the two (Chan, Golub and
    LeVeque's pairwise update): no sum is taken around a distant value, so none cancels, whatever the
    estimates' size.
    """

    def __init__(self, design: Design, estimate: np.ndarray) -> None:
        self.design, self.estimate = design, estimate
        p = len(estimate)
        self.used, self.count = np.zeros(p, dtype=np.int64), np.zeros(p, dtype=np.int64)
        self.mean, self.s0, self.s1, self.s2 = (np.zeros(p) for _ in range(4))
        self.next = 0  # the replicate the next block starts with

    def add(self, thetas: np.ndarray) -> None:
        """The estimates of the next ``len(thetas)`` replicates, in order."""
        rs = self.design.rscales[self.next:self.next + len(thetas)]
        self.next += len(thetas)
        for first in range(0, thetas.shape[1], _VARIANCE_COLUMNS):  # temporaries of a few columns at a time
            self._add(thetas[:, first:first + _VARIANCE_COLUMNS], rs, slice(first, first + _VARIANCE_COLUMNS))

    def _add(self, thetas: np.ndarray, rs: np.ndarray, cols: slice) -> None:
        ok = np.isfinite(thetas)
        self.used[cols] += ok.sum(axis=0)
        ok &= (rs > 0)[:, None]  # from here, only what enters the sums
        n = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(ok, thetas, 0.0).sum(axis=0) / n
        d = np.subtract(thetas, mean, where=ok, out=np.zeros(thetas.shape))
        s0, s1, s2 = rs @ ok, rs @ d, rs @ (d * d)
        seen = n > 0
        count, centre = self.count[cols], self.mean[cols]  # views: updated in place
        total = count + n
        # the mean of both (where nothing was held yet, the centre is 0 and this is the block's mean)
        merged = np.where(seen, centre + (np.where(seen, mean, 0.0) - centre) * n / np.maximum(total, 1), centre)
        da = np.where(count > 0, centre - merged, 0.0)  # the sums held so far, moved to the merged mean
        db = np.where(seen, mean - merged, 0.0)  # the block's
        s0a, s1a, s2a = self.s0[cols], self.s1[cols], self.s2[cols]
        s2a += 2 * da * s1a + da * da * s0a + np.where(seen, s2 + 2 * db * s1 + db * db * s0, 0.0)
        s1a += da * s0a + np.where(seen, s1 + db * s0, 0.0)
        s0a += np.where(seen, s0, 0.0)
        count += n
        centre[:] = merged

    def variance(self) -> np.ndarray:
        # NaN where no finite replicate has a positive rscale (no centre), as there
        return np.where((self.used > 0) & (self.count > 0), _kept_scales(self.design, self.next, self.used) * self.s2,
                        np.nan)

    def dropped(self) -> np.ndarray:
        return self.next - self.used


def _kept_scale(design: Design, kept: np.ndarray) -> float:
    """The scale over the replicates kept: for the bootstrap 1/(R'-1) in place of 1/(R-1) (times the same
    constant), for the jackknife and BRR the sum is taken as R/R' times that of the kept replicates."""
    return float(_kept_scales(design, len(kept), np.array([int(kept.sum())]))[0])


def _kept_scales(design: Design, total: int, used: np.ndarray) -> np.ndarray:
    """:func:`_kept_scale` for estimates that kept ``used`` (array) of ``total`` replicates each."""
    used = np.asarray(used)
    out = np.full(used.shape, float(design.scale))
    part = used < total
    with np.errstate(invalid="ignore", divide="ignore"):
        if design.rep_type in ("bootstrap", "subbootstrap"):
            out[part] = np.where(used[part] > 1, design.scale * (total - 1) / (used[part] - 1), np.nan)
        else:
            out[part] = np.where(used[part] > 0, design.scale * total / used[part], np.nan)
    return out


#: estimates whose replicate variance is formed at a time (R x this many values per temporary)
_VARIANCE_COLUMNS = 4096


def replicate_variance(design: Design, thetas: np.ndarray) -> np.ndarray:
    """Variances (p,) from replicate estimates (R, p): ``scale * sum(rscales * (theta_r - mean)^2)``.

    A replicate whose estimate is not finite (no respondent left in a category, or a
    weighting that did not converge on it) is left out of that estimate's variance, and the
    scale accounts for it (:func:`_kept_scale`).
    """
    thetas = np.asarray(thetas, dtype=float).reshape(len(thetas), -1)
    ok = np.isfinite(thetas)
    out = np.full(thetas.shape[1], np.nan)
    everywhere = ok.all(axis=0)
    groups: dict[bytes, np.ndarray] = {}
    for j in np.flatnonzero(~everywhere):  # the few estimates not finite on every replicate, by pattern
        groups.setdefault(ok[:, j].tobytes(), []).append(j)
    groups[b"everywhere"] = np.flatnonzero(everywhere)
    for cols in groups.values():  # estimates finite on the same replicates share one computation
        if len(cols) == 0:
            continue
        keep = ok[:, cols[0]]
        if keep.any():
            rs = design.rscales[keep]
            for first in range(0, len(cols), _VARIANCE_COLUMNS):  # a chunk of estimates at a time
                t = thetas[np.ix_(keep, np.asarray(cols[first:first + _VARIANCE_COLUMNS]))]
                dev = t - t[rs > 0].mean(axis=0)
                out[cols[first:first + _VARIANCE_COLUMNS]] = (_kept_scale(design, keep)
                                                              * np.sum(rs[:, None] * dev ** 2, axis=0))
    return out


def replicate_covariance(design: Design, thetas: np.ndarray) -> np.ndarray:
    """Covariance (p, p) from replicate estimates (R, p), ``scale * sum(rscales (theta_r - mean)(theta_r - mean)')``.

    The off-diagonal terms use the replicates finite for every estimate (the scale accounting
    for those left out); the diagonal is :func:`replicate_variance`.
    """
    thetas = np.asarray(thetas, dtype=float).reshape(len(thetas), -1)
    keep = np.all(np.isfinite(thetas), axis=1)
    cov = np.full((thetas.shape[1],) * 2, np.nan)
    if keep.any():
        t, rs = thetas[keep], design.rscales[keep]
        dev = t - t[rs > 0].mean(axis=0)
        cov = _kept_scale(design, keep) * (dev * rs[:, None]).T @ dev
    np.fill_diagonal(cov, replicate_variance(design, thetas))
    return cov
