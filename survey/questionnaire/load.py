"""Read and validate questionnaire definitions (YAML) into :class:`Questionnaire`.

A definition is checked as a whole and every problem is reported at once,
each with its file, line and place, e.g.::

    questionnaires/pgi_feedback.yaml:88: sections[2].questions[3].choices:
        question 'env_quality': unknown choice list 'agree5'

Layout of the definitions folder::

    questionnaires/
        settings.yaml           default province
        profile.yaml            firm-profile block shared by every questionnaire
        localities/<key>.yaml   the locality list of one province
        <id>.yaml               one questionnaire each
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import ExpressionError, Problem, QuestionnaireError
from ..period import Period
from .expressions import Expression, parse_expression
from .model import (
    INDICATOR_METHODS,
    NORMALISATIONS,
    NUMERIC_TYPES,
    QUESTION_TYPES,
    SELECT_TYPES,
    Choice,
    ChoiceList,
    Indicator,
    Label,
    Locality,
    Question,
    Questionnaire,
    Section,
    Sensitivity,
    SubIndex,
)

__all__ = ["default_root", "load_questionnaire", "list_questionnaires", "load_locality", "default_province"]

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: a file name key (province of a locality list, included block): no path separators, no dots
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: files of the definitions folder that are not questionnaires
NOT_QUESTIONNAIRES = {
    "settings": "settings.yaml holds the default province, it is not a questionnaire",
    "profile": "profile.yaml is the firm-profile block that questionnaires include, it is not a questionnaire",
}
#: definitions are small hand-written files; anything far larger is refused before parsing
MAX_FILE_BYTES = 1_000_000
#: at most this many YAML nodes and characters of text, counting each use of an alias (*name) in full
MAX_NODES = 50_000
MAX_TEXT = 2 * MAX_FILE_BYTES
RESERVED_IDS = {"value", "_id", "_uuid"}
LOCALITY_LIST = "locality"  # choice list filled from the province's locality file
_KEYS = {
    "top": {"id", "version", "title", "description", "note", "include", "missing_codes", "response_id", "sensitivity",
            "choice_lists", "sections", "subindices", "indicators"},
    "profile": {"choice_lists", "missing_codes", "sections", "note"},
    "section": {"id", "label", "questions"},
    "question": {"id", "type", "label", "hint", "choices", "missing", "required", "relevant",
                 "constraint", "range", "personal", "critical"},
    "indicator": {"id", "subindex", "label", "question", "method", "codes", "among", "direction",
                  "goalposts", "weight", "normalisation", "target"},
    "sensitivity": {"weights", "goalposts", "normalisations", "draws"},
    "subindex": {"number", "label", "short"},
    "choice": {"code", "vi", "en"},
    "locality": {"province", "province_vi", "level", "as_of", "source", "units", "valid_from", "valid_until", "follows"},
}


def default_root() -> Path:
    """The definitions folder: ``$PGI_QUESTIONNAIRES``, else the questionnaires shipped in the package
    (``survey/questionnaires``; the project's ``questionnaires/`` is a link to it)."""
    env = os.environ.get("PGI_QUESTIONNAIRES")
    if env:
        return Path(env)
    from ..reference import questionnaires_path

    return questionnaires_path()


def default_province(root: Path | None = None) -> str:
    """The province key set in ``settings.yaml`` (e.g. ``bac_giang``)."""
    root = root or default_root()
    settings = root / "settings.yaml"
    if not settings.exists():
        raise QuestionnaireError(f"{settings}: file not found; it names the default province",
                                 file=str(settings), hint="create it with a line 'province: <key>'",
                                 code="questionnaire.settings_missing", params={"file": str(settings)})
    data, _ = _read_yaml(settings)
    if not isinstance(data, dict) or not isinstance(data.get("province"), str):
        raise QuestionnaireError("settings must name the province, e.g. 'province: bac_giang'",
                                 file=str(settings), where="province", code="questionnaire.settings_no_province")
    if not KEY_PATTERN.match(data["province"]):
        raise QuestionnaireError(f"settings: province {_short(data['province'])} is not a province key",
                                 file=str(settings), where="province",
                                 hint="the name of a file in localities/, e.g. 'province: bac_giang'",
                                 code="questionnaire.settings_bad_province",
                                 params={"value": _short(data["province"])})
    return data["province"]


# ------------------------------------------------------------------ YAML with line numbers

def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about odd values."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _read_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """Parse a YAML file; return the data and a map from place (``a.b[2].c``) to line.

    Whatever the file holds, this returns or raises :class:`QuestionnaireError`:
    a file too large, anchors that expand without end (``&a [*a]``, the
    "billion laughs"), YAML nesting too deep or a value YAML cannot build
    (``2025-13-45``) are all refused with a message.
    """
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise QuestionnaireError(f"{path}: file not found", file=str(path), code="questionnaire.no_file",
                                 params={"file": str(path)}) from None
    except (OSError, ValueError) as exc:
        raise QuestionnaireError(f"{path}: cannot read the file: {exc}", file=str(path),
                                 code="questionnaire.unreadable",
                                 params={"file": str(path), "reason": str(exc)}) from None
    if len(raw) > MAX_FILE_BYTES:
        raise QuestionnaireError(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
                                 "a definition is a small text file", file=str(path),
                                 code="questionnaire.too_large", params={"limit": MAX_FILE_BYTES // 1_000_000})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError("the file is not UTF-8 text; save it as UTF-8",
                                 file=str(path), hint=str(exc), code="questionnaire.not_utf8",
                                 params={"reason": str(exc)}) from None
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _check_size(node, path)
        data = loader.construct_document(node) if node is not None else None
        lines: dict[str, int] = {}
        if node is not None:
            _map_lines(node, lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise QuestionnaireError(f"cannot read YAML: {getattr(exc, 'problem', None) or exc}", file=str(path),
                                 line=mark.line + 1 if mark else None, code="questionnaire.yaml",
                                 params={"reason": str(getattr(exc, 'problem', None) or exc)}) from None
    except RecursionError:
        raise QuestionnaireError("cannot read YAML: the nesting is too deep", file=str(path),
                                 code="questionnaire.yaml_too_deep") from None
    except (ValueError, TypeError, OverflowError, AttributeError, KeyError, IndexError) as exc:
        # PyYAML lets some errors of its value constructors through, e.g. the date 2025-13-45
        raise QuestionnaireError(f"cannot read YAML: {exc}", file=str(path), code="questionnaire.yaml",
                                 params={"reason": str(exc)}) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


def _check_size(root: yaml.Node, path: Path) -> None:
    """Refuse a node graph that refers to itself, or expands (through aliases) past ``MAX_NODES``
    entries or ``MAX_TEXT`` characters of text: the loader then does a bounded amount of work."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (entries, characters) with aliases expanded
    stack = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            count = 1 + sum(sizes[id(c)][0] for c in children)
            chars = len(node.value) if isinstance(node, yaml.ScalarNode) else sum(sizes[id(c)][1] for c in children)
            if count > MAX_NODES or chars > MAX_TEXT:
                raise QuestionnaireError(f"the definition is too large: more than {MAX_NODES} entries or "
                                         f"{MAX_TEXT} characters, counting each use of an alias (*name) in full",
                                         file=str(path), line=node.start_mark.line + 1,
                                         code="questionnaire.definition_too_large",
                                         params={"entries": MAX_NODES, "chars": MAX_TEXT})
            sizes[key] = (count, chars)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise QuestionnaireError("an alias (*name) refers to the entry that contains it",
                                     file=str(path), line=node.start_mark.line + 1,
                                     code="questionnaire.alias_loop")
        open_.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, False) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, False) for n in node.value)


