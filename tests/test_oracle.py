"""The oracle of the synthetic cohort: what the generator's truth allows, at the paper's size."""
from __future__ import annotations

import numpy as np
import pytest

from osteolib import baselines, cohort, metrics, oracle, splits, synthetic


@pytest.fixture(scope="module")
def paper_oracle(paper_tables):
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(paper_tables, check_images=False))
    folds = splits.make(patients, n_repeats=10, seed=0)
    return patients, folds, oracle.table(patients, synthetic.read_truth(paper_tables), folds).set_index("features")


def test_targets_hold_at_the_paper_size(paper_oracle):
    """The image truth bounds the image arm, the covariates the covariates baseline, and together
    they are worth more than the image alone: the room the ensemble arm has."""
    _, _, t = paper_oracle
    image, cov, both = (t.loc[k, "auc_mean"] for k in ("image truth", "covariates", "both"))
    assert 0.88 <= image <= 0.93, image
    assert 0.78 <= cov <= 0.81, cov
    assert both >= image + 0.02, (both, image)
    # generator v6 (anatomy, devices) kept v5's information structure: the same oracle to 3 decimals
    assert (round(image, 3), round(cov, 3), round(both, 3)) == (0.887, 0.793, 0.910)
    assert (t["n_repeats"] == 10).all() and (t["auc_sd"] < 0.01).all()


def test_the_covariates_oracle_is_the_covariates_baseline(paper_oracle, paper_tables):
    """Same vector, same splits, same unpenalised logistic regression (standardising the features
    does not change an unpenalised fit): the same AUC as notebook 04's covariates baseline."""
    patients, folds, t = paper_oracle
    base = baselines.predict(patients, folds)
    auc = metrics.per_repeat(base[base["arm"] == "covariates"])["auc"].mean()
    assert np.isclose(auc, t.loc["covariates", "auc_mean"], atol=1e-4)


def test_real_data_have_no_oracle(tmp_path):
    from osteolib.errors import InputError
    with pytest.raises(InputError, match="not a synthetic cohort"):
        synthetic.read_truth(tmp_path)
