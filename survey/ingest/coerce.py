"""Turn raw cells into typed answers, noting every cell that cannot be read.

Typed answers, one column per question id:

- single, likert, yes/no, integer, decimal: float (codes are whole numbers;
  NaN when unanswered);
- multiple: text of the chosen codes in code order, space-separated (``"1 3"``);
- text: NFC-normalised text; date: :class:`datetime.date`.

Answers may come as codes or as labels in Vietnamese or English (compared
after NFC, case and whitespace folding). Numbers accept the Vietnamese
decimal comma (``12,5``) and thousands dots (``1.250.000``).

Every cell is read in time linear in its length, so a crafted cell cannot
stall a load: no pattern that meets cell text backtracks more than once over
it, and the search for multiple-choice labels holding commas is bounded by the
labels themselves.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..arrow_text import arrow_strings, dictionary_codes, is_arrow_text
from ..questionnaire import Question, Questionnaire
from .mapping import ColumnMap, fold

__all__ = ["coerce_answers", "parse_number", "parse_date", "cell_text"]

_TRUE = {"1", "1.0", "true", "x", "yes", "có", "co", "selected", "có chọn"}
_FALSE = {"0", "0.0", "false", "no", "không", "khong", "not selected", "không chọn"}
_YESNO = {"true": 1, "false": 0, "yes": 1, "no": 0, "có": 1, "không": 0, "co": 1, "khong": 0}
_NUMBER = re.compile(r"[+-]?[\d.,]++")
_DIGIT = re.compile(r"\d")
_CODES = re.compile(r"\d+(?:\.0)?")
_SEPARATOR = re.compile(r"[;,|]")
_DIGIT_RUN = re.compile(r"\d+")
_CODE_DIGITS = 18  # more significant digits than this cannot be a choice code


def cell_text(value: Any) -> str:
    """A raw cell as it would be shown to a person ('' when empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number(text: str, whole: bool = False) -> float | None:
    """Read a number written the Vietnamese or English way; None if it is not one.

    ``"12,5"`` and ``"12.5"`` are 12.5; ``"1.250.000"`` and ``"1,250,000"`` are
    1250000; with both marks the last one is the decimal mark. For a whole-number
    question, a single mark followed by exactly three digits is a thousands mark.
    """
    s = re.sub(r"[\s\u00a0]", "", str(text))
    # Two linear checks rather than one pattern such as [\d.,]*\d[\d.,]*, which
    # backtracks quadratically on a long run of digits followed by a letter.
    if not _NUMBER.fullmatch(s) or not _DIGIT.search(s):
        return None
    marks = set(re.findall(r"[.,]", s))
    if len(marks) == 2:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif marks:
        mark = marks.pop()
        groups = s.lstrip("+-").split(mark)
        thousands = len(groups) > 2 or (whole and len(groups[-1]) == 3)
        if thousands and all(len(g) == 3 for g in groups[1:]):
            s = s.replace(mark, "")
        elif len(groups) > 2:
            return None
        else:
            s = s.replace(mark, ".")
    try:
        return float(s)
    except ValueError:
        return None


def parse_date(value: Any) -> dt.date | None:
    """A date from a datetime, ISO text (2025-11-30) or day-first text (30/11/2025); else None."""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text[:19] if "T" in text or ":" in text else text, fmt).date()
        except ValueError:
            continue
    return None


class _Problems(list):
    """Problem records: row, column, question, value, reason, params."""

    def add(self, bad: np.ndarray, values: pd.Series, column: str, qid: str, reason: str, **params) -> None:
        """Note the cells of ``values`` where ``bad`` holds. A chunk usually has none: then this costs one
        test, where taking nothing out of a column cost two pandas selections (issue 18)."""
        if not bad.any():
            return
        for row, value in zip(values.index[bad], values[bad]):
            self.append({"row": int(row), "column": column, "question": qid, "value": cell_text(value),
                         "reason": reason, "params": {"question": qid, "value": cell_text(value), **params}})


