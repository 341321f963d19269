"""Loading and validating definitions: the shipped ones, and every kind of error."""
from __future__ import annotations

import pytest

from survey.errors import QuestionnaireError
from survey.questionnaire import load_questionnaire
from tests.conftest import edit_text, edit_yaml, line_of


# ----------------------------------------------------------------- the shipped definitions

def test_pgi_feedback_has_at_least_eight_indicators_per_subindex(pgi):
    assert [s.number for s in pgi.subindices] == [1, 2, 3, 4]
    for s in pgi.subindices:
        assert len(pgi.indicators_of(s.number)) >= 8, s


def test_both_share_the_firm_profile_block(pgi, monthly):
    profile = [q.id for q in pgi.sections[0].questions]
    assert profile == [q.id for q in monthly.sections[0].questions]
    assert {"locality", "sector", "size_class", "ownership", "site", "year_established"} <= set(profile)
    assert len(pgi.choice_lists["vsic2018"].choices) == 21  # VSIC 2018 sections A-U
    assert [c.label.en for c in pgi.choice_lists["ownership"].choices] == [
        "Private domestic", "State-owned", "Foreign-invested (FDI)"]


def test_personal_data_is_flagged(pgi, monthly):
    assert set(monthly.personal_questions) == {"firm_name", "contact_name", "contact_phone", "contact_email"}
    assert set(pgi.personal_questions) == {"firm_name", "contact_email"}


def test_monthly_difficulty_categories(monthly):
    labels = [c.label.en for c in monthly.choice_lists["difficulty"].choices]
    assert labels[0] == "Permits and administrative procedures" and labels[-1] == "Other"
    assert len(labels) == 10
    assert monthly.question("difficulty_types").type == "multiple"


def test_missing_codes_follow_the_answer_codes(pgi):
    codes = [c.code for c in pgi.choices("env_quality")]
    assert codes == [1, 2, 3, 4, 5, 98]
    assert pgi.choices("env_quality", with_missing=False)[-1].code == 5
    assert pgi.missing_codes[99].en == "Refused"


def test_locality_list_comes_from_the_province(qdir):
    bg = load_questionnaire("pgi_feedback", root=qdir)
    hd = load_questionnaire("pgi_feedback", root=qdir, province="hai_duong")
    assert bg.locality.province == "Bac Giang" and len(bg.choice_lists["locality"].choices) == 10
    assert hd.locality.province == "Hai Duong" and len(hd.choice_lists["locality"].choices) == 12
    assert hd.choices("locality")[0].label.vi == "Thành phố Hải Dương"


def test_default_province_is_read_from_settings(qdir):
    edit_text(qdir / "settings.yaml", "province: bac_giang", "province: hai_duong")
    assert load_questionnaire("monthly_difficulties", root=qdir).locality.province == "Hai Duong"


def test_unknown_province_names_the_known_ones(qdir):
    with pytest.raises(QuestionnaireError, match="no locality list for province 'atlantis'") as err:
        load_questionnaire("pgi_feedback", root=qdir, province="atlantis")
    assert "bac_giang" in str(err.value) and "hai_duong" in str(err.value)


def test_locality_file_must_name_a_real_province(qdir):
    edit_text(qdir / "localities" / "hai_duong.yaml", "province: Hai Duong", "province: Hai Dong")
    with pytest.raises(QuestionnaireError, match="unknown province 'Hai Dong'"):
        load_questionnaire("pgi_feedback", root=qdir, province="hai_duong")


# ----------------------------------------------------------------- every definition error

def _problems(qdir, qid="pgi_feedback") -> list[str]:
    with pytest.raises(QuestionnaireError) as err:
        load_questionnaire(qid, root=qdir)
    return [str(p) for p in err.value.problems]


def test_unknown_choice_list_names_file_line_and_place(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "choices: quality5", "choices: quality6")
    [msg] = _problems(qdir)
    line = line_of(path, "choices: quality6")
    assert msg.startswith(f"{path}:{line}: sections[0].questions[0].choices: ")
    assert "question 'env_quality': unknown list 'quality6'" in msg
    assert "known lists: agree5" in msg


