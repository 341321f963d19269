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
from .notes import Note

__all__ = ["Design", "Step", "make_design", "steps_to_arrays", "steps_from_arrays"]


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
        Stratum of each respondent (for linearisation and JKn replicates).
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

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def has_replicates(self) -> bool:
        return self.repweights is not None

    def all_weights(self) -> np.ndarray:
        """Weights and replicate weights side by side: (n, 1 + R)."""
        if self.repweights is None:
            return self.weights[:, None]
        return np.column_stack([self.weights, self.repweights])

    def with_all_weights(self, matrix: np.ndarray, step: Step | None = None, note: Note | None = None) -> "Design":
        """A new design with weights (column 0) and replicates (the rest) replaced."""
        return replace(self, weights=matrix[:, 0].copy(),
                       repweights=None if self.repweights is None else matrix[:, 1:].copy(),
                       steps=self.steps + ((step,) if step else ()),
                       log=self.log + ((note,) if note else ()))


def make_design(data: pd.DataFrame, weights: np.ndarray | str | None = None, *,
                strata: np.ndarray | str | None = None, population: float | None = None) -> Design:
    """A design from responses and starting weights.

    Parameters
    ----------
    weights : array, column name, or None
        Starting (design) weights. None: equal weights, ``population / n``
        (or 1 when ``population`` is not given).
    strata : array or column name, optional
        Strata of a stratified selection.

    Raises
    ------
    WeightingError
        Weights that are missing, negative or of the wrong length.
    """
    n = len(data)
    if n == 0:
        raise WeightingError("there are no responses to weight", code="weighting.nothing_to_weight")
    if weights is None:
        w = np.full(n, (population or n) / n, dtype=float)
    else:
        w = np.asarray(data[weights] if isinstance(weights, str) else weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise WeightingError("starting weights must be one finite, non-negative number per response",
                             code="weighting.bad_start_weights")
    s = None
    if strata is not None:
        s = np.asarray(data[strata] if isinstance(strata, str) else strata)
    return Design(data.reset_index(drop=True), w, strata=s)


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
