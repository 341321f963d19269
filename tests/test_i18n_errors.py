"""Every error of the staff-facing files has a code, its words in both catalogues, and reads in either language.

Statically (AST): every error built in the files below (``raise XError(...)``, also ``return XError(...)``
and the :class:`Problem` records an error lists) passes ``code=``; every code it may take has
``error.<code>`` in both catalogues; and every field of the message, its hint and its place is one of
the ``params`` given. Then through the command line (``survey.cli.main``): a sample of errors reads in
Vietnamese with ``--lang vi`` (a Vietnamese word, not the English sentence nor its hint) and in
English with ``--lang en`` (the text of today), and always names the file (and line, and column).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from survey import cli, i18n
from survey.errors import ERROR_CLASSES, Problem, SurveyError

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "survey" / name for name in (
    "ingest/readers.py", "ingest/ingest.py", "ingest/mapping.py", "ingest/report.py", "ingest/validate.py",
    "outputs.py", "jobs.py", "store/store.py")]
ERROR_NAMES = {cls.__name__ for cls in ERROR_CLASSES.values()} | {"Problem"}
FIELD = re.compile(r"(?<!\{)\{(\w+)(?:[:!][^}]*)?\}(?!\})")


@pytest.fixture(autouse=True)
def _no_language_from_the_environment(monkeypatch):
    monkeypatch.delenv("PGI_LANG", raising=False)


# ---------------------------------------------------------------- statically


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constructions(path: Path):
    """Every call of an error class (or Problem) in a file, and whether it is raised directly."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    raised = {id(node.exc) for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None}
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            yield node.exc, True
        elif isinstance(node, ast.Call) and id(node) not in raised and (
                _name(node.func) in ERROR_NAMES):
            yield node, False


def _codes_of(value: ast.expr) -> list[str] | None:
    """The codes a ``code=`` expression may take: its string constants (both sides of an ``if``);
    None for a code passed on from another error (``code=exc.code``)."""
    if isinstance(value, ast.Attribute) and value.attr == "code":
        return None
    if isinstance(value, ast.IfExp):
        return (_codes_of(value.body) or []) + (_codes_of(value.orelse) or [])
    return [value.value] if isinstance(value, ast.Constant) and isinstance(value.value, str) else []


def _param_names(call: ast.Call) -> set[str] | None:
    """The parameter names given (None when they are not a literal dict: passed on from another error)."""
    given = next((k.value for k in call.keywords if k.arg == "params"), None)
    if given is None:
        return set()
    if isinstance(given, ast.Dict) and all(isinstance(k, ast.Constant) for k in given.keys):
        return {k.value for k in given.keys}
    return None


def _calls():
    for path in FILES:
        for call, raised in _constructions(path):
            yield path, call, raised


def test_the_scan_sees_the_errors():
    calls = list(_calls())
    raised = [c for _, c, r in calls if r]
    assert len(raised) >= 60  # readers ~36, ingest 7, mapping 4, outputs 10, jobs 7, store 3...
    assert {p.name for p, _, _ in calls} == {p.name for p in FILES}


def test_every_error_raised_in_the_staff_facing_files_has_a_code():
    missing = []
    for path, call, raised in _calls():
        name = _name(call.func)
        if not raised and name not in ERROR_NAMES:
            continue
        if raised and not (name or "").endswith("Error") and name not in ERROR_NAMES:
            # raise of a helper's result (``raise _ragged(...)``): the helper's own construction is checked
            continue
        if not any(k.arg == "code" for k in call.keywords):
            missing.append(f"{path.relative_to(ROOT)}:{call.lineno} {name}(...)")
    assert missing == []


def missing_fields(where: str, code: str, names: set[str] | None, lang: str) -> list[str]:
    """Fields that ``error.<code>`` (and its hint and place) use in ``lang`` but the call does not pass
    (``names`` None: the call's parameters cannot be read statically, nothing to check)."""
    if names is None:
        return []
    out = []
    for suffix in ("", ".hint", ".where"):
        msgid = f"error.{code}{suffix}"
        if i18n.has_message(msgid, lang):
            unknown = set(FIELD.findall(i18n.translations(lang).gettext(msgid))) - names
            if unknown:
                out.append(f"{where}: {msgid} ({lang}) needs {sorted(unknown)}")
    return out