def test_duplicate_question_id(qdir):
    path = qdir / "pgi_feedback.yaml"
    line = line_of(path, "- id: flooding_affected")
    edit_text(path, "- id: flooding_affected", "- id: hazard_affected")
    msg, orphan = _problems(qdir)
    assert msg.startswith(f"{path}:{line}: sections[0].questions[5].id: ")
    assert "duplicate question id 'hazard_affected'" in msg
    assert "also at" in msg and "sections[0].questions[2]" in msg
    assert "indicator 'i1_flooding' refers to missing question 'flooding_affected'" in orphan


def test_duplicate_id_across_the_included_profile(qdir):
    edit_text(qdir / "monthly_difficulties.yaml", "- id: description", "- id: sector")
    [msg] = _problems(qdir, "monthly_difficulties")
    assert "duplicate question id 'sector'" in msg and "profile.yaml" in msg


def test_relevance_referring_to_a_missing_question(qdir):
    edit_text(qdir / "pgi_feedback.yaml", 'relevant: "dialogue_attended == 1"', 'relevant: "dialog_attended == 1"')
    [msg] = _problems(qdir)
    assert "question 'dialogue_effective': relevant refers to missing question 'dialog_attended'" in msg


def test_constraint_referring_to_a_missing_question(qdir):
    edit_text(qdir / "monthly_difficulties.yaml", '"selected(difficulty_types, value)"', '"selected(difficulty_kinds, value)"')
    [msg] = _problems(qdir, "monthly_difficulties")
    assert "constraint refers to missing question 'difficulty_kinds'" in msg


def test_indicator_referring_to_a_missing_question(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "question: env_quality, method: share", "question: env_qualty, method: share")
    [msg] = _problems(qdir)
    assert msg.startswith(f"{path}:{line_of(path, 'env_qualty')}: indicators[0].question: ")
    assert "indicator 'i1_env_quality' refers to missing question 'env_qualty'" in msg


def test_indicator_among_referring_to_a_missing_question(qdir):
    edit_text(qdir / "pgi_feedback.yaml", 'among: "site in [1, 2]"', 'among: "zone in [1, 2]"')
    [msg] = _problems(qdir)
    assert "indicator 'i2_treatment_infra': 'among' refers to missing question 'zone'" in msg


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_missing_label(qdir, lang):
    def drop(data):
        del data["sections"][2]["questions"][1]["label"][lang]
    edit_yaml(qdir / "pgi_feedback.yaml", drop)
    [msg] = _problems(qdir)
    assert f"sections[2].questions[1].label: missing {lang} label" in msg


def test_yes_no_read_as_booleans_is_explained(qdir):
    edit_text(qdir / "profile.yaml", 'en: "No"', "en: No")
    [msg] = _problems(qdir)
    assert "choice_lists.yesno[1].en: en label must be text, got False" in msg
    assert "put it in quotes" in msg and "profile.yaml:" in msg


@pytest.mark.parametrize("weight", ["0", "-1.5"])
def test_non_positive_weight(qdir, weight):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "goalposts: [0, 30], weight: 1", f"goalposts: [0, 30], weight: {weight}")
    [msg] = _problems(qdir)
    assert f"indicators[3].weight: indicator 'i1_hazard_loss': weight must be a positive number, got {float(weight):g}" \
        in msg.replace(f"got {weight}", f"got {float(weight):g}")
    assert f":{line_of(path, 'weight: ' + weight)}:" in msg


def test_subindex_with_no_indicator(qdir):
    edit_yaml(qdir / "pgi_feedback.yaml",
              lambda d: d.__setitem__("indicators", [i for i in d["indicators"] if i["subindex"] != 3]))
    [msg] = _problems(qdir)
    assert "sub-index 3 has no indicator" in msg


def test_unknown_type_and_unknown_field(qdir):
    path = qdir / "monthly_difficulties.yaml"
    edit_text(path, "type: date", "type: datetime")
    edit_text(path, "required: true\n      - id: difficulty_other", "requierd: true\n      - id: difficulty_other")
    msgs = _problems(qdir, "monthly_difficulties")
    assert any("question 'reported_date': unknown type 'datetime'" in m for m in msgs)
    assert any("sections[0].questions[1].requierd: unknown field 'requierd'" in m for m in msgs)


