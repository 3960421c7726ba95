"""TabularMLPClassifier and TabularMLPRegressor: preprocessing, recipe, contracts."""

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvgrad import TabularMLPClassifier, TabularMLPRegressor

SMALL = dict(hidden_layer_sizes=(16,), max_iter=10, n_frequencies=4)

_SPLIT_WEIGHTS = (
    "the inner validation split is drawn at random, so repeating rows instead of "
    "weighting them changes which samples are held out; with "
    "validation_fraction=0 the check passes (the other configuration)"
)
_CLASS_WEIGHT_SPLIT = (
    "the best epoch is the one of lowest validation loss, unweighted: class "
    "weights of 1000 : 0.0001 bend the training objective, but the epoch kept is "
    "the one that predicts the held-out rows best; with validation_fraction=0 "
    "the check passes (the other configuration)"
)


def _expected_failed_checks(estimator):
    """Documented limitations of a configuration, by check name."""
    failures = {}
    if estimator.validation_fraction > 0:
        failures["check_sample_weight_equivalence_on_dense_data"] = _SPLIT_WEIGHTS
        if hasattr(estimator, "class_weight"):
            failures["check_class_weight_classifiers"] = _CLASS_WEIGHT_SPLIT
    return failures


@parametrize_with_checks(
    [
        TabularMLPClassifier(**SMALL, learning_rate_init=0.01),
        TabularMLPClassifier(
            **SMALL, learning_rate_init=0.01, validation_fraction=0.0, random_state=0
        ),
        TabularMLPRegressor(**SMALL, learning_rate_init=0.01),
        TabularMLPRegressor(
            **SMALL, learning_rate_init=0.01, validation_fraction=0.0, random_state=0
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# Data -------------------------------------------------------------------------------


def _frame(n=120, seed=0, missing=True):
    """A table with numbers, a few-level and a many-level category, a bool."""
    rng = np.random.RandomState(seed)
    size = rng.normal(10, 3, n)
    if missing:
        size[::7] = np.nan
    X = pd.DataFrame(
        {
            "size": size,
            "count": rng.randint(0, 5, n),
            "color": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "city": rng.choice([f"c{i}" for i in range(12)], n).astype(object),
            "flag": rng.rand(n) > 0.5,
        }
    )
    logit = (X["color"] == "red") * 2.0 - 1.0 + 0.3 * np.nan_to_num(size - 10)
    y = np.where(logit + rng.normal(0, 0.3, n) > 0, "yes", "no")
    return X, y


def test_dataframe_columns_are_encoded_by_kind():
    X, y = _frame()
    clf = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    enc = clf.encoder_
    assert_array_equal(enc.categorical_, [False, False, True, True, True])
    # color (3 levels) and flag (2) one-hot, city (12 levels) embedded.
    assert enc.levels_ == [3, 12, 2]
    assert_array_equal(enc.one_hot_, [True, False, True])
    assert enc.coded_levels == [12]
    # size has missing values: one indicator column; count has none.
    assert_array_equal(enc.missing_, [True, False])
    assert enc.n_passthrough == 1 + 3 + 2
    assert clf.front_params_[-1].shape == (12 + 1, clf.embedding_dim)
    assert list(clf.feature_names_in_) == list(X.columns)
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_unknown_categories_and_missing_values_at_predict_time():
    X, y = _frame(missing=False)
    clf = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    new = X.head(3).copy()
    new["color"] = pd.Categorical(["purple", None, "red"])
    new["city"] = np.array(["nowhere", None, "c1"], dtype=object)
    new.loc[0, "size"] = np.nan
    matrix = clf.encoder_.transform(new)
    n_num = clf.encoder_.n_numeric
    # Unknown or missing categories: no one-hot column set, embedding code 0.
    assert_array_equal(matrix[:2, n_num : n_num + 3], 0)
    assert_array_equal(matrix[:2, -1], 0)
    # A missing number without a fitted indicator is imputed at the median (0).
    assert matrix[0, 0] == 0
    proba = clf.predict_proba(new)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize(
    "given",
    [[2, 3, 4], ["color", "city", "flag"], [False, False, True, True, True]],
)
def test_categorical_features_as_indices_names_or_mask(given):
    X, y = _frame()
    X = X.assign(color=X["color"].cat.codes, flag=X["flag"].astype(int))
    X["city"] = X["city"].str[1:].astype(int)  # integer-coded categories
    enc = TabularMLPClassifier(**SMALL, categorical_features=given).fit(X, y).encoder_
    assert_array_equal(enc.categorical_, [False, False, True, True, True])
    assert enc.coded_levels == [12]


def test_categorical_features_on_an_array_and_errors():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=60), np.arange(60) % 20])
    y = rng.normal(size=60)
    reg = TabularMLPRegressor(**SMALL, categorical_features=[1]).fit(X, y)
    assert reg.encoder_.coded_levels == [20]
    with pytest.raises(ValueError, match="no column names"):
        TabularMLPRegressor(categorical_features=["a"]).fit(X, y)
    with pytest.raises(ValueError, match="out of range"):
        TabularMLPRegressor(categorical_features=[5]).fit(X, y)
    with pytest.raises(ValueError, match="unknown columns"):
        TabularMLPRegressor(categorical_features=["nope"]).fit(pd.DataFrame(X), y)
    strings = pd.DataFrame({"a": ["x", "y"] * 10, "b": np.arange(20.0)})
    with pytest.raises(ValueError, match="Could not convert the numeric columns"):
        TabularMLPRegressor(categorical_features=None).fit(strings, np.ones(20))