def _map_lines(root: yaml.Node, lines: dict[str, int]) -> None:
    """Fill ``lines``: place -> line, in document order (places deeper than a sane path are left out)."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > 1000:  # a problem further in is reported at this line
            continue
        children = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                sub = f"{path}.{name}" if path else str(name)
                lines[sub] = key.start_mark.line + 1
                children.append((value, sub))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        stack.extend(reversed(children))


@dataclass
class _Doc:
    """One definition file being read: its data, line map and the shared problem list."""

    path: Path
    data: Any
    lines: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, where: str, message: str, hint: str | None = None, value: Any = None, *,
                code: str | None = None, params: dict[str, Any] | None = None) -> None:
        """Record a problem at ``where``, with the line of that place or of the nearest place above it.

        ``code`` and ``params`` make its message in the catalogue (``error.<code>``, ``error.<code>.hint``);
        ``message`` and ``hint`` are the English text used when the catalogue has none."""
        line, probe = None, where
        while probe and line is None:  # every turn shortens probe, so this ends
            line = self.lines.get(probe)
            probe = _parent(probe)
        if len(where) > 300:
            where = where[:299] + "…"
        self.problems.append(Problem(message, _display(self.path), where or None, line, value, hint,
                                     code=code, params=params))

    def keys(self, obj: dict, allowed_kind: str, where: str) -> None:
        for key in obj:
            if key not in _KEYS[allowed_kind]:
                name = str(key) if len(str(key)) <= 60 else str(key)[:59] + "…"
                self.problem(f"{where}.{key}" if where else str(key), f"unknown field '{name}'",
                             hint="allowed: " + ", ".join(sorted(_KEYS[allowed_kind])),
                             code="questionnaire.unknown_field",
                             params={"name": name, "allowed": ", ".join(sorted(_KEYS[allowed_kind]))})


def _parent(place: str) -> str:
    """The place one step up, always shorter: ``a.b[2].c`` -> ``a.b[2]`` -> ``a.b`` -> ``a`` -> ``""``."""
    match = re.search(r"(\.[^.\[]+|\[\d+\])$", place)
    cut = match.start() if match else max(place.rfind("."), place.rfind("["))
    return place[:cut] if cut > 0 else ""


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ small readers

def _label(doc: _Doc, obj: Any, where: str, required: bool = True) -> Label | None:
    if obj is None:
        if required:
            doc.problem(where, "label is missing", hint="give 'vi' and 'en' texts", code="questionnaire.label_missing")
        return None
    if not isinstance(obj, dict):
        doc.problem(where, "label must have 'vi' and 'en' texts", code="questionnaire.label_shape")
        return None
    texts = {}
    for lang in ("vi", "en"):
        text = obj.get(lang)
        if text is None or (isinstance(text, str) and not text.strip()):
            doc.problem(f"{where}.{lang}" if lang in obj else where, f"missing {lang} label",
                        code="questionnaire.label_lang_missing", params={"lang": lang})
        elif not isinstance(text, str):
            doc.problem(f"{where}.{lang}", f"{lang} label must be text, got {_short(text)}",
                        hint="put it in quotes; YAML reads Yes/No/On/Off as true/false",
                        code="questionnaire.label_not_text", params={"lang": lang, "value": _short(text)})
        else:
            texts[lang] = text.strip()
    extra = set(obj) - {"vi", "en"}
    if extra:
        doc.problem(where, f"unknown language(s) {_short(sorted(map(str, extra)))}", hint="use 'vi' and 'en'",
                    code="questionnaire.label_languages", params={"languages": _short(sorted(map(str, extra)))})
    return Label(texts.get("vi", ""), texts.get("en", ""))


def _number(value: Any) -> bool:
    """A finite int or float (not a bool): ``.nan``, ``.inf`` and ints beyond float range are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _list(doc: _Doc, data: dict, key: str, where: str, what: str) -> list:
    """``data[key]`` as a list (empty when absent); a problem when it is something else."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        doc.problem(f"{where}.{key}" if where else key, f"{key} is a list of {what}",
                    code="questionnaire.not_a_list", params={"key": key, "what": what})
        return []
    return value


def _expression(doc: _Doc, text: Any, where: str) -> Expression | None:
    if text is None:
        return None
    try:
        return parse_expression(str(text))
    except ExpressionError as exc:  # its own code: error.expression.<kind>
        doc.problem(where, str(exc), value=text, code=exc.code, params=exc.params)
        return None
    except (ValueError, SyntaxError, MemoryError) as exc:
        doc.problem(where, str(exc), value=text, code="questionnaire.expression", params={"reason": str(exc)})
        return None
    except RecursionError:
        doc.problem(where, "the expression is nested too deeply", value=text, code="questionnaire.expression_too_deep")
        return None


def _choice(doc: _Doc, obj: Any, where: str) -> Choice | None:
    if not isinstance(obj, dict):
        doc.problem(where, "a choice is written {code: 1, vi: ..., en: ...}", code="questionnaire.choice_shape",
                    params={"example": "{code: 1, vi: ..., en: ...}"})
        return None
    doc.keys(obj, "choice", where)
    code = obj.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        doc.problem(f"{where}.code", f"code must be a whole number, got {_short(code)}",
                    code="questionnaire.choice_code", params={"value": _short(code)})
        return None
    label = _label(doc, {k: obj.get(k) for k in ("vi", "en")}, where)
    return Choice(code, label) if label else None


def _choices(doc: _Doc, items: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(items, list) or not items:
        doc.problem(where, "must be a non-empty list of choices", code="questionnaire.choices_empty")
        return ()
    out, seen = [], set()
    for i, item in enumerate(items):
        c = _choice(doc, item, f"{where}[{i}]")
        if c is None:
            continue
        if c.code in seen:
            doc.problem(f"{where}[{i}].code", f"duplicate code {c.code}", code="questionnaire.duplicate_code",
                        params={"code": c.code})
        seen.add(c.code)
        out.append(c)
    return tuple(out)


# ------------------------------------------------------------------ blocks

@dataclass
class _Parts:
    """What the files of one questionnaire contribute, before cross-checks."""

    choice_lists: dict[str, ChoiceList] = field(default_factory=dict)
    missing_codes: dict[int, Label] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    origins: dict[str, tuple[_Doc, str]] = field(default_factory=dict)  # question id -> place
    _codes: dict[str, frozenset[int]] = field(default_factory=dict)

    def codes(self, name: str) -> frozenset[int]:
        """The answer codes of choice list ``name`` (computed once per list)."""
        if name not in self._codes:
            cl = self.choice_lists.get(name)
            self._codes[name] = frozenset(cl.codes) if cl else frozenset()
        return self._codes[name]


def _read_block(doc: _Doc, parts: _Parts) -> None:
    """Read choice lists, missing codes and sections of one file into ``parts``."""
    data = doc.data
    lists = data.get("choice_lists") or {}
    if not isinstance(lists, dict):
        doc.problem("choice_lists", "choice_lists is a mapping: list name -> list of choices",
                    code="questionnaire.choice_lists_shape")
        lists = {}
    for name, items in lists.items():
        where = f"choice_lists.{name}"
        if not _check_id(doc, name, where, "choice list"):
            continue
        if name in parts.choice_lists:
            doc.problem(where, f"choice list '{name}' is defined twice", code="questionnaire.choice_list_twice",
                        params={"name": name})
        parts.choice_lists[name] = ChoiceList(name, _choices(doc, items, where))
    for i, c in enumerate(_list(doc, data, "missing_codes", "", "choices {code: 98, vi: ..., en: ...}")):
        choice = _choice(doc, c, f"missing_codes[{i}]")
        if choice:
            if choice.code in parts.missing_codes:
                doc.problem(f"missing_codes[{i}].code", f"missing code {choice.code} is declared twice",
                            code="questionnaire.missing_code_twice", params={"code": choice.code})
            parts.missing_codes[choice.code] = choice.label
    sections = data.get("sections")
    if not isinstance(sections, list):
        doc.problem("sections", "must be a list of sections", code="questionnaire.sections_shape")
        return
    for i, s in enumerate(sections):
        section = _section(doc, s, f"sections[{i}]", parts)
        if section:
            parts.sections.append(section)


def _section(doc: _Doc, obj: Any, where: str, parts: _Parts) -> Section | None:
    if not isinstance(obj, dict):
        doc.problem(where, "a section needs id, label and questions", code="questionnaire.section_shape")
        return None
    doc.keys(obj, "section", where)
    sid = obj.get("id")
    _check_id(doc, sid, f"{where}.id", "section")
    label = _label(doc, obj.get("label"), f"{where}.label")
    questions = []
    for j, q in enumerate(_list(doc, obj, "questions", where, "questions")):
        question = _question(doc, q, f"{where}.questions[{j}]", str(sid))
        if question is None:
            continue
        if question.id in parts.origins:
            other_doc, other_where = parts.origins[question.id]
            doc.problem(f"{where}.questions[{j}].id", f"duplicate question id '{question.id}'",
                        hint=f"also at {_display(other_doc.path)} {other_where}",
                        code="questionnaire.duplicate_question",
                        params={"id": question.id, "other_file": _display(other_doc.path),
                                "other_where": other_where})
        parts.origins[question.id] = (doc, f"{where}.questions[{j}]")
        questions.append(question)
    if not questions:
        doc.problem(where, f"section '{sid}' has no questions", code="questionnaire.section_empty",
                    params={"section": sid})
    return Section(str(sid), label or Label("", ""), tuple(questions))


def _check_id(doc: _Doc, value: Any, where: str, what: str) -> bool:
    if not isinstance(value, str) or not ID_PATTERN.match(value) or value in RESERVED_IDS:
        doc.problem(where, f"{what} id {_short(value)} is not a valid name",
                    hint="lower-case letters, digits and _, starting with a letter, at most 32 "
                         "characters; not 'value'",
                    code="questionnaire.bad_id", params={"what": what, "kind": what.replace(" ", "_"),
                                                         "value": _short(value)})
        return False
    return True


def _entry_id(doc: _Doc, obj: Any, where: str, kind: str, needs: str) -> str | None:
    """Open one mapping entry (question, indicator): check its shape, fields and id."""
    if not isinstance(obj, dict):
        doc.problem(where, f"a{'n' if kind[0] in 'aeiou' else ''} {kind} needs {needs}",
                    code="questionnaire.question_shape" if kind == "question" else "questionnaire.indicator_shape",
                    params={"kind": kind, "needs": needs})
        return None
    doc.keys(obj, kind, where)
    ident = obj.get("id")
    return ident if _check_id(doc, ident, f"{where}.id", kind) else None


def _question(doc: _Doc, obj: Any, where: str, section: str) -> Question | None:
    qid = _entry_id(doc, obj, where, "question", "at least id, type and label")
    if qid is None:
        return None
    qtype = obj.get("type")
    if qtype not in QUESTION_TYPES:
        doc.problem(f"{where}.type", f"question '{qid}': unknown type {_short(qtype)}",
                    hint="one of " + ", ".join(QUESTION_TYPES), code="questionnaire.unknown_type",
                    params={"id": qid, "value": _short(qtype), "known": ", ".join(QUESTION_TYPES)})
        return None
    choices = obj.get("choices")
    if qtype in SELECT_TYPES and not choices:
        doc.problem(where, f"question '{qid}': a {qtype} question needs 'choices'",
                    code="questionnaire.needs_choices", params={"id": qid, "type": qtype})
    if qtype not in SELECT_TYPES and choices:
        doc.problem(f"{where}.choices", f"question '{qid}': a {qtype} question takes no choices",
                    code="questionnaire.no_choices", params={"id": qid, "type": qtype})
    missing = obj.get("missing") or []
    if not isinstance(missing, list) or not all(type(m) is int for m in missing):
        doc.problem(f"{where}.missing", f"question '{qid}': missing must be a list of codes",
                    code="questionnaire.missing_shape", params={"id": qid})
        missing = []
    rng = _range(doc, obj.get("range"), f"{where}.range", qid, qtype)
    return Question(
        id=qid, type=qtype, section=section,
        label=_label(doc, obj.get("label"), f"{where}.label") or Label("", ""),
        hint=_label(doc, obj.get("hint"), f"{where}.hint", required=False),
        choices=choices if isinstance(choices, str) else None,
        missing=tuple(missing), required=bool(obj.get("required", False)),
        relevant=_expression(doc, obj.get("relevant"), f"{where}.relevant"),
        constraint=_expression(doc, obj.get("constraint"), f"{where}.constraint"),
        range=rng, personal=bool(obj.get("personal", False)), critical=bool(obj.get("critical", False)),
    )


def _range(doc: _Doc, obj: Any, where: str, qid: str, qtype: str) -> tuple:
    if obj is None:
        return (None, None)
    if qtype not in NUMERIC_TYPES:
        doc.problem(where, f"question '{qid}': only integer and decimal questions take a range",
                    code="questionnaire.range_type", params={"id": qid})
        return (None, None)
    if not isinstance(obj, dict) or set(obj) - {"min", "max"}:
        doc.problem(where, f"question '{qid}': range is written {{min: 0, max: 100}}",
                    code="questionnaire.range_shape", params={"id": qid, "example": "{min: 0, max: 100}"})
        return (None, None)
    lo, hi = obj.get("min"), obj.get("max")
    for key, v in (("min", lo), ("max", hi)):
        if v is not None and v != "current_year" and not _number(v):
            doc.problem(f"{where}.{key}", f"question '{qid}': {key} must be a number or 'current_year'",
                        code="questionnaire.range_bound", params={"id": qid, "key": key})
            return (None, None)
    if _number(lo) and _number(hi) and lo > hi:
        doc.problem(where, f"question '{qid}': min {lo} is above max {hi}", code="questionnaire.range_order",
                    params={"id": qid, "min": lo, "max": hi})
    return (lo, hi)


# ------------------------------------------------------------------ index metadata

def _subindices(doc: _Doc) -> tuple[SubIndex, ...]:
    out = []
    for i, obj in enumerate(_list(doc, doc.data, "subindices", "", "sub-indices")):
        where = f"subindices[{i}]"
        if not isinstance(obj, dict):
            doc.problem(where, "a sub-index needs number, label and short", code="questionnaire.subindex_shape")
            continue
        doc.keys(obj, "subindex", where)
        number = obj.get("number")
        if type(number) is not int or number not in (1, 2, 3, 4):
            doc.problem(f"{where}.number", f"sub-index number must be 1 to 4, got {_short(number)}",
                        code="questionnaire.subindex_number", params={"value": _short(number)})
            continue
        if any(s.number == number for s in out):  # at most four in out
            doc.problem(f"{where}.number", f"sub-index {number} is defined twice",
                        code="questionnaire.subindex_twice", params={"number": number})
            continue
        label = _label(doc, obj.get("label"), f"{where}.label") or Label("", "")
        short = _label(doc, obj.get("short"), f"{where}.short") or label
        out.append(SubIndex(number, label, short))
    return tuple(sorted(out, key=lambda s: s.number))


def _indicator(doc: _Doc, obj: Any, where: str) -> Indicator | None:
    iid = _entry_id(doc, obj, where, "indicator", "id, subindex, label, question and method")
    if iid is None:
        return None
    method = obj.get("method")
    if method not in INDICATOR_METHODS:
        doc.problem(f"{where}.method", f"indicator '{iid}': unknown method {_short(method)}",
                    hint="one of " + ", ".join(INDICATOR_METHODS), code="questionnaire.unknown_method",
                    params={"id": iid, "value": _short(method), "known": ", ".join(INDICATOR_METHODS)})
    direction = obj.get("direction", "positive")
    if direction not in ("positive", "negative"):
        doc.problem(f"{where}.direction", f"indicator '{iid}': direction must be positive or negative",
                    code="questionnaire.direction", params={"id": iid})
    weight = obj.get("weight", 1)
    if not _number(weight) or weight <= 0:
        doc.problem(f"{where}.weight", f"indicator '{iid}': weight must be a positive number, got {_short(weight)}",
                    code="questionnaire.weight", params={"id": iid, "value": _short(weight)})
        weight = 1
    goalposts = obj.get("goalposts", [0, 1])
    if (not isinstance(goalposts, list) or len(goalposts) != 2
            or not all(_number(g) for g in goalposts) or goalposts[0] == goalposts[1]):
        doc.problem(f"{where}.goalposts", f"indicator '{iid}': goalposts are two different numbers [low, high]",
                    code="questionnaire.goalposts", params={"id": iid})
        goalposts = [0, 1]
    codes = obj.get("codes") or []
    if not isinstance(codes, list) or not all(type(c) is int for c in codes):
        doc.problem(f"{where}.codes", f"indicator '{iid}': codes must be a list of codes",
                    code="questionnaire.codes_shape", params={"id": iid})
        codes = []
    normalisation = obj.get("normalisation", "goalposts")
    if normalisation not in NORMALISATIONS:
        doc.problem(f"{where}.normalisation", f"indicator '{iid}': unknown normalisation {_short(normalisation)}",
                    hint="one of " + ", ".join(NORMALISATIONS), code="questionnaire.unknown_normalisation",
                    params={"id": iid, "value": _short(normalisation), "known": ", ".join(NORMALISATIONS)})
    target = obj.get("target")
    if normalisation == "target" and not _number(target):
        doc.problem(where, f"indicator '{iid}': normalisation 'target' needs a numeric 'target'",
                    code="questionnaire.target", params={"id": iid})
    return Indicator(
        id=iid, subindex=obj.get("subindex"), question=obj.get("question"), method=method,
        label=_label(doc, obj.get("label"), f"{where}.label") or Label("", ""),
        codes=tuple(codes), among=_expression(doc, obj.get("among"), f"{where}.among"),
        direction=direction, goalposts=(float(goalposts[0]), float(goalposts[1])),
        weight=float(weight), normalisation=str(normalisation),
        target=float(target) if _number(target) else None,
    )


# ------------------------------------------------------------------ cross-checks

def _check_questions(parts: _Parts) -> None:
    # every check below costs about one step per question, code or name (no question x list loops)
    qtypes = {q.id: q.type for s in parts.sections for q in s.questions}
    names = set(qtypes)
    list_codes = {name: set(cl.codes) for name, cl in parts.choice_lists.items()}
    known_lists = ", ".join(sorted(parts.choice_lists))
    option_like: dict[str, list[str]] = {}  # 'q' -> ['3'] for a question named q_3
    for name in sorted(names):
        m = re.fullmatch(r"(.+)_(\d+)", name)
        if m:
            option_like.setdefault(m[1], []).append(m[2])
    for s in parts.sections:
        for q in s.questions:
            doc, where = parts.origins[q.id]
            if q.choices and q.choices not in parts.choice_lists:
                doc.problem(f"{where}.choices", f"question '{q.id}': unknown list '{q.choices}'",
                            hint="known lists: " + known_lists, code="questionnaire.unknown_list",
                            params={"id": q.id, "list": q.choices, "known": known_lists})
            codes = list_codes.get(q.choices, set()) if q.choices else set()
            for m in q.missing:
                if m not in parts.missing_codes:
                    doc.problem(f"{where}.missing", f"question '{q.id}': missing code {m} is not declared",
                                hint="declare it under missing_codes", code="questionnaire.missing_undeclared",
                                params={"id": q.id, "code": m})
                elif m in codes:
                    doc.problem(f"{where}.missing", f"question '{q.id}': missing code {m} is also an answer code",
                                code="questionnaire.missing_is_answer", params={"id": q.id, "code": m})
            for key, expr in (("relevant", q.relevant), ("constraint", q.constraint)):
                for name in sorted((expr.names if expr else set()) - names):
                    doc.problem(f"{where}.{key}", f"question '{q.id}': {key} refers to missing question '{name}'",
                                code="questionnaire.refers_missing", params={"id": q.id, "key": key, "name": name})
            if q.relevant and q.id in q.relevant.names:
                doc.problem(f"{where}.relevant", f"question '{q.id}': relevance cannot refer to itself",
                            code="questionnaire.relevant_self", params={"id": q.id})
            if q.type == "multiple":
                for suffix in option_like.get(q.id, []):
                    if str(int(suffix)) == suffix and int(suffix) in codes:
                        doc.problem(f"{where}.id", f"question '{q.id}': its option column '{q.id}_{suffix}' "
                                    "clashes with a question of that id", code="questionnaire.option_clash",
                                    params={"id": q.id, "column": f"{q.id}_{suffix}"})


def _check_index(doc: _Doc, subindices: tuple[SubIndex, ...], indicators: list[Indicator],
                 parts: _Parts) -> None:
    questions = {q.id: q for s in parts.sections for q in s.questions}
    numbers = {s.number for s in subindices}
    seen: set[str] = set()
    for i, ind in enumerate(indicators):
        where = f"indicators[{i}]"
        if ind.id in seen or ind.id in questions:
            doc.problem(f"{where}.id", f"duplicate id '{ind.id}'", code="questionnaire.duplicate_id",
                        params={"id": ind.id})
        seen.add(ind.id)
        if type(ind.subindex) is not int or ind.subindex not in numbers:
            doc.problem(f"{where}.subindex", f"indicator '{ind.id}': unknown sub-index {_short(ind.subindex)}",
                        code="questionnaire.unknown_subindex", params={"id": ind.id, "value": _short(ind.subindex)})
        q = questions.get(ind.question) if isinstance(ind.question, str) else None
        if q is None:
            doc.problem(f"{where}.question", f"indicator '{ind.id}' refers to missing question "
                        f"{_short(ind.question)}", code="questionnaire.indicator_question",
                        params={"id": ind.id, "value": _short(ind.question)})
        else:
            _check_indicator_method(doc, where, ind, q, parts)
        for name in sorted((ind.among.names if ind.among else set()) - set(questions)):
            doc.problem(f"{where}.among", f"indicator '{ind.id}': 'among' refers to missing question '{name}'",
                        code="questionnaire.among_missing", params={"id": ind.id, "name": name})
    used = {ind.subindex for ind in indicators if type(ind.subindex) is int}
    for s in subindices:
        if s.number not in used:
            doc.problem("subindices", f"sub-index {s.number} has no indicator", code="questionnaire.subindex_unused",
                        params={"number": s.number})


def _check_indicator_method(doc: _Doc, where: str, ind: Indicator, q: Question, parts: _Parts) -> None:
    if ind.method in ("share", "share_within"):
        if not q.is_select:
            doc.problem(f"{where}.method", f"indicator '{ind.id}': a share needs a choice question, "
                        f"'{q.id}' is {q.type}", code="questionnaire.share_type",
                        params={"id": ind.id, "question": q.id, "type": q.type})
        elif not ind.codes:
            doc.problem(f"{where}.codes", f"indicator '{ind.id}': a share needs the codes that count",
                        code="questionnaire.share_codes", params={"id": ind.id})
        elif q.choices in parts.choice_lists:
            unknown = set(ind.codes) - parts.codes(q.choices)
            if unknown:
                doc.problem(f"{where}.codes", f"indicator '{ind.id}': codes {sorted(unknown)} are not "
                            f"answers of '{q.id}'", code="questionnaire.share_unknown_codes",
                            params={"id": ind.id, "codes": str(sorted(unknown)), "question": q.id})
    if ind.method == "share_within" and ind.among is None:
        doc.problem(where, f"indicator '{ind.id}': share_within needs 'among' (the sub-population)",
                    code="questionnaire.share_within", params={"id": ind.id})
    if ind.method == "mean" and not q.is_numeric:
        doc.problem(f"{where}.method", f"indicator '{ind.id}': a mean needs a number question, "
                    f"'{q.id}' is {q.type}", code="questionnaire.mean_type",
                    params={"id": ind.id, "question": q.id, "type": q.type})


# ------------------------------------------------------------------ locality

def load_locality(province: str, root: Path | None = None, *, period: str | None = None) -> Locality:
    """The locality list of one province, or the list its waves of ``period`` use.

    Without ``period`` this reads ``localities/<province>.yaml``. With ``period`` (``YYYY-MM``) it
    returns that file when its months (``valid_from``/``valid_until``) cover the period, else the
    file that ``follows`` it and covers the period: a Bac Giang wave of 2025-12 gets the communes and
    wards of the new Bac Ninh (``bac_ninh_2025.yaml``), one of 2025-03 the districts of Bac Giang.

    Raises
    ------
    QuestionnaireError
        If the file is missing or invalid, names a province not in the reference province list,
        or no list of the province covers ``period``.
    """
    root = root or default_root()
    if not isinstance(province, str) or not KEY_PATTERN.match(province):
        raise QuestionnaireError(f"{_short(province)} is not a province key",
                                 hint="the name of a file in localities/, e.g. bac_giang",
                                 code="questionnaire.province_key", params={"value": _short(province)})
    path = root / "localities" / f"{province}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (root / "localities").glob("*.yaml"))
        raise QuestionnaireError(f"no locality list for province '{province}'", file=_display(path),
                                 hint="known: " + (", ".join(known) or "none"), code="questionnaire.no_locality",
                                 params={"province": province, "known": ", ".join(known) or "none"})
    locality = _read_locality(path)
    if period is None or locality.covers(str(period)):
        return locality
    month = str(Period.parse(str(period)))
    for other in sorted((root / "localities").glob("*.yaml")):
        if other != path and KEY_PATTERN.match(other.stem):
            candidate = _read_locality(other)
            if province in candidate.follows and candidate.covers(month):
                return candidate
    raise QuestionnaireError(f"no locality list of '{province}' covers the period {month} "
                             f"(its list is for {locality.validity})", file=_display(path),
                             hint="add a list with valid_from and follows: [" + province + "] to localities/",
                             code="questionnaire.locality_period",
                             params={"province": province, "period": month, "validity": locality.validity})


def _month(doc: _Doc, key: str) -> str | None:
    """``valid_from``/``valid_until``: a month written YYYY-MM, or absent."""
    value = doc.data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        doc.problem(key, f"{key} is a month written in quotes as YYYY-MM, e.g. \"2025-07\", not {_short(value)}",
                    code="questionnaire.locality_month", params={"key": key, "value": _short(value)})
        return None
    return value


def _follows(doc: _Doc) -> tuple[str, ...]:
    value = doc.data.get("follows", [])
    if not isinstance(value, list) or not all(isinstance(k, str) and KEY_PATTERN.match(k) for k in value):
        doc.problem("follows", "follows is a list of locality keys, e.g. [bac_giang, bac_ninh]",
                    code="questionnaire.locality_follows")
        return ()
    return tuple(value)


def _read_locality(path: Path) -> Locality:
    """Read and check one locality file (every problem at once)."""
    from ..reference import province_names

    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise QuestionnaireError("a locality file is a mapping", file=_display(path),
                                 code="questionnaire.locality_shape")
    doc = _Doc(path, data, lines)
    doc.keys(data, "locality", "")
    for key in ("province", "province_vi", "level", "as_of", "source"):
        if not isinstance(data.get(key), (str, int)) or not str(data.get(key)).strip():
            doc.problem(key, f"'{key}' is missing", code="questionnaire.field_missing", params={"key": key})
    if not isinstance(data.get("province"), str) or data["province"] not in province_names():
        doc.problem("province", f"unknown province {_short(data.get('province'))}",
                    hint="use the English name from the reference province list",
                    code="questionnaire.unknown_province", params={"value": _short(data.get('province'))})
    if data.get("level") not in ("district", "commune"):
        doc.problem("level", "level must be 'district' (before 1 July 2025) or 'commune'", code="questionnaire.level")
    valid_from, valid_until, follows = _month(doc, "valid_from"), _month(doc, "valid_until"), _follows(doc)
    if valid_from and valid_until and valid_from > valid_until:
        doc.problem("valid_until", f"valid_until {valid_until} is before valid_from {valid_from}",
                    code="questionnaire.locality_months_order", params={"first": valid_from, "last": valid_until})
    units = _choices(doc, data.get("units"), "units")
    if doc.problems:
        raise QuestionnaireError(f"{_display(path)}: {len(doc.problems)} problem(s)", problems=doc.problems,
                                 code="questionnaire.locality_problems",
                                 params={"file": _display(path), "count": len(doc.problems)})
    return Locality(path.stem, str(data["province"]), str(data["province_vi"]), data["level"],
                    str(data["as_of"]), str(data["source"]), ChoiceList(LOCALITY_LIST, units),
                    valid_from, valid_until, follows)


# ------------------------------------------------------------------ entry points

def _resolve(source: str | Path, root: Path) -> Path:
    path = Path(source)
    try:
        if path.suffix in (".yaml", ".yml") or path.exists():
            return path
    except (OSError, ValueError):  # e.g. a NUL character in the name
        raise QuestionnaireError(f"{_short(str(source))} is not a questionnaire id or file",
                                 code="questionnaire.bad_source", params={"value": _short(str(source))}) from None
    if str(source) in NOT_QUESTIONNAIRES or not KEY_PATTERN.match(str(source)):
        return path  # refused by the caller with the list of questionnaires
    return root / f"{source}.yaml"


def _known_names(root: Path) -> str:
    try:
        names = [p.stem for p in list_questionnaires(root)]
    except OSError:
        names = []
    return ", ".join(names) or "none found in " + str(root)


def _known(root: Path) -> str:
    return "questionnaires: " + _known_names(root)


def _open(path: Path, kind: str, problems: list[Problem]) -> _Doc:
    data, lines = _read_yaml(path)
    doc = _Doc(path, data, lines, problems)
    if not isinstance(data, dict):
        raise QuestionnaireError("a definition file is a YAML mapping", file=_display(path),
                                 code="questionnaire.not_mapping")
    doc.keys(data, kind, "")
    return doc


def load_questionnaire(source: str | Path, *, province: str | None = None,
                       root: Path | None = None, period: str | None = None) -> Questionnaire:
    """Load and validate one questionnaire.

    Parameters
    ----------
    source : str or Path
        A questionnaire id (``pgi_feedback``) looked up in ``root``, or a path.
    province : str, optional
        Key of the locality list to use; default from ``settings.yaml``.
    root : Path, optional
        The definitions folder; default :func:`default_root`.
    period : str, optional
        The wave (``YYYY-MM``) the questionnaire is for: its locality question offers the list
        of the province that covers it (districts before 2025-07, communes and wards from then;
        see :func:`load_locality`). Default: the province's own list.

    Raises
    ------
    QuestionnaireError
        Listing every problem found, each with file, line and place.
    """
    root = root or default_root()
    path = _resolve(source, root)
    if path.stem in NOT_QUESTIONNAIRES and path.suffix in ("", ".yaml", ".yml"):
        raise QuestionnaireError(f"'{path.stem}' is not a questionnaire: {NOT_QUESTIONNAIRES[path.stem]}",
                                 hint=_known(root),
                                 code="questionnaire.not_questionnaire_settings" if path.stem == "settings"
                                 else "questionnaire.not_questionnaire_profile",
                                 params={"name": path.stem, "known": _known_names(root)})
    if not path.is_file():
        if path.suffix in (".yaml", ".yml"):
            raise QuestionnaireError("file not found", file=str(path), hint=_known(root),
                                     code="questionnaire.file_not_found", params={"known": _known_names(root)})
        raise QuestionnaireError(f"unknown questionnaire {_short(str(source))}", hint=_known(root),
                                 code="questionnaire.unknown",
                                 params={"value": _short(str(source)), "known": _known_names(root)})
    problems: list[Problem] = []
    doc = _open(path, "top", problems)
    parts = _Parts()
    included: set[str] = set()
    for i, inc in enumerate(_list(doc, doc.data, "include", "", "block names, e.g. [profile]")):
        if not isinstance(inc, str) or not KEY_PATTERN.match(inc):
            doc.problem(f"include[{i}]", f"included block {_short(inc)} is not a block name",
                        hint="the name of a file next to this one, without .yaml, e.g. profile",
                        code="questionnaire.include_name", params={"value": _short(inc)})
            continue
        if inc in included:
            doc.problem(f"include[{i}]", f"block '{inc}' is included twice", code="questionnaire.include_twice",
                        params={"name": inc})
            continue
        included.add(inc)
        inc_path = (path.parent / f"{inc}.yaml")
        if not inc_path.exists():
            doc.problem(f"include[{i}]", f"included block '{inc}' not found", hint=str(inc_path),
                        code="questionnaire.include_missing", params={"name": inc, "path": str(inc_path)})
            continue
        _read_block(_open(inc_path, "profile", problems), parts)
    _read_block(doc, parts)
    locality = None
    if any(q.choices == LOCALITY_LIST for s in parts.sections for q in s.questions):
        locality = load_locality(province or default_province(root), root, period=period)
        parts.choice_lists[LOCALITY_LIST] = locality.units
    _check_questions(parts)
    subindices = _subindices(doc)
    indicators = [ind for i, obj in enumerate(_list(doc, doc.data, "indicators", "", "indicators"))
                  if (ind := _indicator(doc, obj, f"indicators[{i}]")) is not None]
    _check_index(doc, subindices, indicators, parts)
    header = _header(doc)
    response_id = doc.data.get("response_id")
    if response_id is not None:
        rq = next((q for s in parts.sections for q in s.questions if q.id == response_id), None)
        if rq is None or rq.type not in ("text", "integer"):
            doc.problem("response_id", f"response_id must name a text or integer question, not {_short(response_id)}",
                        code="questionnaire.response_id", params={"value": _short(response_id)})
    sensitivity = _sensitivity(doc)
    description = _label(doc, doc.data.get("description"), "description", required=False)
    note = _label(doc, doc.data.get("note"), "note", required=False)
    if problems:
        raise QuestionnaireError(f"{_display(path)}: {len(problems)} problem(s) in the definition",
                                 problems=problems, code="questionnaire.problems",
                                 params={"file": _display(path), "count": len(problems)})
    return Questionnaire(
        id=header["id"], version=header["version"], title=header["title"],
        description=description, note=note,
        source=path, sections=tuple(parts.sections), choice_lists=dict(parts.choice_lists),
        missing_codes=dict(parts.missing_codes), subindices=subindices,
        indicators=tuple(indicators), locality=locality, response_id=response_id, sensitivity=sensitivity,
        period=str(Period.parse(str(period))) if period is not None else None,
    )


def _sensitivity(doc: _Doc) -> Sensitivity:
    obj = doc.data.get("sensitivity")
    if obj is None:
        return Sensitivity()
    if not isinstance(obj, dict):
        doc.problem("sensitivity", "sensitivity is a mapping: weights, goalposts, normalisations, draws",
                    code="questionnaire.sensitivity_shape")
        return Sensitivity()
    doc.keys(obj, "sensitivity", "sensitivity")
    default = Sensitivity()
    weights = obj.get("weights", list(default.weights))
    if (not isinstance(weights, list) or len(weights) != 2 or not all(_number(x) for x in weights)
            or not 0 < weights[0] <= 1 <= weights[1]):
        doc.problem("sensitivity.weights", "weights is a range [low, high] with 0 < low <= 1 <= high",
                    code="questionnaire.sensitivity_weights")
        weights = list(default.weights)
    shift = obj.get("goalposts", default.goalposts)
    if not _number(shift) or not 0 <= shift < 0.5:
        doc.problem("sensitivity.goalposts", "goalposts is a share of the range, from 0 to 0.5",
                    code="questionnaire.sensitivity_goalposts")
        shift = default.goalposts
    norms = obj.get("normalisations", list(default.normalisations))
    if not isinstance(norms, list) or not norms or any(n not in NORMALISATIONS for n in norms):
        doc.problem("sensitivity.normalisations", "normalisations is a list of: " + ", ".join(NORMALISATIONS),
                    code="questionnaire.sensitivity_normalisations", params={"known": ", ".join(NORMALISATIONS)})
        norms = list(default.normalisations)
    draws = obj.get("draws", default.draws)
    if type(draws) is not int or draws < 10:
        doc.problem("sensitivity.draws", "draws is a whole number of at least 10",
                    code="questionnaire.sensitivity_draws")
        draws = default.draws
    return Sensitivity((float(weights[0]), float(weights[1])), float(shift), tuple(norms), draws)


def _header(doc: _Doc) -> dict[str, Any]:
    data = doc.data
    if not isinstance(data.get("id"), str) or not ID_PATTERN.match(data["id"]):
        doc.problem("id", f"questionnaire id {_short(data.get('id'))} is missing or not a valid name",
                    code="questionnaire.id", params={"value": _short(data.get('id'))})
    elif doc.path.stem != data["id"]:
        doc.problem("id", f"id '{data['id']}' differs from the file name '{doc.path.stem}'",
                    code="questionnaire.id_file", params={"id": data["id"], "name": doc.path.stem})
    if not isinstance(data.get("version"), str) or not data["version"].strip():
        doc.problem("version", "version is missing; write it in quotes, e.g. version: \"2026.1\"",
                    code="questionnaire.version")
    return {"id": data.get("id"), "version": str(data.get("version")),
            "title": _label(doc, data.get("title"), "title")}


def list_questionnaires(root: Path | None = None) -> list[Path]:
    """The questionnaire files of a definitions folder (``*.yaml`` with an ``id``).

    Raises
    ------
    QuestionnaireError
        When the folder does not exist (never an empty list for a folder that is not there).
    """
    root = root or default_root()
    if not root.is_dir():
        raise QuestionnaireError(f"{root}: the definitions folder does not exist",
                                 hint="give the folder with --dir or $PGI_QUESTIONNAIRES",
                                 code="questionnaire.no_folder", params={"folder": str(root)})
    out = []
    for path in sorted(root.glob("*.yaml")):
        if path.stem in ("settings", "profile"):
            continue
        out.append(path)
    return out


def iter_problems(paths: Iterable[Path], province: str | None = None) -> Iterable[Problem]:
    """Validate several files; yield every problem (used by ``questionnaire validate``)."""
    for path in paths:
        try:
            load_questionnaire(path, province=province, root=path.parent)
        except QuestionnaireError as exc:
            if len(exc.problems) == 1 and exc.problems[0].message == exc.message and exc.problems[0].code is None:
                # the one problem of an error raised with file=/line=/hint=: its words come from the error's code
                yield replace(exc.problems[0], code=exc.code, params=exc.params)
            else:
                yield from exc.problems or [Problem(exc.message, _display(path), code=exc.code, params=exc.params)]
