"""Skip logic, constraints and sub-populations as small, checkable expressions.

Definitions write conditions in a tiny language with Python's syntax, e.g.::

    inspected == 1 and inspection_count > 2
    location in [1, 2]
    selected(supports_received, 3) and not selected(supports_received, 7)
    value >= 1900 and value <= current_year()

Names are question ids; ``value`` is the question's own answer (in a
``constraint``).  Functions: ``selected(q, code)``, ``count_selected(q)``,
``answered(q)``, ``regex(q, 'pattern')``, ``current_year()``.

One parse serves three uses: checking that every name is a question
(definition validation), translating to XPath for XLSForm (KoboToolbox/ODK),
and evaluating on a pandas frame (ingest validation, indicator
sub-populations).  Parsing goes through :mod:`ast` with a whitelist of node
types, so nothing is ever executed.

``regex(q, 'pattern')`` is evaluated with Google RE2, whose time is linear in
the length of the answer whatever the pattern, so a crafted answer cannot
stall a load. RE2 has no backreferences (``\\1``) nor lookarounds
(``(?=...)``, ``(?<!...)``): a pattern using them is refused when the
definition is read. Like ODK Collect (Java) and Enketo (JavaScript), RE2's
``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only; write the characters out
(``[0-9]``, ``[^@ ]``) to say exactly what is meant.
"""
from __future__ import annotations

import ast
import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import re2

from ..errors import ExpressionError, MissingColumnError
from ..lazy_import import lazy_module

# imported at first use: commands that only list or read definitions need neither (issue 18)
np = lazy_module("numpy")
pd = lazy_module("pandas")

__all__ = ["Expression", "parse_expression", "to_xpath", "evaluate", "SELF"]