def test_robust_scaling_and_smooth_clipping():
    rng = np.random.RandomState(0)
    X = rng.normal(5, 2, (400, 1))
    X[0] = 1e6  # an outlier
    reg = TabularMLPRegressor(**SMALL).fit(X, rng.normal(size=400))
    enc = reg.encoder_
    q1, median, q3 = np.quantile(X[:, 0], [0.25, 0.5, 0.75], method="inverted_cdf")
    assert_allclose(enc.center_, [median])
    assert_allclose(enc.scale_, [q3 - q1])
    z = (X[:, 0] - median) / (q3 - q1)
    assert_allclose(enc.transform(X)[:, 0], z / np.sqrt(1 + (z / 3) ** 2))
    assert np.abs(enc.transform(X)).max() < 3
    unclipped = TabularMLPRegressor(**SMALL, clip_outliers=None, scaling="standard")
    enc = unclipped.fit(X, rng.normal(size=400)).encoder_
    assert_allclose(enc.transform(X)[:, 0], (X[:, 0] - X.mean()) / X.std())


def test_constant_binary_and_empty_columns_get_a_finite_scale():
    X = np.column_stack(
        [np.zeros(50), np.r_[np.zeros(45), np.ones(5)], np.full(50, np.nan)]
    )
    reg = TabularMLPRegressor(**SMALL).fit(X, np.arange(50.0))
    # No spread: 1; zero IQR: half the range; no value at all: 1, centred at 0.
    assert_allclose(reg.encoder_.scale_, [1.0, 0.5, 1.0])
    assert_allclose(reg.encoder_.center_, [0.0, 0.0, 0.0])
    assert np.isfinite(reg.predict(X)).all()


def test_missing_indicator_can_be_turned_off():
    X, y = _frame()
    on = TabularMLPClassifier(**SMALL).fit(X, y)
    off = TabularMLPClassifier(**SMALL, missing_indicator=False).fit(X, y)
    assert on.encoder_.n_passthrough == off.encoder_.n_passthrough + 1


def test_numeric_embeddings_widen_the_first_layer_and_can_be_turned_off():
    X, y = _frame(missing=False)
    on = TabularMLPClassifier(**SMALL, numeric_embedding_dim=3).fit(X, y)
    off = TabularMLPClassifier(**SMALL, numeric_embedding=None).fit(X, y)
    # Two numbers: each embedded into 3 values beside itself.
    assert on.coefs_[0].shape[0] == off.coefs_[0].shape[0] + 2 * 3
    assert [p.shape for p in on.front_params_[:3]] == [(2, 4), (2, 8, 3), (2, 3)]
    assert len(off.front_params_) == 1  # the category table only


def test_many_level_categories_are_embedded_only_beyond_one_hot_max_levels():
    X, y = _frame()
    all_hot = TabularMLPClassifier(**SMALL, one_hot_max_levels=100).fit(X, y)
    assert all_hot.encoder_.coded_levels == []
    assert all_hot.encoder_.n_passthrough == 1 + 3 + 12 + 2


def test_infinite_values_and_sparse_input_are_refused():
    X, y = _frame()
    X.loc[3, "size"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        TabularMLPClassifier(**SMALL).fit(X, y)
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="dense data is required"):
        TabularMLPRegressor(**SMALL).fit(sp.random(20, 3, format="csr"), np.ones(20))