def _distinct(raw: pd.Series, func: Callable[[Any], Any], *, blank_missing: bool = True) -> tuple[np.ndarray, list]:
    """``func`` of each distinct value of a column, called once per distinct value, never per cell
    (files repeat answers a lot; a Python call per cell was most of a CSV load, issue 18).

    Returns ``codes`` (for each cell, the position of its value in ``results``; -1 when the cell is
    missing, or blank with ``blank_missing``) and ``results``.
    """
    codes, uniques = factorize(raw)
    keep = np.full(len(uniques) + 1, -1, dtype=np.intp)  # the last entry maps code -1 to -1
    blank = blank_values(uniques) if blank_missing else np.zeros(len(uniques), dtype=bool)
    results: list = []
    for i, value in enumerate(uniques):
        if blank[i]:
            continue
        keep[i] = len(results)
        results.append(func(value))
    return keep[codes], results


def factorize(raw: pd.Series) -> tuple[np.ndarray, Any]:
    """``pandas.factorize(raw)`` (codes, -1 for missing; distinct values in order of appearance); a column
    of Arrow strings (a CSV's) by Arrow's dictionary encoding directly, its distinct values as Python
    texts (pandas' own route through it cost more than the encoding, a CSV load calls it 170 times per
    chunk, issue 18)."""
    if is_arrow_text(raw):
        codes, distinct = dictionary_codes(raw)
        return codes, distinct.to_numpy(zero_copy_only=False)
    return pd.factorize(raw, use_na_sentinel=True)


def _is_text(values: Any) -> bool:
    """Whether every value is a ``str`` (then pandas' string methods read the column in one pass)."""
    return pd.api.types.infer_dtype(values, skipna=False) == "string"


def blank_values(values: np.ndarray) -> np.ndarray:
    """Which values would show as nothing (``cell_text(v).strip() == ""``), column-wise for texts."""
    if isinstance(values, pd.api.extensions.ExtensionArray) and pd.api.types.is_string_dtype(values.dtype):
        return (pd.Series(values).str.strip() == "").to_numpy(dtype=bool, na_value=False)
    if _is_text(values):  # in Arrow's kernels: utf8_trim_whitespace trims what str.strip() does
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))), 0) \
            .to_numpy(zero_copy_only=False)
    # others (dates, numbers, mixed): each distinct value judged once, not each cell (issue 18)
    try:
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # a cell that cannot be hashed: cell by cell
        return np.fromiter((cell_text(v).strip() == "" for v in values), dtype=bool, count=len(values))
    judged = np.fromiter((cell_text(v).strip() == "" for v in distinct), dtype=bool, count=len(distinct))
    blank = np.append(judged, True)[codes]  # code -1 takes the last entry, judged again below
    missing = np.flatnonzero(codes < 0)  # cell by cell: pandas' missing values do not all show alike
    blank[missing] = [cell_text(v).strip() == "" for v in np.asarray(values, dtype=object)[missing]]
    return blank


def _spread(codes: np.ndarray, results: list, missing: Any, index: pd.Index, dtype: Any = object) -> pd.Series:
    """The column of ``results`` by cell (see :func:`_distinct`), ``missing`` where the code is -1."""
    if dtype is float:  # numbers (codes, amounts, 0/1 flags): a float table, no object column to convert
        table = np.array([*results, missing], dtype=float)
        return pd.Series(table[codes], index=index, dtype=float)
    table = np.empty(len(results) + 1, dtype=object)
    for i, value in enumerate(results):  # one by one: a tuple must stay one cell
        table[i] = value
    table[-1] = missing
    return pd.Series(table[codes], index=index, dtype=object).astype(dtype)


def _arrow_spread(codes: np.ndarray, texts: list, index: pd.Index) -> pd.Series:
    """Like :func:`_spread` for texts (a missing one: None or pd.NA), as Arrow strings: one Arrow take,
    no Python object per cell (multiple choices, "1 3", stay Arrow strings like text answers)."""
    import pyarrow as pa

    table = pa.array([None if t is None or t is pd.NA else t for t in texts] + [None], type=pa.string())
    taken = table.take(np.where(codes < 0, len(texts), codes))
    return pd.Series(pd.arrays.ArrowStringArray(taken), index=index)


