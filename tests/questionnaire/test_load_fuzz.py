"""Loading a definition always ends: it loads or raises QuestionnaireError, whatever the files hold.

Each example runs under a time limit (SIGALRM), so a loader that loops forever
fails the test with ``DefinitionHang`` instead of blocking the run.  Documents
are random YAML (nested mappings, lists and scalars; raw text made of YAML
tokens; random bytes) and random mutations of the shipped definitions:
keys deleted or renamed, values replaced by values of another type, lists
emptied or doubled, entries swapped.
"""
from __future__ import annotations

import copy
import datetime as dt
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.errors import QuestionnaireError, SurveyError
from survey.questionnaire import default_root, load_questionnaire
from survey.questionnaire.load import _KEYS

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the time limit needs SIGALRM (POSIX)")

LIMIT = 20.0  # seconds: a hang never ends; the shipped definitions load in 0.05 s, crafted ones in 3 s at worst
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class DefinitionHang(Exception):
    """Loading did not finish within the time limit."""


@contextmanager
def time_limit(seconds: float = LIMIT):
    """Raise :class:`DefinitionHang` in the running code when ``seconds`` pass (main thread, POSIX)."""
    def stop(signum, frame):
        raise DefinitionHang(f"loading did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def loads_or_refuses(qid: str, root: Path) -> None:
    """Load ``qid`` from ``root``: a Questionnaire or a QuestionnaireError; anything else fails the test."""
    with time_limit():
        try:
            load_questionnaire(qid, root=root)
        except QuestionnaireError as exc:
            assert isinstance(exc, SurveyError)
            str(exc)  # the message itself can be built


#: which questionnaires read each file
READERS = {
    "pgi_feedback.yaml": ["pgi_feedback"],
    "monthly_difficulties.yaml": ["monthly_difficulties"],
    "profile.yaml": ["monthly_difficulties", "pgi_feedback", "profile"],
    "settings.yaml": ["monthly_difficulties", "settings"],
    "localities/bac_giang.yaml": ["pgi_feedback"],
}
SHIPPED = {name: yaml.safe_load((default_root() / name).read_text(encoding="utf-8")) for name in READERS}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """One copy of questionnaires/ for the module; each example changes one file and puts it back."""
    dst = tmp_path_factory.mktemp("fuzz") / "questionnaires"
    shutil.copytree(default_root(), dst)
    return dst


def load_with(root: Path, name: str, content: str | bytes) -> None:
    """Replace file ``name`` of the copy by ``content``; load every questionnaire that reads it."""
    path = root / name
    original = (default_root() / name).read_bytes()
    try:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        for qid in READERS[name]:
            loads_or_refuses(qid, root)
    finally:
        path.write_bytes(original)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# ----------------------------------------------------------------- strategies

KNOWN_KEYS = sorted(set().union(*_KEYS.values()) | {"province", "vi", "en", "min", "max", "low", "high"})
KNOWN_WORDS = ["profile", "settings", "single", "multiple", "likert", "yesno", "integer", "decimal", "text",
               "date", "share", "share_within", "mean", "goalposts", "minmax", "target", "positive",
               "negative", "current_year", "locality", "yesno", "env_quality", "agree5", "sector",
               "value > 0", "selected(x, 1)", "((((", "a and", "bac_giang", "commune", "district"]
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-5, 200), st.integers(), st.sampled_from([10 ** 400, -(10 ** 400), 2 ** 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    text, st.sampled_from(KNOWN_WORDS), st.sampled_from(KNOWN_KEYS),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), text, st.integers(-3, 3), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)
#: pieces of YAML syntax, glued into documents that are often not valid YAML
TOKENS = ["id: ", "id:", "version: ", "sections:", "questions:", "choice_lists:", "include: [profile]",
          "indicators:", "- ", "  ", "\n", "\t", " ", ": ", "&a ", "&b ", "*a", "*b", "[", "]", "{", "}", ",",
          "? ", "<<: ", "'", '"', "!!int ", "!!float ", "!!timestamp ", "!!binary ", "!!python/object ",
          "!!set ", "!!omap ", "2025-13-45", "2025-02-30", "1e999", ".nan", "-.inf", "0x", "0o", "~", "|", ">",
          "#", "%YAML 1.1\n", "---\n", "...\n", "\x00", "\ufeff", "\x1b[2J", "type: single", "code: 1",
          "vi: a", "en: b", "label:", "province: ", "\\", "é", "💥"]
token_docs = st.lists(st.sampled_from(TOKENS) | text, max_size=40).map("".join)


@st.composite
def mutated(draw):
    """One shipped file with one to three random edits: (file name, YAML text)."""
    name = draw(st.sampled_from(sorted(READERS)))
    data = copy.deepcopy(SHIPPED[name])
    holder = {"doc": data}
    for _ in range(draw(st.integers(1, 3))):
        places = []  # (container, key) of every value in the document
        stack, seen = [holder], set()
        while stack:
            container = stack.pop()
            if id(container) in seen:  # an earlier "alias" edit may have made a loop
                continue
            seen.add(id(container))
            for k in (list(container) if isinstance(container, dict) else range(len(container))):
                places.append((container, k))
                if isinstance(container[k], (dict, list)):
                    stack.append(container[k])
        container, k = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["delete", "rename", "replace", "empty", "double", "swap", "alias"]))
        if container is holder and action in ("delete", "rename"):
            action = "replace"
        if action == "delete":
            del container[k]
        elif action == "rename" and isinstance(container, dict):
            new = draw(keys)
            container[new] = container.pop(k)
        elif action == "replace" or action == "rename":
            container[k] = draw(values)
        elif action == "empty":
            container[k] = type(container[k])() if isinstance(container[k], (dict, list, str)) else None
        elif action == "double" and isinstance(container[k], list):
            container[k] = container[k] + container[k]
        elif action == "swap":
            other, j = draw(st.sampled_from(places))
            try:
                container[k], other[j] = copy.deepcopy(other[j]), copy.deepcopy(container[k])
            except (KeyError, IndexError):  # the other place was inside this one
                pass
        elif action == "alias":  # the same object twice: safe_dump writes an anchor and an alias
            other, j = draw(st.sampled_from(places))
            try:
                container[k] = other[j]
            except (KeyError, IndexError):
                pass
    try:
        content = dump(holder["doc"])
    except (yaml.YAMLError, RecursionError):  # e.g. a value placed inside itself
        content = dump(None)
    return name, content


# ----------------------------------------------------------------- the properties

@settings(FUZZ, max_examples=150)
@given(mutated())
def test_mutated_definitions_load_or_raise_a_questionnaire_error(root, case):
    name, content = case
    load_with(root, name, content)


@settings(FUZZ, max_examples=100)
@given(st.sampled_from(sorted(READERS)), st.dictionaries(st.sampled_from(KNOWN_KEYS) | keys, values, max_size=8))
def test_random_mappings_load_or_raise_a_questionnaire_error(root, name, data):
    load_with(root, name, dump(data))


@settings(FUZZ, max_examples=100)
@given(st.sampled_from(sorted(READERS)), values)
def test_random_documents_load_or_raise_a_questionnaire_error(root, name, data):
    load_with(root, name, dump(data))


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(sorted(READERS)), token_docs | st.binary(max_size=64))
def test_random_text_loads_or_raises_a_questionnaire_error(root, name, content):
    load_with(root, name, content)


def test_the_time_limit_turns_a_hang_into_a_failure():
    with pytest.raises(DefinitionHang):
        with time_limit(0.2):
            while True:
                pass
