"""Fuzzed ingestion: whatever the file, a load (with the counts adding up) or a clear error, never a crash."""
from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey.errors import SurveyError
from survey.ingest import ingest_file
from survey.questionnaire import load_questionnaire
from survey.store import Store
from tests.fixtures import make_answers, to_sav, windows_1258

MONTHLY = load_questionnaire("monthly_difficulties")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
_counter = itertools.count()


def _ingest(path: Path):
    """Load into a fresh store; return the result, or None after a clear error."""
    store = Store(f"sqlite:///{path.parent / f'fuzz{next(_counter)}.sqlite'}")
    try:
        result = ingest_file(path, MONTHLY, "2025-11", store=store)
    except SurveyError as exc:
        assert str(exc).strip(), "an error must say something"
        return None
    finally:
        store.dispose()
    # every row read is stored (as it was, or with corrections), quarantined, or already there
    assert result.rows_read == result.accepted + result.corrected + result.quarantined + result.already_present
    return result


@FUZZ
@given(data=st.binary(max_size=3000), ext=st.sampled_from([".csv", ".sav", ".xlsx", ".txt", ".dat"]))
def test_random_bytes(data, ext):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"random{ext}"
        path.write_bytes(data)
        _ingest(path)


def _cells(q) -> st.SearchStrategy:
    options = [st.just(""), st.text(max_size=12), st.integers(-5, 3000).map(str)]
    if q.is_select:
        options += [st.sampled_from([str(c.code) for c in MONTHLY.choices(q)]),
                    st.sampled_from([c.label.vi for c in MONTHLY.choices(q)] + [c.label.en for c in MONTHLY.choices(q)])]
    return st.one_of(*options)


QUESTIONS = [q for q in MONTHLY.questions]


@st.composite
def csv_files(draw):
    chosen = draw(st.lists(st.sampled_from(QUESTIONS), min_size=1, max_size=len(QUESTIONS), unique_by=lambda q: q.id))
    if draw(st.integers(0, 9)) < 8:  # most files have every required column, so rows reach validation
        chosen = [q for q in QUESTIONS if q.required and q not in chosen] + chosen
    header_kind = draw(st.sampled_from(["id", "path", "label"]))
    names = [q.id if header_kind == "id" else f"{q.section}/{q.id}" if header_kind == "path" else q.label.vi
             for q in chosen]
    rows = draw(st.lists(st.tuples(*[_cells(q) for q in chosen]), min_size=0, max_size=12))
    with_uuid = draw(st.booleans())
    sep = draw(st.sampled_from([",", ";", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
    lines = [(names + (["_uuid"] if with_uuid else []))]
    for i, row in enumerate(rows):
        lines.append(list(row) + ([f"u{i % 5}"] if with_uuid else []))  # some ids repeat on purpose
    quote = lambda v: '"' + str(v).replace('"', '""') + '"'  # noqa: E731
    text = "\n".join(sep.join(quote(v) for v in line) for line in lines) + "\n"
    if encoding == "cp1258":
        data = windows_1258(text).encode("cp1258", errors="replace")
    else:
        data = text.encode(encoding)
    return data


@FUZZ
@given(data=csv_files())
# found by a fresh clone's run: a row accepted with corrections (optional answers missing) was left out of
# the test's sum, not of the load's
@example(data=b'"locality","sector","size_class","ownership","site","had_difficulty","difficulty_types","severity",'
              b'"description","reported","reported_to","forward_consent","firm_name"\n' + b'"",' * 12 + b'""\n'
              + b'"",' * 12 + b'""\n' + b'"1",' * 8 + b'"","","","",""\n')
def test_random_csv_shapes_encodings_codes_and_labels(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        result = _ingest(path)
        if result is not None:
            again = _ingest_again(path)
            assert again is None or again.rows_read == result.rows_read


def _ingest_again(path: Path):
    return _ingest(path)


@pytest.fixture(scope="module")
def sav_bytes(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("sav")
    return to_sav(make_answers(MONTHLY, 30, seed=5), MONTHLY, folder / "m.sav").read_bytes()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.floats(0.0, 1.0), flip=st.integers(0, 10_000))
@example(cut=1.0, flip=9544)  # a date turned into -2**31 days: pyreadstat's OverflowError, once not caught
def test_damaged_sav_files(sav_bytes, cut, flip):
    data = bytearray(sav_bytes[: max(1, int(len(sav_bytes) * cut))])
    if flip < len(data):
        data[flip] ^= 0xFF
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.sav"
        path.write_bytes(bytes(data))
        _ingest(path)