def _by_unique(raw: pd.Series, func: Callable[[Any], Any], missing: Any = np.nan, dtype: Any = object,
               *, blank_missing: bool = True) -> tuple[pd.Series, np.ndarray]:
    """``func`` of every cell, computed once per distinct value, indexed like ``raw`` (``missing`` where
    the cell is missing or blank); and the mask of cells that hold something."""
    codes, results = _distinct(raw, func, blank_missing=blank_missing)
    return _spread(codes, results, missing, raw.index, dtype), codes >= 0


def _label_lookup(qn: Questionnaire, q: Question) -> dict[str, int]:
    lookup = {}
    for c in qn.choices(q):
        lookup[fold(c.label.vi)] = c.code
        lookup[fold(c.label.en)] = c.code
    if q.type == "yesno":
        lookup.update({k: v for k, v in _YESNO.items() if k not in lookup})
    return lookup


def _coerce_select(raw: pd.Series, qn: Questionnaire, q: Question, column: str, out: _Problems) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    lookup = _label_lookup(qn, q)

    def one(value: Any) -> float:
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return float(value)
        number = parse_number(str(value))
        if number is not None:
            return number
        return float(lookup.get(fold(value), np.nan))

    codes, filled = _by_unique(raw, one, dtype=float)
    bad = filled & codes.isna().to_numpy()
    out.add(bad, raw, column, q.id, "unknown_label")
    return codes


def _whole(digits: str) -> int | None:
    """The value of a run of decimal digits, or None when it is too long to be a choice code.

    Never converts a long run (``int()`` of a huge text is slow, or refused
    past 4300 digits).
    """
    start = 0
    while start < len(digits) - 1 and unicodedata.decimal(digits[start]) == 0:
        start += 1
    return int(digits[start:]) if len(digits) - start <= _CODE_DIGITS else None


def _tokens_to_codes(value: Any, qn: Questionnaire, q: Question) -> tuple[list[int], list[str]]:
    """Codes chosen in a multiple-choice cell, and the tokens not understood.

    Takes time linear in the length of the cell.
    """
    valid = {c.code for c in qn.choices(q)}
    text = cell_text(value).strip()
    tokens = text.split()
    if tokens and all(_CODES.fullmatch(t) for t in tokens):
        numbers = [float(t) for t in tokens]  # a run of 309 digits or more is inf: never a code
        codes = [int(x) if math.isfinite(x) else None for x in numbers]
        return ([c for c in codes if c in valid],
                [t if c is None else str(c) for t, c in zip(tokens, codes) if c not in valid])
    lookup = _label_lookup(qn, q)
    if fold(text) in lookup:
        return [lookup[fold(text)]], []
    # Google Forms joins choices with ", " and a label may itself hold commas:
    # take the longest run of pieces that is a label, then move on.
    # - Splitting on the marks and stripping each piece gives the pieces of
    #   re.split(r"\s*[;,|]\s*"), without that pattern's quadratic backtracking
    #   on a long run of spaces.
    # - A run of k pieces joined by ", " holds k - 1 separators, which folding
    #   keeps, so a run longer than the labels' most separators + 1 is never a
    #   label: bounding the run keeps the search linear in the number of pieces.
    # - Folding works piece by piece (", " never combines with its neighbours
    #   under NFC; case folding goes character by character), so a run folds to
    #   its folded pieces joined by ", " and each piece is folded once. Checked
    #   on the whole cell: where it does not hold, each run is folded as it is.
    span = 1 + max((sum(key.count(sep) for sep in ",;|") for key in lookup), default=0)
    parts = [p for p in (piece.strip() for piece in _SEPARATOR.split(text)) if p]
    folded = [fold(p) for p in parts]
    if ", ".join(folded) != fold(", ".join(parts)):
        folded = None
    codes, unknown, i = [], [], 0
    while i < len(parts):
        for j in range(min(len(parts), i + span), i, -1):
            run = ", ".join(folded[i:j]) if folded is not None else fold(", ".join(parts[i:j]))
            code = lookup.get(run)
            if code is not None:
                codes.append(code)
                i = j
                break
        else:
            part = parts[i]
            number = _whole(part) if _DIGIT_RUN.fullmatch(part) else None
            if number is not None and number in valid:
                codes.append(number)
            else:
                unknown.append(part)
            i += 1
    return codes, unknown