def code_problems(where: str, code: str, names: set[str] | None, *, hint: bool = False,
                  check=None) -> list[str]:
    """What ``error.<code>`` lacks in each language: its words, its hint (``hint``: the call gives one),
    the fields the call passes; ``check(lang)`` may add a family's own rule (a list of problems).
    The one per-code check of the i18n tests (errors, questionnaire, statistics)."""
    out = []
    for lang in i18n.LANGS:
        if not i18n.has_message(f"error.{code}", lang):
            out.append(f"{where}: no error.{code} in {lang}")
            continue
        if check is not None:
            out += check(lang)
        if hint and not i18n.has_message(f"error.{code}.hint", lang):
            out.append(f"{where}: no error.{code}.hint in {lang}")
        out += missing_fields(where, code, names, lang)
    return out


def test_every_code_has_its_words_in_both_catalogues_and_its_fields_in_its_params():
    problems = []
    codes = set()
    for path, call, _raised in _calls():
        code_kw = next((k for k in call.keywords if k.arg == "code"), None)
        if code_kw is None:
            continue
        found = _codes_of(code_kw.value)
        if found is None:
            continue
        if not found:
            problems.append(f"{path.name}:{call.lineno}: code is not written out")
        names = _param_names(call)
        for code in found:
            codes.add(code)
            problems += code_problems(f"{path.name}:{call.lineno}", code, names)
    assert problems == []
    assert len(codes) >= 60


def test_an_error_with_a_hint_or_a_place_has_them_in_both_languages():
    """A message translated with its hint left in English would read half and half."""
    problems = []
    for path, call, _raised in _calls():
        code_kw = next((k for k in call.keywords if k.arg == "code"), None)
        found = _codes_of(code_kw.value) if code_kw is not None else None
        for code in found or ():
            for kw in ("hint", "where"):
                if any(k.arg == kw for k in call.keywords) or (
                        _name(call.func) == "Problem" and kw == "hint" and len(call.args) > 5):
                    for lang in i18n.LANGS:
                        if not i18n.has_message(f"error.{code}.{kw}", lang):
                            problems.append(f"{path.name}:{call.lineno}: no error.{code}.{kw} in {lang}")
    assert problems == []


def test_the_kind_of_an_output_is_a_word_of_the_language():
    from survey.outputs import KINDS

    for kind in KINDS:
        assert i18n.has_message(f"output.kind.{kind}", "vi") and i18n.has_message(f"output.kind.{kind}", "en")
    assert i18n._("error.output.exists", "vi", kind="report") == "báo cáo đã có sẵn"
    assert i18n._("error.output.exists", "en", kind="table") == "the table already exists"
    assert i18n._("error.output.exists", "en", kind="unknown") == "the unknown already exists"


# ---------------------------------------------------------------- through the command line


def _bomb(path: Path, size: int) -> Path:
    from tests.ingest.test_nothing_lost import _bomb as bomb

    return bomb(path, size)


def _csv(text: str):
    def make(folder: Path) -> Path:
        path = folder / "k.csv"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def _bytes(name: str, data: bytes):
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return make


def _missing(folder: Path) -> Path:
    return folder / "khong_co.csv"


def _existing_report(folder: Path) -> Path:
    (folder / "bao_cao.xlsx").write_bytes(b"an earlier report")
    return _csv("a,b\n1,2\n")(folder)


