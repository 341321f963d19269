"""Every error and definition problem of survey/questionnaire/ has a code, its words in both catalogues,
and reads in either language.

The same checks as tests/test_i18n_errors.py, for the questionnaire definitions: statically (AST), every
error built in survey/questionnaire/*.py (``raise XError(...)``, ``Problem(...)``) and every problem recorded
while reading a definition (``doc.problem(...)``) passes ``code=``; every code has ``error.<code>`` in both
catalogues (survey/locale/*/LC_MESSAGES/questionnaire.po) with its fields among the ``params`` given, and
its hint in both when it has one. Then through the command line: ``questionnaire validate`` prints each
problem in Vietnamese with ``--lang vi`` and in today's English with ``--lang en``, each naming file:line.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from survey import cli, i18n
from survey.errors import Problem
from survey.questionnaire.load import iter_problems
from tests.conftest import edit_text, line_of
from tests.test_i18n_errors import ERROR_NAMES, _codes_of, _name, _param_names, code_problems

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "survey" / "questionnaire").glob("*.py"))


@pytest.fixture(autouse=True)
def _no_language_from_the_environment(monkeypatch):
    monkeypatch.delenv("PGI_LANG", raising=False)


# ---------------------------------------------------------------- statically


def _calls():
    """Every error, Problem or ``doc.problem(...)`` built in the questionnaire files."""
    for path in FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        raised = {id(node.exc) for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if id(node) in raised and (name or "").endswith("Error") or name in ERROR_NAMES or (
                    name == "problem" and isinstance(node.func, ast.Attribute)):
                yield path, node


def _code(call: ast.Call) -> list[str] | None:
    """The codes a call may take; None when passed on (``code=exc.code``, or ``code=code`` in ``_Doc.problem``)."""
    kw = next((k for k in call.keywords if k.arg == "code"), None)
    if kw is None:
        return []
    if isinstance(kw.value, ast.Name):
        return None
    return _codes_of(kw.value)


def test_the_scan_sees_the_problems():
    calls = list(_calls())
    assert sum(_name(c.func) == "problem" for _, c in calls) >= 70
    assert {p.name for p, _ in calls} >= {"load.py", "expressions.py", "xlsform.py", "spss.py", "model.py",
                                          "__init__.py"}


def test_every_error_and_problem_of_the_questionnaire_has_a_code():
    missing = [f"{path.relative_to(ROOT)}:{call.lineno} {_name(call.func)}(...)" for path, call in _calls()
               if not any(k.arg == "code" for k in call.keywords)]
    assert missing == []


def test_every_code_has_its_words_in_both_catalogues_and_its_fields_in_its_params():
    problems, codes = [], set()
    for path, call in _calls():
        found = _code(call)
        if found is None:
            continue
        if not found:
            problems.append(f"{path.name}:{call.lineno}: code is not written out")
        names = _param_names(call)
        hinted = any(k.arg == "hint" for k in call.keywords) or (
            _name(call.func) == "problem" and len(call.args) > 2) or (
            _name(call.func) == "Problem" and len(call.args) > 5)
        for code in found:
            codes.add(code)
            problems += code_problems(f"{path.name}:{call.lineno}", code, names, hint=hinted)
    assert problems == []
    assert len(codes) >= 100
    assert all(c.startswith(("questionnaire.", "expression.")) or c in ("language", "missing_column") for c in codes)


def test_the_words_used_inside_the_messages_are_in_both_catalogues():
    """``{key:@questionnaire.list_of}``, ``{kind:@questionnaire.thing}``: a word for each key and kind the code uses."""
    tree = ast.parse((ROOT / "survey" / "questionnaire" / "load.py").read_text(encoding="utf-8"))
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in ("_list", "_check_id", "_entry_id"):
            arg = node.args[2 if _name(node.func) == "_list" else 3] if len(node.args) > 3 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                prefix = "list_of" if _name(node.func) == "_list" else "thing"
                words.add(f"questionnaire.{prefix}.{arg.value.replace(' ', '_')}")
    assert len(words) >= 8
    for lang in i18n.LANGS:
        assert sorted(w for w in words if not i18n.has_message(w, lang)) == []


# ---------------------------------------------------------------- every problem of a broken definition


def _broken(qdir: Path) -> Path:
    """pgi_feedback with three different mistakes: an unknown choice list, a duplicate question id, a bad expression."""
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "choices: agree5\n        missing: [98]\n        required: true",
              "choices: agree6\n        missing: [98]\n        required: true")
    edit_text(path, "      - id: pollution_affected\n",
              "      - id: hazard_affected\n        type: yesno\n        label: {vi: \"Trùng\", en: \"Duplicate\"}\n"
              "        choices: yesno\n      - id: pollution_affected\n")
    edit_text(path, 'relevant: "hazard_affected == 1"', 'relevant: "hazard_affected === 1"')
    return path


def test_every_problem_reads_as_today_in_english_and_otherwise_in_vietnamese(qdir):
    path = _broken(qdir)
    edit_text(path, "weight:", "wieght:")  # and more: unknown fields, with their hint
    problems = list(iter_problems([path]))
    assert len(problems) >= 4
    for p in problems:
        assert p.code, p
        assert i18n.problem_text(p, "en") == str(p)  # the English text of today, word for word
        vi = i18n.problem_text(p, "vi")
        assert vi != str(p) and vi.startswith(f"{p.file}:{p.line}: {p.where}: "), vi


def test_an_error_without_a_list_of_problems_reads_in_vietnamese_too(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    (p,) = iter_problems([path])
    assert i18n.problem_text(p, "en") == str(p) and str(p).endswith("a definition file is a YAML mapping")
    assert i18n.problem_text(p, "vi").endswith(": tệp định nghĩa phải là một ánh xạ YAML")


def test_a_problem_of_a_definition_renders_from_its_code():
    p = Problem("question 'q1': unknown list 'agree6'", "q.yaml", "sections[0].questions[0].choices", 12,
                hint="known lists: yesno", code="questionnaire.unknown_list",
                params={"id": "q1", "list": "agree6", "known": "yesno"})
    assert i18n.problem_text(p, "en") == str(p)
    assert i18n.problem_text(p, "vi") == ("q.yaml:12: sections[0].questions[0].choices: câu hỏi 'q1': "
                                          "không có danh sách lựa chọn 'agree6' (các danh sách đã khai báo: yesno)")


# ---------------------------------------------------------------- through the command line


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_validate_prints_each_problem_in_the_chosen_language_with_its_file_and_line(qdir, capsys, lang):
    path = _broken(qdir)
    lines = {"list": line_of(path, "choices: agree6"), "expr": line_of(path, "hazard_affected === 1"),
             "dup": [i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                     if t == "      - id: hazard_affected"][1]}  # the second one is the duplicate
    assert cli.main(["questionnaire", "validate", str(path), "--lang", lang]) == 1
    err = capsys.readouterr().err.splitlines()
    problems, summary = err[:-1], err[-1]
    assert len(problems) == 3, err
    expected = {
        "vi": [f"{path}:{lines['list']}: sections[0].questions[7].choices: câu hỏi 'early_warning': "
               "không có danh sách lựa chọn 'agree6' (các danh sách đã khai báo: ",
               f"{path}:{lines['dup']}: sections[0].questions[3].id: mã câu hỏi 'hazard_affected' bị trùng "
               f"(đã có ở {path} sections[0].questions[1])",
               f"{path}:{lines['expr']}: sections[0].questions[4].relevant: không đọc được biểu thức "
               "'hazard_affected === 1': "],
        "en": [f"{path}:{lines['list']}: sections[0].questions[7].choices: question 'early_warning': "
               "unknown list 'agree6' (known lists: ",
               f"{path}:{lines['dup']}: sections[0].questions[3].id: duplicate question id 'hazard_affected' "
               f"(also at {path} sections[0].questions[1])",
               f"{path}:{lines['expr']}: sections[0].questions[4].relevant: cannot read expression "
               "'hazard_affected === 1': "],
    }[lang]
    for start in expected:
        assert any(line.startswith(start) for line in problems), (start, err)
    if lang == "vi":
        for english in ("unknown list", "duplicate question id", "cannot read expression", "known lists", "also at"):
            assert english not in "\n".join(err), err
    else:
        assert summary.endswith("3 problem(s) in 1 file(s)"), summary