def test_indicator_method_must_fit_its_question(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "question: env_quality, method: share, codes: [4, 5]", "question: env_quality, method: mean, codes: [4, 5]")
    edit_text(path, "question: early_warning, method: share, codes: [4, 5]", "question: early_warning, method: share, codes: [4, 6]")
    edit_text(path, 'method: share_within, codes: [1], among: "inspected == 1"', "method: share_within, codes: [1]")
    msgs = "\n".join(_problems(qdir))
    assert "indicator 'i1_env_quality': a mean needs a number question, 'env_quality' is likert" in msgs
    assert "indicator 'i1_early_warning': codes [6] are not answers of 'early_warning'" in msgs
    assert "indicator 'i2_overlap': share_within needs 'among'" in msgs


def test_expression_syntax_error_is_reported_not_executed(qdir):
    edit_text(qdir / "pgi_feedback.yaml", 'relevant: "permit_applied == 1"', "relevant: \"__import__('os').system('echo hi')\"")
    msgs = _problems(qdir)
    assert any("is not allowed in an expression" in m or "unknown function" in m for m in msgs)


def test_missing_code_must_be_declared_and_distinct(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "choices: quality5\n        missing: [98]", "choices: quality5\n        missing: [97, 98]")
    edit_text(path, '{code: 5, vi: "Rất tốt", en: "Very good"}',
              '{code: 5, vi: "Rất tốt", en: "Very good"}\n    - {code: 98, vi: "Khác", en: "Other"}')
    msgs = "\n".join(_problems(qdir))
    assert "question 'env_quality': missing code 97 is not declared" in msgs
    assert "question 'env_quality': missing code 98 is also an answer code" in msgs


def test_all_problems_are_reported_at_once(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "choices: quality5", "choices: quality6")
    edit_text(path, "goalposts: [0, 30], weight: 1", "goalposts: [0, 30], weight: 0")
    edit_text(path, "choices: supports", "choices: support")
    assert len(_problems(qdir)) == 3


def test_invalid_yaml_gives_the_line(qdir):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "  agree5:\n", "  agree5:\n   - [unclosed\n")
    with pytest.raises(QuestionnaireError) as err:
        load_questionnaire("pgi_feedback", root=qdir)
    assert "cannot read YAML" in str(err.value) and str(path) in str(err.value)
    assert err.value.problems[0].line is not None


def test_file_name_and_id_must_agree(qdir):
    (qdir / "pgi_feedback.yaml").rename(qdir / "pgi.yaml")
    [msg] = _problems(qdir, "pgi")
    assert "id 'pgi_feedback' differs from the file name 'pgi'" in msg


# ----------------------------------------------------------------- loading always ends (issue 19, item 5)

def _problems_in_time(qdir, qid="pgi_feedback") -> list[str]:
    from tests.questionnaire.test_load_fuzz import time_limit

    with time_limit(), pytest.raises(QuestionnaireError) as err:
        load_questionnaire(qid, root=qdir)
    return [str(p) for p in err.value.problems] or [str(err.value)]


@pytest.mark.parametrize("key", ["id", "version", "sections"])
def test_a_missing_top_level_field_is_reported_not_a_hang(qdir, key):
    edit_yaml(qdir / "pgi_feedback.yaml", lambda d: d.pop(key))
    msgs = _problems_in_time(qdir)
    expected = {"id": "id: questionnaire id None is missing or not a valid name",
                "version": "version: version is missing",
                "sections": "sections: must be a list of sections"}[key]
    assert any(expected in m for m in msgs), msgs


@pytest.mark.parametrize("qid, what", [("profile", "firm-profile block"), ("settings", "default province")])
def test_profile_and_settings_are_not_questionnaires(qid, what):
    from tests.questionnaire.test_load_fuzz import time_limit

    with time_limit(), pytest.raises(QuestionnaireError) as err:
        load_questionnaire(qid)
    msg = str(err.value)
    assert msg.startswith(f"'{qid}' is not a questionnaire: ") and what in msg
    assert "monthly_difficulties, pgi_feedback" in msg  # the ones that are


