"""From stored responses to stored weights and back: the weights command end to end."""
from __future__ import annotations

import numpy as np
import pytest

from survey.cli import main
from survey.errors import WeightingError
from survey.ingest import ingest_file
from survey.store import Store
from survey.weights import default_margins_path, load_design, load_margins, margin_check, mean, weight_survey
from tests.conftest import postgres_store
from tests.fixtures import make_answers, to_kobo_csv

MARGINS = default_margins_path("bac_giang", 2024)


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request, tmp_path, monthly):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    else:
        gen = postgres_store(request.node.name)
        store = next(gen)
        request.addfinalizer(lambda: next(gen, None))
    for month, seed in (("2025-10", 1), ("2025-11", 2)):
        answers = make_answers(monthly, 250, seed=seed)
        ingest_file(to_kobo_csv(answers, monthly, tmp_path / f"{month}.csv", uuids=[f"{month}-{i}" for i in range(250)]),
                    monthly, month, store=store)
    return store


def test_weights_meet_the_margins_and_reload_identically(loaded, monthly):
    result = weight_survey(monthly, "2025-10", "2025-11", margins=MARGINS, store=loaded, n_replicates=30, seed=7)
    d = result.design
    assert d.n == 500 and d.repweights.shape == (500, 30)
    check = margin_check(d, result.margins)
    assert np.allclose(check["achieved"], check["target"], rtol=1e-7)
    again = load_design(monthly, "2025-10", "2025-11", store=loaded)
    assert np.array_equal(again.weights, d.weights) and np.array_equal(again.repweights, d.repweights, equal_nan=True)
    assert again.scale == d.scale and again.rep_type == "bootstrap"
    assert mean(again, "had_difficulty").equals(mean(d, "had_difficulty"))  # same SE from stored replicates
    text = result.diagnostics()
    assert "illustrative" in text and "Kish design effect" in text and "bootstrap replicate weights: 30" in text


def test_weighting_is_reproducible_with_a_seed(loaded, monthly):
    kw = dict(margins=MARGINS, use=["size_class", "ownership"], store=loaded, n_replicates=10, seed=3, save=False)
    a, b = weight_survey(monthly, "2025-11", **kw), weight_survey(monthly, "2025-11", **kw)
    assert np.array_equal(a.design.repweights, b.design.repweights)
    c = weight_survey(monthly, "2025-11", **{**kw, "seed": 4})
    assert not np.array_equal(a.design.repweights, c.design.repweights)


def test_many_replicates_that_cannot_be_raked_are_reported(loaded, monthly):
    # four very skewed margins on 250 uniformly drawn test firms: some bootstrap replicates cannot meet them
    from survey.errors import SurveyWarning
    with pytest.warns(SurveyWarning, match="replicates could not be raked"):
        result = weight_survey(monthly, "2025-11", margins=MARGINS, store=loaded, n_replicates=20, seed=3, save=False)
    assert "replicate(s) left out" in " ".join(result.design.log)


def test_no_responses_or_weights(loaded, monthly):
    with pytest.raises(WeightingError, match="no stored responses of 'monthly_difficulties' for 2024-01..2024-01"):
        weight_survey(monthly, "2024-01", margins=MARGINS, store=loaded)
    with pytest.raises(WeightingError, match="has no stored weights"):
        load_design(monthly, "2025-10", store=loaded)


def test_cli_weights_prints_diagnostics(loaded, capsys, tmp_path):
    code = main(["weights", "--survey", "monthly_difficulties", "--period", "2025-10..2025-11", "--margins",
                 str(MARGINS), "--use", "size_class", "ownership", "--replicates", "JK1", "--db", loaded.url])
    assert code == 0
    out = capsys.readouterr().out
    assert "Responses 500, representing 11,000 enterprises" in out and "Stored as weighting #1" in out
    assert "JK1" in out and "size_class" in out
    assert load_margins(MARGINS).illustrative