# Training ------------------------------------------------------------------------


def test_best_epoch_is_restored_on_the_validation_data():
    X, y = make_classification(300, n_features=8, flip_y=0.2, random_state=0)
    X_val, y_val = make_classification(100, n_features=8, random_state=1)
    clf = TabularMLPClassifier(**{**SMALL, "max_iter": 15}, learning_rate_init=0.05)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    scores = clf.validation_scores_
    assert len(scores) == 15 and clf.best_validation_score_ == max(scores)
    assert int(np.argmax(scores)) < 14  # the last epoch is not the best here
    assert_allclose(-log_loss(y_val, clf.predict_proba(X_val)), max(scores), rtol=1e-6)


def test_inner_split_holds_out_validation_fraction_and_zero_turns_it_off():
    X, y = make_regression(200, n_features=4, random_state=0)
    reg = TabularMLPRegressor(**SMALL, validation_fraction=0.25).fit(X, y)
    assert reg.t_ == 150 * reg.max_iter
    assert len(reg.validation_scores_) == reg.max_iter
    last = TabularMLPRegressor(**SMALL, validation_fraction=0.0).fit(X, y)
    assert last.t_ == 200 * last.max_iter and last.validation_scores_ is None


def test_no_convergence_warning_the_epoch_budget_is_fixed():
    X, y = make_classification(60, random_state=0)
    # The suite turns every warning into an error: none is raised here.
    TabularMLPClassifier(**{**SMALL, "max_iter": 3}).fit(X, y)


def test_schedule_and_weight_decay_reach_the_optimizer():
    X, y = make_regression(100, n_features=3, random_state=0)
    reg = TabularMLPRegressor(**SMALL, validation_fraction=0.0, weight_decay=0.3)
    state = reg.fit(X, y)._optimizer_state[1]
    assert state["schedule"] == "cosine" and state["weight_decay"] == 0.3
    assert state["t"] == state["total_steps"] == reg.max_iter  # one batch / epoch
    assert state["learning_rate"] < 0.05 * reg.learning_rate_init  # cosine's end


def test_label_smoothing_auto_depends_on_the_scoring():
    assert TabularMLPClassifier()._label_smoothing() == 0.0
    assert TabularMLPClassifier(scoring="neg_log_loss")._label_smoothing() == 0.0
    assert TabularMLPClassifier(scoring="accuracy")._label_smoothing() == 0.1
    X, y = make_classification(200, n_features=4, class_sep=3, random_state=0)
    kw = dict(SMALL, learning_rate_init=0.05, max_iter=30, validation_fraction=0.0)
    sharp = TabularMLPClassifier(**kw).fit(X, y).predict_proba(X).max()
    smooth = TabularMLPClassifier(**kw, label_smoothing=0.5).fit(X, y)
    # Targets 0.75 / 0.25: probabilities stay near them, validation is not smoothed.
    assert sharp > 0.95 and smooth.predict_proba(X).max() < 0.85


def test_target_is_standardised_and_predictions_clipped():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 2))
    Y = np.column_stack([1e6 + 1e4 * X[:, 0], -3 + 0.01 * X[:, 1]])
    w = rng.randint(0, 3, 200).astype(float)
    reg = TabularMLPRegressor(**SMALL).fit(X, Y, sample_weight=w)
    assert_allclose(reg.target_mean_, np.average(Y, axis=0, weights=w))
    assert_allclose(
        reg.target_scale_,
        np.sqrt(np.average((Y - reg.target_mean_) ** 2, axis=0, weights=w)),
    )
    kept = Y[w > 0]
    span = kept.max(axis=0) - kept.min(axis=0)
    assert_allclose(reg.target_range_[1], kept.max(axis=0) + 0.1 * span)
    far = reg.predict(np.full((1, 2), 1e3))
    assert np.all(far <= reg.target_range_[1]) and np.all(far >= reg.target_range_[0])
    plain = TabularMLPRegressor(
        **SMALL, standardize_target=False, clip_predictions=None
    )
    plain.fit(X, Y)
    assert_array_equal(plain.target_mean_, 0) and np.isinf(plain.target_range_).all()
    assert reg.score(X, Y) > plain.score(X, Y)