#: name, the input, extra arguments ({input}, {folder}), a Vietnamese phrase, the English phrase, the place
CASES = [
    ("missing file", _missing, [], "không tìm thấy tệp", "file not found", "{input}: "),
    ("empty file", _bytes("k.csv", b""), [], "tệp trống (0 byte)", "the file is empty (0 bytes)", "{input}: "),
    ("binary .csv", _bytes("k.csv", bytes(range(256)) * 64), [], "dữ liệu nhị phân",
     "it holds binary data", "{input}: "),
    ("ragged row", _csv("a,b,c\n1,2,3\n4,5\n6,7,8\n"), [], "dòng 3 có 2 trường nhưng dòng tiêu đề có 3",
     "row 3 has 2 fields but the header has 3", "{input}:3: "),
    ("cut-off file", _csv("a,b,c\n1,2,3\n4,5\n"), [], "tệp có vẻ bị cắt cụt",
     "the file seems cut off: its last row, row 3, has 2 of the 3 columns", "{input}:3: "),
    ("duplicate header", _csv("a,b,a\n1,2,3\n"), [], "cột 1 và cột 3 trùng tên 'a'",
     "columns 1 and 3 have the same name 'a'", "{input}:1: {column} 3: "),
    ("too-long header", _csv("a," + "x" * 2_001 + "\n1,2\n"), [], "tên cột 2 dài 2.001 ký tự (giới hạn 2.000)",
     "the name of column 2 is 2,001 characters long (limit 2,000)", "{input}:1: {column} 2: "),
    ("over --max-size", _bytes("k.csv", b"a,b\n" + b"1,2\n" * 500_000), ["--max-size", "1"],
     "tệp nặng 2,0 MB, vượt giới hạn 1,0 MB", "the file is 2.0 MB, larger than the limit of 1.0 MB", "{input}: "),
    ("xlsx zip bomb", lambda folder: _bomb(folder / "bomb.xlsx", 60_000_000), [], "lần kích thước khi nén",
     "times its packed size", "{input}: "),
    ("old .xls", _bytes("k.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 600), [], "sổ Excel .xls kiểu cũ",
     "this is an old Excel .xls workbook", "{input}: "),
    ("report over an existing file", _existing_report, ["--report", "{folder}/bao_cao.xlsx"],
     "báo cáo đã có sẵn", "the report already exists", "{folder}/bao_cao.xlsx: "),
    ("report over the input", _csv("a,b\n1,2\n"), ["--report", "{input}"],
     "báo cáo sẽ ghi đè lên tệp đầu vào", "the report would be written over the input file", "{input}: "),
]
_COLUMN = {"vi": "cột", "en": "column"}


def _run(args: list[str], capsys, monkeypatch) -> tuple[int, str, SurveyError | None]:
    seen: list[SurveyError] = []
    real = cli.error_text

    def spy(exc, lang=None):
        seen.append(exc)
        return real(exc, lang)

    monkeypatch.setattr(cli, "error_text", spy)
    status = cli.main(args)
    return status, capsys.readouterr().err, seen[0] if seen else None


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name, make, extra, vi_text, en_text, place", CASES, ids=[c[0] for c in CASES])
def test_an_error_reads_in_the_chosen_language_and_names_the_file(tmp_path, capsys, monkeypatch, lang, name, make,
                                                                  extra, vi_text, en_text, place):
    path = make(tmp_path)
    fill = {"input": str(path), "folder": str(tmp_path), "column": _COLUMN[lang]}
    args = ["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11",
            "--db", f"sqlite:///{tmp_path / 's.sqlite'}", *[a.format(**fill) for a in extra], "--lang", lang]
    status, err, exc = _run(args, capsys, monkeypatch)
    assert status == 1 and exc is not None, err
    assert exc.code not in ERROR_CLASSES, f"{name}: the error has no specific code ({exc.code})"
    assert "Traceback" not in err and err.count("\n") == 1
    assert place.format(**fill) in err, err  # the file (its line, its column) in front of the message
    if lang == "vi":
        assert err.startswith("lỗi: ") and vi_text in err, err
        assert en_text not in err, err
        assert exc.message not in err, err  # nor the English message ...
        hint = exc.problems[0].hint if exc.problems else None
        assert not hint or hint not in err, err  # ... nor its hint
    else:
        assert err.startswith("error: ") and en_text in err and vi_text not in err, err
        assert err == f"error: {exc}\n"  # the English text of today, word for word


def test_a_mapping_that_does_not_fit_lists_its_problems_in_vietnamese(tmp_path, capsys, monkeypatch):
    path = _csv("x,y\n1,2\n")(tmp_path)
    status, err, exc = _run(["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11",
                             "--db", f"sqlite:///{tmp_path / 's.sqlite'}", "--lang", "vi"], capsys, monkeypatch)
    assert status == 1 and exc.code == "ingest.columns_misfit"
    assert err.startswith("lỗi: k.csv: các cột không khớp với bảng hỏi 'monthly_difficulties'\n")
    lines = err.splitlines()[1:]
    assert lines and all(" không có cột cho câu hỏi bắt buộc '" in line for line in lines), err
    assert all(line.startswith("  - k.csv: ") for line in lines) and "(thêm cột đó, hoặc khai báo" in lines[0]
    assert "required question" not in err


def test_a_problem_with_a_code_reads_in_either_language():
    problem = Problem("columns 'a' and 'b' both hold question 'q1'", "k.csv", "b", hint="remove one, or map them "
                      "in a mapping file", code="ingest.same_question",
                      params={"first": "a", "column": "b", "question": "q1"})
    assert i18n.problem_text(problem, "en") == str(problem)
    assert i18n.problem_text(problem, "vi") == ("k.csv: b: cả cột 'a' và cột 'b' đều chứa câu hỏi 'q1' "
                                                "(bỏ một cột, hoặc ánh xạ chúng trong tệp ánh xạ)")
