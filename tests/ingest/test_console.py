"""The console summary of a load shows what a hostile file holds only as safe, short, masked text."""
from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

from survey.ingest import console_summary, ingest_file
from survey.ingest.report import printable
from tests.fixtures import make_answers, to_kobo_csv

PHONE = "0912-345-678"  # dashes break the phone rule: a "constraint" problem whose value is personal
EMAIL = "an.nguyen\x1b[31m@congty"  # no dot after @: a "constraint" problem; an escape code inside
FAKE = "9\x1b]0;pwned\x07\rRows read: 999 | accepted: 999 | quarantined: 0 | already present: 0"
LONG_HEADER = "H" * 1_500  # under the reader's limit on header length
CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # any control character but the line feed


@pytest.fixture()
def hostile(tmp_path, monthly):
    """A load of a crafted Kobo CSV: escape codes in a header and a value, a long header, personal values."""
    answers = make_answers(monthly, 5, seed=3).astype(object)
    answers.loc[0, "contact_phone"] = PHONE
    answers.loc[1, "contact_email"] = EMAIL
    answers.loc[2, "sector"] = FAKE
    answers.loc[3, "locality"] = 55.0
    answers.loc[4, "size_class"] = 77.0
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    frame["\x1b[2Jsneaky"] = "1"
    frame[LONG_HEADER] = "2"
    frame.to_csv(path, sep=";", index=False)
    return ingest_file(path, "monthly_difficulties", "2025-06", db=f"sqlite:///{tmp_path}/s.sqlite")


def test_the_crafted_file_gives_the_problems_the_tests_rely_on(hostile):
    groups = set(zip(hostile.problems["reason"], hostile.problems["question"]))
    assert {("constraint", "contact_phone"), ("constraint", "contact_email"), ("unknown_label", "sector"),
            ("unknown_code", "locality"), ("unknown_code", "size_class")} <= groups
    assert {"contact_phone", "contact_email"} <= set(hostile.personal)
    assert "\x1b[2Jsneaky" in hostile.unknown_columns and LONG_HEADER in hostile.unknown_columns


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_escape_codes_or_control_characters_reach_the_terminal(hostile, lang):
    out = console_summary(hostile, lang)
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert not CONTROLS.search(out), repr(CONTROLS.search(out))
    assert "sneaky" in out and "pwned" not in out  # the header is shown, the title-setting code is not


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_value_cannot_fake_the_summary_line(hostile, lang):
    lines = re.split(r"[\r\n]", console_summary(hostile, lang))  # a terminal starts a line at either
    starts = "Rows read:" if lang == "en" else "Số dòng đọc:"
    counts = [line for line in lines if line.startswith(starts) or line.startswith("Rows read:")]
    assert len(counts) == 1
    assert counts[0].startswith("Rows read: 5 | " if lang == "en" else "Số dòng đọc: 5 | ")


def _group(out: str, question: str) -> tuple[str, str]:
    """The head line of a question's problem group and the line of its examples."""
    lines = out.split("\n")
    [i] = [n for n, line in enumerate(lines) if f"({question}):" in line]
    return lines[i], lines[i + 1]


@pytest.mark.parametrize("lang, mask", [("vi", "(dữ liệu cá nhân)"), ("en", "(personal data)")])
def test_personal_values_are_masked(hostile, lang, mask):
    out = console_summary(hostile, lang)
    for secret in (PHONE, "0912", "an.nguyen", "congty"):
        assert secret not in out
    for question in ("contact_phone", "contact_email"):
        _head, examples = _group(out, question)
        assert mask in examples


def test_each_problem_group_shows_its_own_example(hostile):
    out = console_summary(hostile, "en")
    locality, locality_examples = _group(out, "locality")
    size, size_examples = _group(out, "size_class")
    assert "“Main locality of operation" in locality and "a value that is not one of the options" in locality
    assert "“Number of employees now”" in size
    assert "row 5: '55'" in locality_examples and "row 6: '77'" in size_examples


def test_the_output_is_short_and_long_texts_are_cut(hostile):
    out = console_summary(hostile, "en")
    assert len(out) < 3_000
    [columns] = [line for line in out.split("\n") if line.startswith("Unknown columns: ")]
    assert "H" * 79 + "…" in columns and "H" * 80 not in columns
    assert max(len(line) for line in out.split("\n")) < 400


def test_a_one_megabyte_header_is_not_echoed(hostile):
    # the reader refuses header names that long; the console must not rely on it
    result = dataclasses.replace(hostile, unknown_columns=["\x1b[2J" + "X" * 1_000_000, "ok"])
    out = console_summary(result, "en")
    assert len(out) < 3_000 and "\x1b" not in out
    assert "X" * 79 + "…, ok" in out


def test_many_unknown_columns_are_counted_not_listed(hostile):
    result = dataclasses.replace(hostile, unknown_columns=[f"extra_{i}" for i in range(500)])
    out = console_summary(result, "en")
    assert "Unknown columns: extra_0, extra_1, " in out and "extra_9 … (+490 more)" in out
    assert "extra_10" not in out and len(out) < 3_000


def test_the_file_name_is_printable(hostile):
    result = dataclasses.replace(hostile, file="evil\x1b[2J\nRows read: 0.csv")
    head = console_summary(result, "en").split("\n")[0]
    assert head.startswith("evil Rows read: 0.csv (kobo_csv")


@pytest.mark.parametrize("text, limit, expected", [
    ("plain Bắc Giang", 80, "plain Bắc Giang"),
    ("a\x1b[2Jb", 80, "ab"),                          # CSI: clear screen
    ("a\x1b[38;5;196mb\x1b[0m", 80, "ab"),            # CSI with parameters
    ("a\x1b]0;title\x07b", 80, "ab"),                 # OSC ended by BEL
    ("a\x1b]8;;http://x\x1b\\b", 80, "ab"),           # OSC ended by ST (a hyperlink)
    ("a\x1bPdcs\x1b\\b", 80, "ab"),                   # DCS string
    ("a\x1bcb", 80, "ab"),                            # two-character escape (reset)
    ("a\x9b2Jb", 80, "a2Jb"),                         # C1 CSI: the control goes, the rest is plain text
    ("a\rb\nc\td\r\ne", 80, "a b c d e"),             # line breaks and tabs are spaces
    ("a\x00\x07\x08\x7f\x85b", 80, "a b"),            # C0, DEL, C1 (NEL is a line break)
    ("file\u202egnp.exe", 80, "filegnp.exe"),         # bidi override
    ("x" * 100, 80, "x" * 79 + "…"),
    ("x" * 100, None, "x" * 100),
    (None, 80, ""), (float("nan"), 80, ""), (55, 80, "55"),
])
def test_printable(text, limit, expected):
    assert printable(text, limit) == expected