def test_ensemble_averages_the_members_probabilities():
    X, y = _frame()
    clf = TabularMLPClassifier(**SMALL, n_ensemble=3, random_state=0).fit(X, y)
    assert len(clf.ensemble_) == 2
    seeds = {m.random_state for m in clf.ensemble_}
    assert len(seeds) == 2 and 0 not in seeds
    single = clone(clf).set_params(n_ensemble=1).fit(X, y)
    probas = [single.predict_proba(X)] + [m.predict_proba(X) for m in clf.ensemble_]
    assert_allclose(clf.predict_proba(X), np.mean(probas, axis=0), rtol=1e-6)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(clf.predict_proba(X), 1)])
    Xr, yr = make_regression(80, n_features=3, random_state=0)
    reg = TabularMLPRegressor(**SMALL, n_ensemble=2, random_state=0).fit(Xr, yr)
    members = [clone(reg).set_params(n_ensemble=1).fit(Xr, yr), reg.ensemble_[0]]
    assert_allclose(
        reg.predict(Xr), np.mean([m.predict(Xr) for m in members], axis=0), rtol=1e-6
    )


def test_multiclass_and_multilabel_targets():
    X, y = make_classification(
        150, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    clf = TabularMLPClassifier(**SMALL).fit(X, y)
    assert clf.out_activation_ == "softmax" and clf.predict_proba(X).shape == (150, 3)
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    ml = TabularMLPClassifier(**SMALL).fit(X, Y)
    assert ml.predict(X).shape == (150, 2)


def test_float32_in_float32_through():
    X, y = make_classification(80, n_features=4, random_state=0)
    clf = TabularMLPClassifier(**SMALL).fit(X.astype(np.float32), y)
    assert clf.coefs_[0].dtype == np.float32
    assert all(p.dtype == np.float32 for p in clf.front_params_)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    frame = pd.DataFrame(X.astype(np.float32)).add_prefix("f")
    assert TabularMLPRegressor(**SMALL).fit(frame, y).predict(frame).dtype == (
        np.float32
    )


def test_integer_weights_equal_repeated_rows():
    X, y = _frame(40, missing=True)
    w = np.random.RandomState(1).randint(0, 3, len(y))
    kw = dict(SMALL, validation_fraction=0.0, random_state=0)
    weighted = TabularMLPClassifier(**kw).fit(X, y, sample_weight=w)
    repeated = TabularMLPClassifier(**kw).fit(X.loc[X.index.repeat(w)], np.repeat(y, w))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7)


def test_partial_fit_and_warm_start_are_not_offered():
    clf = TabularMLPClassifier()
    assert not hasattr(clf, "partial_fit") and "warm_start" not in clf.get_params()
    with pytest.raises(AttributeError, match="fixed"):
        _ = TabularMLPRegressor().partial_fit


def test_predict_checks_the_columns():
    X, y = _frame()
    clf = TabularMLPClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(X.rename(columns={"size": "length"}))


# Integration ---------------------------------------------------------------------


def test_pipeline_and_grid_search():
    X, y = _frame()
    pipe = make_pipeline(FunctionTransformer(), TabularMLPClassifier(**SMALL))
    search = GridSearchCV(
        pipe, {"tabularmlpclassifier__embedding_dim": [2, 4]}, cv=2
    ).fit(X, y)
    assert search.best_params_["tabularmlpclassifier__embedding_dim"] in (2, 4)


def test_joblib_and_skops_persistence(tmp_path):
    sio = pytest.importorskip("skops.io", reason="skops is the persist extra")
    X, y = _frame()
    clf = TabularMLPClassifier(**SMALL, n_ensemble=2, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    joblib.dump(clf, tmp_path / "model.joblib")
    assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )
    sio.dump(clf, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert set(untrusted) <= {
        "skvgrad.tabular.TabularMLPClassifier",
        "skvgrad.tabular._TabularEncoder",
    }, untrusted
    loaded = sio.load(tmp_path / "model.skops", trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X), expected)


def test_scikit_learn_callbacks_see_every_epoch():
    from sklearn.callback import ScoringMonitor

    X, y = _frame()
    monitor = ScoringMonitor(scoring="neg_log_loss")
    clf = TabularMLPClassifier(**SMALL, validation_fraction=0.0, random_state=0)
    clf.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == list(range(clf.max_iter))
    assert epochs[-1]["neg_log_loss"] == pytest.approx(
        -log_loss(y, clf.predict_proba(X))
    )