def _canonical(codes: list[int]) -> str:
    return " ".join(str(c) for c in sorted(set(codes)))


def _coerce_multiple(raw: pd.Series, qn: Questionnaire, q: Question, column: str, out: _Problems) -> pd.Series:
    def one(value: Any) -> tuple[Any, str]:
        codes, unknown = _tokens_to_codes(value, qn, q)
        return (_canonical(codes) if codes or not unknown else pd.NA), " ".join(unknown)

    cells, parsed = _distinct(raw, one)
    unknown = _spread(cells, [u for _c, u in parsed], "", raw.index)
    bad = (unknown != "").to_numpy()
    out.add(bad, unknown, column, q.id, "unknown_code")
    return _arrow_spread(cells, [c for c, _u in parsed], raw.index)


def _truthy(value: Any, labels: set[str]) -> float:
    text = fold(cell_text(value))
    if text == "":
        return np.nan
    if text in _TRUE or text in labels:
        return 1.0
    if text in _FALSE:
        return 0.0
    return -1.0  # not understood


def _split_flags(frame: pd.DataFrame, qn: Questionnaire, q: Question, columns: dict[int, str],
                 out: _Problems) -> np.ndarray:
    """Each option column read as chosen (1), not chosen (0) or blank (NaN): rows by options, in the order
    of ``columns``. A value not understood is reported and taken as blank.

    Option columns of Arrow strings (a CSV's) are read together: one dictionary encoding of them all,
    each distinct value judged once per option (a Kobo chunk has 20 option columns, each read on its own
    was most of coercing it, issue 18); other columns one by one, each distinct value once.
    """
    items = list(columns.items())
    labels = []
    for code, _column in items:
        choice = next(c for c in qn.choices(q) if c.code == code)
        labels.append({fold(choice.label.vi), fold(choice.label.en)})
    flags = np.empty((len(frame), len(items)))
    if all(is_arrow_text(frame[c]) for _, c in items):
        import pyarrow as pa
        import pyarrow.compute as pc

        joint = pc.dictionary_encode(pa.concat_arrays([arrow_strings(frame[c]) for _, c in items]))
        codes = joint.indices.fill_null(-1).to_numpy(zero_copy_only=False).reshape(len(items), len(frame))
        distinct = joint.dictionary.to_pylist()
        for i, option_labels in enumerate(labels):  # the last entry: code -1, a missing cell
            flags[:, i] = np.array([_truthy(v, option_labels) for v in distinct] + [np.nan])[codes[i]]
    else:
        for i, (_code, column) in enumerate(items):
            flags[:, i] = _by_unique(frame[column], lambda v, lb=labels[i]: _truthy(v, lb), dtype=float,
                                     blank_missing=False)[0].to_numpy()
    for i, (_code, column) in enumerate(items):
        bad = flags[:, i] == -1.0
        if bad.any():
            out.add(bad, frame[column], column, q.id, "unknown_label")
            flags[bad, i] = np.nan
    return flags


