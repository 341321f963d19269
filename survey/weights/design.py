"""The survey design object: responses, weights, replicate weights and what was done to them.

As in R's ``survey`` package, every estimator takes a :class:`Design`, and
every adjustment (post-stratification, raking, calibration, trimming)
returns a new one; nothing changes a design in place. A design may carry
replicate weights (jackknife or bootstrap); then each adjustment is redone on
every replicate, and standard errors come from the replicates. Without
them, standard errors come from Taylor linearisation, using the record of
adjustments (``steps``) to take the calibration into account.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WeightingError
from ..lazy_import import lazy_module
from .notes import Note

# imported when a design is first calibrated or a variance linearised (group_indicator): scipy.sparse, with
# scipy's array layer, is 0.1 s that the commands which only load or list need not pay (issue 18)
sp = lazy_module("scipy.sparse")

__all__ = ["Design", "Step", "make_design", "subset", "steps_to_arrays", "steps_from_arrays", "LONELY_PSU",
           "replicate_dtype", "replicate_matrix", "replicates_finite", "row_blocks", "FLOAT32_ABOVE_BYTES",
           "BLOCK_BYTES", "VIEW_COLUMNS", "group_indicator"]

#: Replicate weights are held as float64 unless, as float64, they would take more than this many bytes; then as
#: float32 (issue 18). Why: a million responses with 200 replicates is 1.6 GB in float64, and an adjustment
#: needs the old matrix and the new one at once (a design is never changed in place), which cannot fit in
#: 2 GiB with the responses. float32 keeps 7 significant digits of each replicate weight; every sum over
#: them is accumulated in float64 (a block of rows or columns is upcast at a time, never the whole matrix),
#: so a replicate estimate moves by about 1e-7 of its value divided by sqrt(n), far below any standard
#: error (tests/weights/test_memory.py bounds the effect). Small designs, and so every golden test against
#: R, stay in float64; ``replicate_design(..., dtype="float64")`` keeps float64 at any size.
FLOAT32_ABOVE_BYTES = 256 * 2 ** 20

#: bytes of float64 a block of rows or columns takes in the loops that sweep the replicate matrix
BLOCK_BYTES = 64 * 2 ** 20

#: columns of a block given as a view (``weight_blocks(views=True)``): no copy is made, so the bound is
#: not the block's memory but what a statistic makes from it (its estimates, one row per column)
VIEW_COLUMNS = 64


def replicate_dtype(n: int, replicates: int, dtype: str | np.dtype | None = None) -> np.dtype:
    """The dtype replicate weights are held in: ``dtype`` when given (float64 or float32), else float64 up
    to :data:`FLOAT32_ABOVE_BYTES` and float32 above.

    Raises
    ------
    WeightingError
        A dtype other than float64 or float32.
    """
    if dtype is None:
        return np.dtype(np.float32 if 8 * n * replicates > FLOAT32_ABOVE_BYTES else np.float64)
    chosen = np.dtype(dtype)
    if chosen not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise WeightingError(f"replicate weights are float64 or float32, not {chosen}",
                             code="weighting.replicate_dtype", params={"dtype": str(chosen)})
    return chosen


def replicate_matrix(n: int, replicates: int, dtype: np.dtype) -> np.ndarray:
    """An uninitialised (n, R) matrix for replicate weights, each replicate's column contiguous (Fortran
    order), so that a block of replicates is one contiguous piece."""
    return np.empty((n, replicates), dtype=dtype, order="F")


def _read_only(block: np.ndarray) -> np.ndarray:
    """A read-only view of ``block`` (a statistic handed the design's own weights cannot change them)."""
    view = block.view()
    view.flags.writeable = False
    return view


def group_indicator(idx: np.ndarray, k: int):
    """The sparse (k, n) matrix with a 1 at (group of row j, j): ``group_indicator(idx, k) @ x`` sums the rows
    of ``x`` within each of the groups 0 .. k - 1 (``idx``: each row's group)."""
    n = len(idx)
    return sp.csr_matrix((np.ones(n), (idx, np.arange(n))), shape=(k, n))


def row_blocks(n: int, columns: int) -> list[slice]:
    """Slices of rows such that a block of ``columns`` float64 values per row takes about :data:`BLOCK_BYTES`."""
    step = max(16, BLOCK_BYTES // (8 * max(columns, 1)))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]

#: what to do with a stratum that has a single primary unit, as R's ``survey.lonely.psu``
from ..options import LONELY_PSU  # noqa: E402,F401  (one definition, light for the CLI)


@dataclass(frozen=True)
class Step:
    """One adjustment, with what linearisation needs to account for it.

    ``kind`` is ``poststratify`` (``groups``, ``old``, ``new`` weights),
    ``rake`` (``margins``: list of group codes, ``new`` weights) or
    ``greg`` (``X`` model matrix, ``old`` weights, ``g`` factors).
    """

    kind: str
    info: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Design:
    """Responses with their weights.

    Attributes
    ----------
    data : DataFrame
        One row per responding firm.
    weights : ndarray (n,)
        Analysis weights: enterprises represented by each respondent.
    strata : ndarray (n,) or None
        First-stage stratum of each respondent (for linearisation and JKn replicates).
    clusters : ndarray (n, stages) of int or None
        Cluster of each respondent at each sampling stage (column 0: the primary
        sampling unit), numbered so that a cluster lies within one stratum (or one
        cluster of the stage above), as R's ``svydesign(..., nest=TRUE)``. None: every
        response is its own primary unit.
    fpc : ndarray (n, stages) or None
        Population size at each stage: primary units in the stratum, then units in
        the cluster of the stage above (finite population correction). None: with
        replacement (no correction), as R without ``fpc``.
    lonely_psu : str
        A stratum with a single primary unit: ``fail`` (R's default), ``certainty``
        and ``remove`` (no contribution), ``adjust`` (centred at zero, the grand mean)
        or ``average`` (the other strata's average), as R's ``options(survey.lonely.psu)``.
    repweights : ndarray (n, R) or None
        Replicate analysis weights (already multiplied by the weights).
    rep_type : str or None
        ``JK1``, ``JKn`` or ``bootstrap``.
    scale, rscales : float, ndarray (R,)
        Replicate variance = ``scale * sum(rscales * (theta_r - mean(theta))**2)``.
    steps : tuple of Step
        Adjustments applied, in order.
    log : tuple of Note (or str)
        Notes on what was done (merges, trimming, iterations), written in a language when shown
        (:class:`~survey.weights.notes.Note`); plain strings are kept as written (older stores).
    """

    data: pd.DataFrame
    weights: np.ndarray
    strata: np.ndarray | None = None
    clusters: np.ndarray | None = None
    fpc: np.ndarray | None = None
    lonely_psu: str = "fail"
    repweights: np.ndarray | None = None
    rep_type: str | None = None
    scale: float = 1.0
    rscales: np.ndarray | None = None
    steps: tuple[Step, ...] = ()
    log: tuple[Note | str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.data)
        if self.weights.shape != (n,):
            raise WeightingError(f"{len(self.weights)} weights for {n} responses", code="weighting.weights_count",
                                 params={"weights": len(self.weights), "responses": n})
        if self.repweights is not None and self.repweights.shape[0] != n:
            raise WeightingError("replicate weights do not have one row per response", code="weighting.replicate_rows")
        if self.lonely_psu not in LONELY_PSU:
            raise WeightingError(f"unknown lonely_psu {self.lonely_psu!r}", code="weighting.unknown_lonely_psu",
                                 params={"value": str(self.lonely_psu), "known": ", ".join(LONELY_PSU)})

    def psu(self) -> np.ndarray:
        """Primary sampling unit of each response (int codes, unique across strata)."""
        return np.arange(self.n) if self.clusters is None else self.clusters[:, 0]

    def stratum(self) -> np.ndarray:
        """First-stage stratum of each response (int codes; one stratum when unstratified)."""
        if self.strata is None:
            return np.zeros(self.n, dtype=int)
        return pd.factorize(pd.Series(self.strata))[0]

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def dropped_replicates(self) -> int:
        """Replicates left out: a weighting that did not converge (or left a category empty) on them."""
        if self.repweights is None:
            return 0
        return int(np.sum(~replicates_finite(self.repweights)))

    @property
    def has_replicates(self) -> bool:
        return self.repweights is not None

    def all_weights(self) -> np.ndarray:
        """Weights and replicate weights side by side: a new (n, 1 + R) float64 matrix.

        A whole copy of the replicates (1.6 GB at a million responses and 200 replicates): for small
        designs and tests. Estimators and adjustments go through :meth:`weight_blocks` and
        :meth:`with_weights` instead.
        """
        if self.repweights is None:
            return self.weights[:, None].astype(float)
        return np.column_stack([self.weights, self.repweights]).astype(float, copy=False)

    def weight_blocks(self, max_bytes: int | None = None, *, views: bool = False):
        """The weight matrix [weights | replicates] as float64 blocks of whole columns, in order.

        Yields ``(first, block)``: columns ``first .. first + k - 1`` of the (n, 1 + R) matrix, together at
        most ``max_bytes`` (default :data:`BLOCK_BYTES`; at least one column). Block 0 starts with the
        analysis weights. Blocks are read-only views of float64 replicates, or float64 copies of float32
        ones: the whole matrix is never copied at once; a caller that lets go of each block before asking
        for the next holds one block at a time.

        ``views``: every block is a read-only view, nothing copied, in the dtype the design holds (float32
        replicates at a million responses): the weights alone (n, 1), then :data:`VIEW_COLUMNS` replicates
        at a time. For a caller that reads a few rows at a time (a domain's) and upcasts those: a float64
        copy of every row of a block would be made only to read each row once.
        """
        if views:
            yield from self._weight_views()
            return
        per_block = max(1, (max_bytes or BLOCK_BYTES) // (8 * max(self.n, 1)))
        reps = 0 if self.repweights is None else self.repweights.shape[1]
        if reps == 0 or per_block > reps:  # everything in one block, as all_weights
            yield 0, self.all_weights()
            return
        yield 0, np.column_stack([self.weights, self.repweights[:, :per_block - 1]]).astype(float, copy=False)
        for first in range(per_block - 1, reps, per_block):
            block = self.repweights[:, first:first + per_block]
            block = _read_only(block) if block.dtype == np.float64 else block.astype(np.float64)
            yield first + 1, block
            del block  # not kept while the next is made (the caller drops its own reference too)

    def _weight_views(self):
        """:meth:`weight_blocks` as read-only views (``views=True``)."""
        blocks = [(0, self.weights[:, None])]
        if self.repweights is not None:
            blocks += [(first + 1, self.repweights[:, first:first + VIEW_COLUMNS])
                       for first in range(0, self.repweights.shape[1], VIEW_COLUMNS)]
        for first, block in blocks:
            yield first, _read_only(block)

    def with_weights(self, weights: np.ndarray, repweights: np.ndarray | None, step: Step | None = None,
                     note: Note | None = None) -> "Design":
        """A new design owning ``weights`` and ``repweights`` (not copied: the caller made them new)."""
        return replace(self, weights=weights, repweights=repweights,
                       steps=self.steps + ((step,) if step else ()),
                       log=self.log + ((note,) if note else ()))

    def with_all_weights(self, matrix: np.ndarray, step: Step | None = None, note: Note | None = None) -> "Design":
        """A new design with weights (column 0) and replicates (the rest) replaced; replicates keep their dtype."""
        reps = None
        if self.repweights is not None:
            reps = replicate_matrix(self.n, matrix.shape[1] - 1, self.repweights.dtype)
            reps[...] = matrix[:, 1:]
        return self.with_weights(matrix[:, 0].astype(float, copy=True), reps, step, note)


def _columns_of(data: pd.DataFrame, spec, what: str) -> np.ndarray | None:
    """Columns named (a name or a list of names, one per stage) or given as an array: (n, k)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, (list, tuple)) and all(isinstance(c, str) for c in spec):
        missing = [c for c in spec if c not in data.columns]
        if missing:
            raise WeightingError(f"the responses have no column {missing[0]!r} for the design's {what}",
                                 code="weighting.design_column", params={"column": missing[0], "what": what})
        return data[list(spec)].to_numpy()
    values = np.asarray(spec)
    return values.reshape(len(data), -1)


def _nested_codes(ids: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Cluster codes per stage, each cluster nested in its stratum and its cluster of the stage above."""
    codes = np.empty(ids.shape, dtype=np.int64)
    above = strata
    for k in range(ids.shape[1]):
        frame = pd.DataFrame({"above": pd.factorize(pd.Series(above))[0], "id": pd.factorize(pd.Series(ids[:, k]))[0]})
        codes[:, k] = frame.groupby(["above", "id"], sort=False).ngroup().to_numpy()
        above = codes[:, k]
    return codes


def stage_sizes(clusters: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Sampled units per stage (n, stages): primary units in the stratum, then units in the cluster above."""
    sizes = np.empty(clusters.shape, dtype=float)
    above = pd.factorize(pd.Series(strata))[0]
    for k in range(clusters.shape[1]):
        frame = pd.DataFrame({"above": above, "unit": clusters[:, k]})
        sizes[:, k] = frame.groupby("above")["unit"].transform("nunique").to_numpy()
        above = clusters[:, k]
    return sizes


def _population_sizes(fpc: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Population sizes from ``fpc`` given as sizes (all >= 1) or as sampling fractions (all <= 1), as R's as.fpc."""
    if not np.all(np.isfinite(fpc) | (fpc == np.inf)) or np.any(fpc <= 0):
        raise WeightingError("fpc must be positive numbers", code="weighting.bad_fpc")
    if np.any(fpc > 1) and not np.all(fpc >= 1):
        raise WeightingError("fpc must be all population sizes (>= 1) or all sampling fractions (<= 1)",
                             code="weighting.fpc_mixed")
    popsize = fpc.astype(float) if np.any(fpc > 1) else sizes / fpc
    if np.any(popsize < sizes - 1e-9):
        raise WeightingError("fpc implies more units sampled than the population holds",
                             code="weighting.fpc_too_small")
    return popsize


def make_design(data: pd.DataFrame, weights: np.ndarray | str | None = None, *,
                strata: np.ndarray | str | None = None, ids=None, fpc=None,
                population: float | None = None, lonely_psu: str = "fail") -> Design:
    """A design from responses and starting weights, as R's ``svydesign``.

    Parameters
    ----------
    weights : array, column name, or None
        Starting (design) weights. None: from ``fpc`` when given (one over the
        product of the stages' sampling fractions, as R), else equal weights
        ``population / n`` (or 1 when ``population`` is not given).
    strata : array or column name, optional
        First-stage strata of a stratified selection.
    ids : column name, list of column names (one per stage) or array (n, stages), optional
        Clusters of a one- or two-stage cluster sample (R's ``ids = ~psu + ssu``).
        Cluster identifiers need only be unique within their stratum (``nest=TRUE``).
    fpc : column name, list (one per stage) or array, optional
        Finite population correction per stage: population sizes (primary units in
        the stratum; units in the cluster) or sampling fractions.
    lonely_psu : one of :data:`LONELY_PSU`
        Strata with a single primary unit (R's ``survey.lonely.psu``; default ``fail``).

    Raises
    ------
    WeightingError
        Weights that are missing, negative or of the wrong length; unknown columns;
        an ``fpc`` mixing sizes and fractions, below the sample, or with other stages than ``ids``.
    """
    n = len(data)
    if n == 0:
        raise WeightingError("there are no responses to weight", code="weighting.nothing_to_weight")
    data = data.reset_index(drop=True)
    s = _columns_of(data, strata, "strata")
    s = None if s is None else s[:, 0]
    raw_ids = _columns_of(data, ids, "ids")
    clusters = None if raw_ids is None else _nested_codes(raw_ids, s if s is not None else np.zeros(n, dtype=int))
    popsize = None
    raw_fpc = _columns_of(data, fpc, "fpc")
    if raw_fpc is not None:
        codes = clusters if clusters is not None else np.arange(n)[:, None]
        if raw_fpc.shape[1] != codes.shape[1]:
            raise WeightingError("give one fpc per sampling stage named in ids", code="weighting.fpc_stages",
                                 params={"fpc": raw_fpc.shape[1], "stages": codes.shape[1]})
        sizes = stage_sizes(codes, s if s is not None else np.zeros(n, dtype=int))
        popsize = _population_sizes(raw_fpc.astype(float), sizes)
    if weights is None:
        if popsize is not None:
            w = np.prod(popsize / sizes, axis=1)
        else:
            w = np.full(n, (population or n) / n, dtype=float)
    else:
        w = np.asarray(data[weights] if isinstance(weights, str) else weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise WeightingError("starting weights must be one finite, non-negative number per response",
                             code="weighting.bad_start_weights")
    return Design(data, w, strata=s, clusters=clusters, fpc=popsize, lonely_psu=lonely_psu)


def subset(design: Design, rows: str | np.ndarray | pd.Series) -> Design:
    """The design restricted to some responses, keeping the whole design for the variance (R's ``subset``).

    Rows outside get weight 0 (and replicate weights 0) but stay in the design, so strata,
    clusters, their counts and the calibration steps are those of the whole sample: standard
    errors are domain standard errors, as R's ``subset(design, ...)``.

    Parameters
    ----------
    rows : str or boolean array
        A condition on the responses' columns (``"stype == 'E'"``, evaluated by ``DataFrame.eval``)
        or a boolean per response.

    Raises
    ------
    WeightingError
        A condition that cannot be evaluated, or not one boolean per response.
    """
    if isinstance(rows, str):
        try:
            keep = design.data.eval(rows)
        except Exception as exc:  # pandas raises many kinds for a bad expression
            raise WeightingError(f"cannot evaluate the condition {rows!r}: {exc}", code="weighting.bad_subset",
                                 params={"condition": rows, "reason": str(exc)}) from None
    else:
        keep = rows
    keep = np.asarray(keep)
    if keep.shape != (design.n,) or keep.dtype != bool:
        raise WeightingError("a subset needs one true or false per response", code="weighting.subset_shape")
    mask = keep.astype(float)
    reps = None
    if design.repweights is not None:  # same dtype and layout, a block of columns at a time (no float64 copy)
        reps = replicate_matrix(design.n, design.repweights.shape[1], design.repweights.dtype)
        step = max(1, BLOCK_BYTES // (8 * max(design.n, 1)))
        for first in range(0, reps.shape[1], step):
            cols = slice(first, first + step)
            np.multiply(design.repweights[:, cols], mask[:, None], out=reps[:, cols], casting="same_kind")
    return replace(design, weights=design.weights * mask, repweights=reps)


def replicates_finite(repweights: np.ndarray) -> np.ndarray:
    """Whether each replicate column (R,) is finite throughout, a block of columns at a time (no (n, R)
    boolean copy)."""
    step = max(1, BLOCK_BYTES // max(repweights.shape[0], 1))
    return np.concatenate([np.isfinite(repweights[:, first:first + step]).all(axis=0)
                           for first in range(0, repweights.shape[1], step)] or [np.zeros(0, dtype=bool)])


def steps_to_arrays(steps: tuple[Step, ...]) -> dict[str, np.ndarray]:
    """Steps as named arrays (for ``numpy.savez``): ``"i|kind|key"``, and ``"i|kind|key|j"`` for lists.

    Plain arrays, so a stored weighting is read back without unpickling anything.
    """
    out: dict[str, np.ndarray] = {}
    for i, step in enumerate(steps):
        for key, value in step.info.items():
            if isinstance(value, list):
                out.update({f"{i}|{step.kind}|{key}|{j}": np.asarray(v) for j, v in enumerate(value)})
            else:
                out[f"{i}|{step.kind}|{key}"] = np.asarray(value)
    return out


def steps_from_arrays(arrays: dict[str, np.ndarray]) -> tuple[Step, ...]:
    """The inverse of :func:`steps_to_arrays`."""
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    for name in sorted(arrays, key=lambda n: [int(p) if p.isdigit() else p for p in n.split("|")]):
        parts = name.split("|")
        kind, info = found.setdefault(int(parts[0]), (parts[1], {}))
        if len(parts) == 4:
            info.setdefault(parts[2], []).append(arrays[name])
        else:
            info[parts[2]] = arrays[name]
    return tuple(Step(kind, info) for _, (kind, info) in sorted(found.items()))