def test_an_unknown_id_lists_the_questionnaires(qdir):
    [msg] = _problems_in_time(qdir, "../pgi_feedback")
    assert "unknown questionnaire '../pgi_feedback'" in msg and "pgi_feedback" in msg


@pytest.mark.parametrize("text, expected", [
    ("a: &a [*a]\n", "refers to the entry that contains it"),
    ("a: &a {<<: *a}\n", "refers to the entry that contains it"),
    ("".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" if i else "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
             for i in range(9)) + "id: *l8\n", "too large: more than 50000 entries"),
    ("id: 2025-13-45\n", "cannot read YAML: month must be in 1..12"),
    ("id: !!binary 'not base64!'\n", "cannot read YAML"),
    ("id: x\x1b[2J\n", "cannot read YAML: unacceptable character #x001b"),
    ("[" * 5000 + "]" * 5000, "cannot read YAML: the nesting is too deep"),
])
def test_yaml_that_cannot_be_built_is_a_questionnaire_error(qdir, text, expected):
    (qdir / "pgi_feedback.yaml").write_text(text, encoding="utf-8")
    [msg] = _problems_in_time(qdir)
    assert expected in msg and "pgi_feedback.yaml" in msg


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d.__setitem__("choice_lists", [1, 2]), "choice_lists: choice_lists is a mapping"),
    (lambda d: d.__setitem__("choice_lists", {**d["choice_lists"], 7: [{"code": 1, "vi": "a", "en": "b"}]}),
     "choice_lists.7: choice list id 7 is not a valid name"),
    (lambda d: d.__setitem__("include", "profile"), "include: include is a list of block names"),
    (lambda d: d.__setitem__("include", ["../settings"]), "include[0]: included block '../settings' is not a block name"),
    (lambda d: d.__setitem__("missing_codes", 98), "missing_codes: missing_codes is a list of choices"),
    (lambda d: d["sections"][1].__setitem__("questions", True), "sections[1].questions: questions is a list"),
    (lambda d: d.__setitem__("subindices", {"a": 1}), "subindices: subindices is a list of sub-indices"),
    (lambda d: d["indicators"][0].__setitem__("subindex", [1]), "indicators[0].subindex: indicator 'i1_env_quality': "
                                                                "unknown sub-index [1]"),
    (lambda d: d["indicators"][0].__setitem__("question", ["env_quality"]),
     "indicator 'i1_env_quality' refers to missing question ['env_quality']"),
    (lambda d: d["indicators"][0].__setitem__("weight", 10 ** 400), "weight must be a positive number, got 1000"),
    (lambda d: d["indicators"][0].__setitem__("goalposts", [0, float("nan")]), "goalposts are two different numbers"),
    (lambda d: d["subindices"][0]["label"].__setitem__(1, "x"), "unknown language(s) ['1']"),
])
def test_fields_of_the_wrong_kind_are_reported(qdir, edit, expected):
    edit_yaml(qdir / "pgi_feedback.yaml", edit)
    msgs = _problems_in_time(qdir)
    assert any(expected in m for m in msgs), msgs


def test_a_settings_province_that_is_not_a_key_is_refused(qdir):
    edit_text(qdir / "settings.yaml", "province: bac_giang", "province: ../../etc/x")
    [msg] = _problems_in_time(qdir)
    assert "province '../../etc/x' is not a province key" in msg


def test_a_block_included_twice_is_read_once(qdir):
    edit_text(qdir / "pgi_feedback.yaml", "include: [profile]", "include: [profile, profile]")
    assert _problems_in_time(qdir) == [f"{qdir / 'pgi_feedback.yaml'}:{line_of(qdir / 'pgi_feedback.yaml', 'include:')}: "
                                       "include[1]: block 'profile' is included twice"]


def test_an_option_column_clashing_with_a_question_id(qdir):
    def add(data):
        data["sections"][1]["questions"].append({"id": "difficulty_types_3", "type": "text",
                                                 "label": {"vi": "a", "en": "b"}})
    edit_yaml(qdir / "monthly_difficulties.yaml", add)
    msgs = _problems_in_time(qdir, "monthly_difficulties")
    assert any("question 'difficulty_types': its option column 'difficulty_types_3' clashes with a question "
               "of that id" in m for m in msgs), msgs