def _coerce_split(frame: pd.DataFrame, qn: Questionnaire, q: Question, columns: dict[int, str],
                  out: _Problems) -> pd.Series:
    """A multiple choice from its option columns (one per code, 0/1 or a label): the chosen codes in code
    order ("1 10"), whatever the order of the columns in the file (a form's choices, and so its
    export's columns, may be out of code order); missing when every option column is blank."""
    columns = dict(sorted(columns.items()))
    flags = _split_flags(frame, qn, q, columns, out)
    answered = ~np.isnan(flags).all(axis=1)
    chosen = np.nan_to_num(flags, nan=0.0).astype(bool)
    names = [str(code) for code in columns]
    # rows choose few distinct sets: the text is joined once per set, not once per row (issue 18);
    # a set is found by the bits of its choices (rows of more than 62 options: by the rows themselves)
    if chosen.shape[1] <= 62:
        sets, rows = np.unique(chosen @ (np.int64(1) << np.arange(chosen.shape[1], dtype=np.int64)),
                               return_inverse=True)
        sets = [[(int(bits) >> k) & 1 for k in range(len(names))] for bits in sets]
    else:
        sets, rows = np.unique(chosen, axis=0, return_inverse=True)
    texts = [" ".join(n for n, on in zip(names, row) if on) for row in sets]
    return _arrow_spread(np.where(answered, rows.reshape(-1), -1), texts, frame.index)


def _coerce_number(raw: pd.Series, q: Question, column: str, out: _Problems) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    whole = q.type == "integer"

    def one(value: Any) -> float:
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return float(value)
        number = parse_number(str(value), whole=whole)
        return np.nan if number is None else number

    values, filled = _by_unique(raw, one, dtype=float)
    bad = filled & values.isna().to_numpy()
    out.add(bad, raw, column, q.id, "not_a_number")
    return values


def _coerce_date(raw: pd.Series, q: Question, column: str, out: _Problems) -> pd.Series:
    dates, filled = _by_unique(raw, parse_date, missing=None)
    bad = filled & dates.isna().to_numpy()
    out.add(bad, raw, column, q.id, "bad_date")
    return dates.where(dates.notna(), pd.NA)


def _coerce_text(raw: pd.Series, nfc: bool = False) -> pd.Series:
    present = raw.dropna()
    if len(present) and (pd.api.types.is_string_dtype(present.dtype) and present.dtype != object
                         or _is_text(present.to_numpy())):
        # texts (CSV): NFC and strip in Arrow's C++ kernels over the column (pandas' normalize is a
        # Python call per cell); utf8_trim_whitespace trims exactly what str.strip() does
        import pyarrow as pa
        import pyarrow.compute as pc

        # The answers stay Arrow strings (pandas' "string[pyarrow]", missing as pd.NA): no Python
        # object per cell, and the staging, fingerprints and rules read them without converting
        arr = arrow_strings(raw)
        arr = pc.utf8_trim_whitespace(arr if nfc else pc.utf8_normalize(arr, "NFC"))
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)  # blank: not answered
        return pd.Series(pd.arrays.ArrowStringArray(arr), index=raw.index, name=raw.name)

    def one(value: Any) -> Any:
        text = unicodedata.normalize("NFC", cell_text(value)).strip()
        return text if text else pd.NA
    return _by_unique(raw, one, missing=pd.NA)[0]


#: most option columns compared as the bits of one int64 (:func:`_cross_check`)
OPTION_BITS = 62