SELF = "value"
_FUNCTIONS = {"selected": 2, "count_selected": 1, "answered": 1, "regex": 2, "current_year": 0}
_COMPARE = {ast.Eq: "=", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_SELECTS = {"single", "likert", "yesno", "multiple"}


@dataclass(frozen=True)
class Expression:
    """A parsed condition.

    Attributes
    ----------
    source : str
        The text as written in the definition.
    names : frozenset of str
        Question ids it refers to (``value`` excluded).
    """

    source: str
    tree: ast.expr = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()


def parse_expression(text: str) -> Expression:
    """Parse and check an expression.

    Raises
    ------
    ExpressionError
        (a ``ValueError``) If the text is not valid syntax or uses anything outside the
        language; the message says what was not understood.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression is empty", code="expression.empty")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"cannot read expression {text!r}: {exc.msg}", code="expression.syntax",
                              params={"text": text, "reason": exc.msg}) from None
    names: set[str] = set()
    _check(tree, names)
    return Expression(text.strip(), tree, frozenset(names - {SELF}))


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        _check(node.operand, names)
    elif isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise ExpressionError("write chained comparisons with 'and' (a < b and b < c)", code="expression.chained")
        op = type(node.ops[0])
        if op in (ast.In, ast.NotIn):
            if not isinstance(node.comparators[0], (ast.List, ast.Tuple)):
                raise ExpressionError("'in' needs a list of codes, e.g. q in [1, 2]", code="expression.in_list")
        elif op not in _COMPARE:
            raise ExpressionError(f"comparison {op.__name__} is not supported", code="expression.comparison",
                                  params={"op": op.__name__})
        _check(node.left, names)
        _check(node.comparators[0], names)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            if not isinstance(e, ast.Constant):
                raise ExpressionError("lists may hold only codes", code="expression.list_codes")
    elif isinstance(node, ast.Call):
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if fname not in _FUNCTIONS:
            raise ExpressionError(f"unknown function {ast.unparse(node.func)!r}; known: {', '.join(_FUNCTIONS)}",
                                  code="expression.function",
                                  params={"name": ast.unparse(node.func), "known": ", ".join(_FUNCTIONS)})
        if len(node.args) != _FUNCTIONS[fname] or node.keywords:
            raise ExpressionError(f"{fname}() takes {_FUNCTIONS[fname]} argument(s)", code="expression.arguments",
                                  params={"name": fname, "count": _FUNCTIONS[fname]})
        if fname == "regex":
            pattern = node.args[1]
            if not (isinstance(pattern, ast.Constant) and isinstance(pattern.value, str)):
                raise ExpressionError("the pattern of regex() must be text in quotes, e.g. regex(value, '^[0-9]{8}$')",
                                      code="expression.regex_text")
            _regex(pattern.value)
        for a in node.args:
            _check(a, names)
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str)) or isinstance(node.value, bool):
            raise ExpressionError(f"constant {node.value!r} is not a number or text", code="expression.constant",
                                  params={"value": repr(node.value)})
    else:
        raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in an expression", code="expression.not_allowed",
                              params={"text": ast.unparse(node)})


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re2._Regexp:
    """A pattern compiled by RE2 (linear-time matching).

    Raises
    ------
    ExpressionError
        (a ``ValueError``) If RE2 cannot compile it (backreferences, lookarounds, bad syntax).
    """
    options = re2.Options()
    options.log_errors = False  # the error is raised, not printed on stderr
    options.never_capture = True  # only "does it match" is asked: the fastest engine will do
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ExpressionError(f"regex pattern {pattern!r} cannot be used: {reason}; patterns are matched in linear "
                              "time, without backreferences (\\1) or lookarounds ((?=...), (?!...), (?<=...))",
                              code="expression.regex", params={"pattern": pattern, "reason": reason}) from None


# ---------------------------------------------------------------- XPath

def to_xpath(expr: Expression, types: Mapping[str, str]) -> str:
    """Translate to an XLSForm (ODK XPath) expression.

    Parameters
    ----------
    expr : Expression
    types : mapping of question id to pgi-survey type
        Codes compared with a select question are quoted, as ODK stores them as text.
        ``value`` must be in ``types`` when the expression uses it.
    """
    return _xp(expr.tree, types)


def _ref(name: str) -> str:
    return "." if name == SELF else "${" + name + "}"


def _xp_const(node: ast.AST, quoted: bool) -> str:
    v = node.value  # type: ignore[attr-defined]
    if isinstance(v, str) or quoted:
        return "'" + str(v).replace("'", "") + "'"
    return repr(v)


def _is_select(node: ast.AST, types: Mapping[str, str]) -> bool:
    return isinstance(node, ast.Name) and types.get(node.id) in _SELECTS


def _xp(node: ast.AST, types: Mapping[str, str]) -> str:
    if isinstance(node, ast.BoolOp):
        joiner = " and " if isinstance(node.op, ast.And) else " or "
        return joiner.join(_xp_paren(v, types) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        inner = _xp(node.operand, types)
        return f"not({inner})" if isinstance(node.op, ast.Not) else f"-{inner}"
    if isinstance(node, ast.Compare):
        return _xp_compare(node, types)
    if isinstance(node, ast.Call):
        return _xp_call(node, types)
    if isinstance(node, ast.Name):
        return _ref(node.id)
    return _xp_const(node, quoted=False)


def _xp_paren(node: ast.AST, types: Mapping[str, str]) -> str:
    text = _xp(node, types)
    return f"({text})" if isinstance(node, ast.BoolOp) else text


def _xp_side(node: ast.AST, other: ast.AST, types: Mapping[str, str]) -> str:
    if isinstance(node, ast.Constant):
        return _xp_const(node, quoted=_is_select(other, types))
    return _xp(node, types)


def _xp_compare(node: ast.Compare, types: Mapping[str, str]) -> str:
    left, op, right = node.left, type(node.ops[0]), node.comparators[0]
    if op in (ast.In, ast.NotIn):
        lhs = _xp(left, types)
        parts = [f"{lhs} = {_xp_const(e, _is_select(left, types))}" for e in right.elts]  # type: ignore[attr-defined]
        text = "(" + " or ".join(parts) + ")" if len(parts) > 1 else parts[0]
        return f"not({text})" if op is ast.NotIn else text
    return f"{_xp_side(left, right, types)} {_COMPARE[op]} {_xp_side(right, left, types)}"


def _xp_call(node: ast.Call, types: Mapping[str, str]) -> str:
    name, args = node.func.id, node.args  # type: ignore[attr-defined]
    if name == "selected":
        code = args[1]
        code_xp = _xp(code, types) if isinstance(code, ast.Name) else _xp_const(code, quoted=True)
        return f"selected({_xp(args[0], types)}, {code_xp})"
    if name == "count_selected":
        return f"count-selected({_xp(args[0], types)})"
    if name == "answered":
        return f"string-length(string({_xp(args[0], types)})) > 0"
    if name == "regex":
        return f"regex({_xp(args[0], types)}, {_xp_const(args[1], quoted=True)})"
    return "number(format-date(today(), '%Y'))"  # current_year


# ---------------------------------------------------------------- pandas

def evaluate(expr: Expression, frame: pd.DataFrame, self_column: str | None = None,
             today: _dt.date | None = None) -> pd.Series:
    """Evaluate on every row of a frame of answers.

    Single-choice and numeric answers are numbers (NaN when unanswered);
    multiple-choice answers are text holding the chosen codes separated by
    spaces (``"1 3"``), as KoboToolbox exports them.  A comparison with an
    unanswered question is False, as in ODK.

    Returns
    -------
    pandas.Series of bool, aligned with ``frame``.

    Raises
    ------
    MissingColumnError
        (a ``KeyError``) If the frame lacks a column the expression names.
    """
    env = _Env(frame, self_column, today or _dt.date.today())
    out = env.eval(expr.tree)
    if np.isscalar(out):
        out = pd.Series(bool(out), index=frame.index)
    return pd.Series(out, index=frame.index).fillna(False).astype(bool)


@dataclass
class _Env:
    frame: pd.DataFrame
    self_column: str | None
    today: _dt.date

    def column(self, name: str) -> pd.Series:
        col = self.self_column if name == SELF else name
        if col is None or col not in self.frame.columns:
            raise MissingColumnError(f"the data have no column {col!r} needed by an expression", code="missing_column",
                                     params={"column": str(col)})
        return self.frame[col]

    def eval(self, node: ast.AST):
        if isinstance(node, ast.BoolOp):
            vals = [self._bool(self.eval(v)) for v in node.values]
            func: Callable = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = vals[0]
            for v in vals[1:]:
                out = func(out, v)
            return out
        if isinstance(node, ast.UnaryOp):
            val = self.eval(node.operand)
            return np.logical_not(self._bool(val)) if isinstance(node.op, ast.Not) else -val
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Name):
            return self.column(node.id)
        return node.value  # type: ignore[attr-defined]

    @staticmethod
    def _bool(val):
        if isinstance(val, pd.Series):
            return val.fillna(False).astype(bool)
        return bool(val)

    def _numeric(self, val):
        if isinstance(val, pd.Series) and not pd.api.types.is_numeric_dtype(val):
            num = pd.to_numeric(val, errors="coerce")
            return num if num.notna().sum() >= val.notna().sum() else val
        return val

    def _compare(self, node: ast.Compare):
        op = type(node.ops[0])
        left = self._numeric(self.eval(node.left))
        if op in (ast.In, ast.NotIn):
            codes = [e.value for e in node.comparators[0].elts]  # type: ignore[attr-defined]
            res = left.isin(codes) if isinstance(left, pd.Series) else left in codes
            return np.logical_not(res) if op is ast.NotIn else res
        right = self._numeric(self.eval(node.comparators[0]))
        ops = {ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Lt: "__lt__", ast.LtE: "__le__",
               ast.Gt: "__gt__", ast.GtE: "__ge__"}
        if not isinstance(left, pd.Series) and isinstance(right, pd.Series):
            left, right = right, left
            ops = {**ops, ast.Lt: "__gt__", ast.LtE: "__ge__", ast.Gt: "__lt__", ast.GtE: "__le__"}
        res = getattr(left, ops[op])(right)
        if isinstance(left, pd.Series) and op is not ast.NotEq:
            res = res & left.notna()
        return res

    def _call(self, node: ast.Call):
        name, args = node.func.id, node.args  # type: ignore[attr-defined]
        if name == "current_year":
            return self.today.year
        col = self.eval(args[0])
        if name == "selected":
            code = self.eval(args[1])
            if isinstance(code, pd.Series):  # a code per row: one search per distinct code
                out = np.zeros(len(col), dtype=bool)
                for value in code.dropna().unique():
                    rows = (code == value).to_numpy()
                    out[rows] = _search(col[rows], _token_pattern(value)).to_numpy()
                return pd.Series(out, index=col.index)
            return _search(col, _token_pattern(code))
        if name == "count_selected":
            return _count_tokens(col)
        if name == "answered":
            return col.notna() & (col.astype("string").str.strip() != "")
        pattern = str(args[1].value)  # type: ignore[attr-defined]
        _regex(pattern)  # refused here when RE2 cannot match it in linear time (the same engine as _search)
        return _search(col, pattern)


def _token_pattern(*codes) -> str:
    """RE2 pattern of any of ``codes`` as a whole space-separated token ("3" is in "1 3", not in "13")."""
    return r"(?:^|\s)(?:" + "|".join(re2.escape(_code_text(c)) for c in codes) + r")(?:\s|$)"


def holds_codes(col: pd.Series, codes) -> np.ndarray:
    """Per cell, whether a space-separated multiple-choice answer holds any of ``codes`` as a whole token
    (False when missing): the rule of ``selected()``, one RE2 search over the column (scoring and the
    SPSS export's 0/1 columns use it too)."""
    return _search(col, _token_pattern(*codes)).to_numpy()


def _texts(col: pd.Series) -> tuple[np.ndarray, Any]:
    """Where ``col`` holds a value, and those values as an Arrow string array (each as ``str(v)``)."""
    import pyarrow as pa

    present = col.notna().to_numpy()
    values = col[present]
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) != "string":
        values = values.map(str)  # mixed objects (rare): each as str() shows it
    elif not pd.api.types.is_string_dtype(values.dtype):
        values = values.astype(str)  # numbers: as str() writes them
    return present, pa.array(values.astype("string[pyarrow]"))


def _search(col: pd.Series, pattern: str) -> pd.Series:
    """Whether RE2 finds ``pattern`` in each cell (False when missing), in one call over the column.

    Arrow's ``match_substring_regex`` is RE2, the engine :func:`_regex` checks patterns with, so
    matching stays linear in the cell's length (a crafted cell cannot stall a load) and runs in C++
    over the whole column rather than one Python call per cell (issue 18).
    """
    import pyarrow.compute as pc

    present, text = _texts(col)
    out = np.zeros(len(col), dtype=bool)
    if len(text):
        out[present] = pc.match_substring_regex(text, pattern).fill_null(False).to_numpy(zero_copy_only=False)
    return pd.Series(out, index=col.index)


def _count_tokens(col: pd.Series) -> pd.Series:
    """The number of space-separated tokens in each cell (0 when missing)."""
    import pyarrow.compute as pc

    present, text = _texts(col)
    out = np.zeros(len(col), dtype=np.int64)
    if len(text):
        out[present] = pc.count_substring_regex(text, r"\S+").fill_null(0).to_numpy(zero_copy_only=False)
    return pd.Series(out, index=col.index)


def _code_text(code) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code)