def _cross_check(whole: pd.Series, raw: pd.DataFrame, qn: Questionnaire, q: Question, column: str,
                 options: dict[int, str], out: _Problems) -> None:
    """Rows whose option columns (0/1) say other choices than the whole column: both are the firm's
    answer as exported, so neither is taken over the other; the row is refused with both shown.

    Compared as sets of choices, one bit per option column: each row's chosen options (a missing or
    unreadable option cell is not chosen), and each distinct text of the whole column ("1 3") once; a
    code with no option column is never what the columns say. (Joining every row's chosen options into
    a text and comparing texts cost twice as much, issue 18.) Past :data:`OPTION_BITS` options, as texts.
    """
    columns = dict(sorted(options.items()))
    names = [str(code) for code in columns]
    if len(columns) > OPTION_BITS:
        split = _coerce_split(raw, qn, q, columns, _Problems()).fillna("")
        differ = _texts_differ(whole, split)

        def options_said(i: int) -> str:
            return split.iloc[i]
    else:
        chosen = _split_flags(raw, qn, q, columns, _Problems()) == 1.0  # unreadable flags: reported by no one else
        codes, distinct = dictionary_codes(whole)
        position = {name: i for i, name in enumerate(names)}
        said = np.array([_option_bits(text, position) for text in distinct.to_pylist()] + [0], dtype=np.int64)
        # code -1 (a missing answer) takes the last entry: nothing chosen
        differ = said[codes] != chosen @ (np.int64(1) << np.arange(len(names), dtype=np.int64))

        def options_said(i: int) -> str:
            return " ".join(name for name, on in zip(names, chosen[i]) if on)
    for i in np.flatnonzero(differ):
        row = raw.index[i]
        out.append({"row": int(row), "column": column, "question": q.id, "value": cell_text(raw.at[row, column]),
                    "reason": "options_disagree",
                    "params": {"question": q.id, "value": cell_text(whole.iloc[i]) or "-",
                               "options": options_said(i) or "-"}})


def _option_bits(text: str, position: dict[str, int]) -> int:
    """The set of codes a multiple-choice text names ("1 3"), one bit per option column (``position``:
    code -> bit); -1 when it names a code that has no column (no row of the columns can say it)."""
    bits = 0
    for code in text.split():
        if code not in position:
            return -1
        bits |= 1 << position[code]
    return bits


def _texts_differ(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row by row, whether two columns of texts differ, a missing text read as empty."""
    import pyarrow.compute as pc

    return pc.not_equal(arrow_strings(a).fill_null(""), arrow_strings(b).fill_null("")) \
        .to_numpy(zero_copy_only=False)


def coerce_answers(raw: pd.DataFrame, qn: Questionnaire, cmap: ColumnMap, *,
                   nfc: bool = False) -> tuple[pd.DataFrame, list[dict]]:
    """Typed answers for every question (empty where the file has no column), and cell problems.

    Parameters
    ----------
    nfc : the texts of ``raw`` are already in Unicode NFC, as the readers (:func:`iter_chunks`) yield
        them; then text answers are only trimmed (normalising again was a tenth of a CSV load).

    Returns
    -------
    answers : DataFrame
        Indexed like ``raw`` (file row numbers), one column per question id: numbers and codes as floats
        (NaN missing); text answers (trimmed, a blank one missing) and multiple choices ("1 3") as
        pandas' Arrow strings (``string[pyarrow]``, pd.NA missing); dates as objects.
    problems : list of dict
        ``row``, ``column`` (as in the file), ``question``, ``value``, ``reason``, ``params``.
    """
    out = _Problems()
    cols: dict[str, pd.Series] = {}
    for q in qn.questions:
        if q.id in cmap.split:
            cols[q.id] = _coerce_split(raw, qn, q, cmap.split[q.id], out)
            continue
        if q.id not in cmap.single:
            cols[q.id] = pd.Series(np.nan if (q.is_numeric or q.is_select and q.type != "multiple")
                                   else pd.NA, index=raw.index,
                                   dtype=float if (q.is_numeric or q.is_select and q.type != "multiple") else object)
            continue
        column = cmap.single[q.id]
        series = raw[column]
        if q.type == "multiple":
            cols[q.id] = _coerce_multiple(series, qn, q, column, out)
            if q.id in cmap.cross_check:
                _cross_check(cols[q.id], raw, qn, q, column, cmap.cross_check[q.id], out)
        elif q.is_select:
            cols[q.id] = _coerce_select(series, qn, q, column, out)
        elif q.is_numeric:
            cols[q.id] = _coerce_number(series, q, column, out)
        elif q.type == "date":
            cols[q.id] = _coerce_date(series, q, column, out)
        else:
            cols[q.id] = _coerce_text(series, nfc)
    return pd.DataFrame(cols, index=raw.index), list(out)
