"""Behaviour and scikit-learn integration of MLPAutogradRegressor.

The reference is scikit-learn's MLPRegressor: with the same parameters and
random_state, adam and sgd follow the same sequence of batches and updates, so
many tests compare the two fitted on the same data. The losses MLPRegressor
does not have (huber, quantile, callables) are tested against what they
estimate: a median or a quantile, a line that outliers do not drag.
"""

import inspect
import pickle
import warnings

import joblib
import numpy as np
import pytest
import skops.io as sio
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_poisson_deviance, r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from skvgrad import MLPAutogradRegressor, engine, nn

IGNORE_CONVERGENCE = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)
X_DIABETES = StandardScaler().fit_transform(X_DIABETES)
Y_DIABETES = (Y_DIABETES - Y_DIABETES.mean()) / Y_DIABETES.std()
X_MULTI, Y_MULTI = make_regression(
    300, n_features=6, n_targets=3, noise=10.0, random_state=0
)
X_MULTI = StandardScaler().fit_transform(X_MULTI)
Y_MULTI = Y_MULTI / Y_MULTI.std(axis=0)
TARGETS = {
    "single": (X_DIABETES, Y_DIABETES),
    "multi": (X_MULTI, Y_MULTI),
}


def fit_both(X, y, sample_weight=None, **params):
    """MLPAutogradRegressor and MLPRegressor fitted with the same parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPAutogradRegressor(**params).fit(X, y, sample_weight=sample_weight)
        ref = MLPRegressor(**params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def assert_same_weights(a, b, rtol=1e-9, atol=1e-12):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert p.shape == q.shape and p.dtype == q.dtype
        assert_allclose(p, q, rtol=rtol, atol=atol)


# Constructor ------------------------------------------------------------------------


def test_signature_starts_with_mlpregressors_parameters_and_defaults():
    ref = inspect.signature(MLPRegressor).parameters
    ours = inspect.signature(MLPAutogradRegressor).parameters
    assert list(ours)[: len(ref)] == list(ref)
    for name, parameter in ref.items():
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name
    assert list(ours)[len(ref) :] == ["dropout", "scoring", "huber_delta", "quantile"]


def test_mlpregressors_params_construct_an_equal_estimator():
    params = MLPRegressor(loss="poisson", alpha=0.1, max_iter=7).get_params()
    est = MLPAutogradRegressor(**params)
    assert {k: v for k, v in est.get_params().items() if k in params} == params


# Parity with MLPRegressor -------------------------------------------------------------


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd"),
        dict(solver="sgd", learning_rate="invscaling", nesterovs_momentum=False),
        dict(solver="sgd", learning_rate="adaptive", momentum=0.5),
        dict(solver="adam", batch_size=32, alpha=0.01, activation="tanh"),
        dict(solver="adam", early_stopping=True, validation_fraction=0.2),
        dict(solver="sgd", shuffle=False, activation="logistic"),
    ],
    ids=["adam", "sgd", "invscaling", "adaptive", "tanh-batch", "early", "logistic"],
)
def test_stochastic_training_follows_mlpregressor(target, params):
    X, y = TARGETS[target]
    ours, ref = fit_both(
        X, y, hidden_layer_sizes=(12, 7), max_iter=40, random_state=0, **params
    )
    assert ours.n_iter_ == ref.n_iter_ and ours.t_ == ref.t_
    # The multi-output loss is reported as MLPRegressor reports it: the mean
    # over the outputs of the squared error, plus the penalty.
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    if ref.best_loss_ is None:  # early stopping watches the validation score
        assert ours.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(ref.best_loss_, rel=1e-10)
    if params.get("early_stopping"):
        assert_allclose(ours.validation_scores_, ref.validation_scores_, rtol=1e-10)
    assert_same_weights(ours, ref)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9, atol=1e-10)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-9)


def test_weighted_full_batch_training_follows_mlpregressor():
    X, y = TARGETS["multi"]
    sw = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    ours, ref = fit_both(
        X, y, sw, hidden_layer_sizes=(8,), batch_size=len(y), max_iter=30,
        random_state=0,
    )  # fmt: skip
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert_same_weights(ours, ref)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_follows_mlpregressor(solver):
    X, y = TARGETS["single"]
    ours = MLPAutogradRegressor(hidden_layer_sizes=(9,), solver=solver, random_state=0)
    ref = MLPRegressor(hidden_layer_sizes=(9,), solver=solver, random_state=0)
    for start in range(0, 400, 100):
        ours.partial_fit(X[start : start + 100], y[start : start + 100])
        ref.partial_fit(X[start : start + 100], y[start : start + 100])
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert_same_weights(ours, ref)


def test_single_output_lbfgs_follows_mlpregressor():
    X, y = TARGETS["single"]
    ours, ref = fit_both(
        X, y, hidden_layer_sizes=(8,), solver="lbfgs", max_iter=60, random_state=0
    )
    assert ours.n_iter_ == ref.n_iter_
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-4, atol=1e-5)


def test_multi_output_lbfgs_reaches_mlpregressors_held_out_r2():
    # MLPRegressor hands L-BFGS a multi-output loss (the mean over outputs)
    # whose gradient is of the sum; skvgrad minimises one consistent
    # objective. The paths differ; the held-out fit is as good.
    X_train, X_test, y_train, y_test = train_test_split(
        X_MULTI, Y_MULTI, random_state=0
    )
    params = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300)
    scores = []
    for seed in range(3):
        ours, ref = fit_both(X_train, y_train, random_state=seed, **params)
        scores.append((ours.score(X_test, y_test), ref.score(X_test, y_test)))
    ours_mean, ref_mean = np.mean(scores, axis=0)
    assert ours_mean > 0.95 and abs(ours_mean - ref_mean) < 0.01


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_fitted_attributes_match_mlpregressors(solver, target):
    X, y = TARGETS[target]
    ours, ref = fit_both(
        X, y, hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0
    )
    public = {k for k in vars(ref) if k.endswith("_") and not k.startswith("_")}
    assert public <= set(vars(ours))
    for name in public:
        a, b = getattr(ours, name), getattr(ref, name)
        assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), name
        if isinstance(b, list) and b and isinstance(b[0], np.ndarray):
            assert [p.shape for p in a] == [p.shape for p in b], name
    assert ours.out_activation_ == ref.out_activation_ == "identity"
    assert ours.n_outputs_ == ref.n_outputs_ == (1 if target == "single" else 3)
    assert ours.predict(X).shape == ref.predict(X).shape == y.shape


# Behaviour --------------------------------------------------------------------------


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_is_kept(solver):
    X, y = TARGETS["multi"]
    est = MLPAutogradRegressor(
        hidden_layer_sizes=(8,), solver=solver, max_iter=30, random_state=0
    )
    est.fit(X.astype(np.float32), y)
    assert {p.dtype for p in est.coefs_ + est.intercepts_} == {np.dtype(np.float32)}
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    est64 = MLPAutogradRegressor(
        hidden_layer_sizes=(8,), solver=solver, max_iter=30, random_state=0
    ).fit(X, y)
    assert abs(est.score(X, y) - est64.score(X, y)) < 0.02


@IGNORE_CONVERGENCE
def test_warm_start_continues_and_partial_fit_continues_adam():
    X, y = TARGETS["single"]
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    warm = MLPAutogradRegressor(warm_start=True, **params).fit(X, y)
    first = warm.loss_curve_[-1]
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 20 and warm.loss_curve_[10] < first


@IGNORE_CONVERGENCE
def test_x_val_scores_r2_every_epoch_and_early_stopping_keeps_the_best():
    X, y = TARGETS["single"]
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    est = MLPAutogradRegressor(
        hidden_layer_sizes=(30,),
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X_val, y_val) == pytest.approx(est.best_validation_score_)
    best = int(np.argmax(est.validation_scores_))
    residual = est.predict(X_val) - y_val
    assert est.validation_loss_curve_[best] == pytest.approx(
        0.5 * np.mean(residual**2), rel=1e-9
    )


def test_scoring_loss_watches_the_validation_loss():
    X, y = TARGETS["multi"]
    est = MLPAutogradRegressor(
        hidden_layer_sizes=(8,), early_stopping=True, scoring="loss", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert_allclose(est.validation_scores_, -np.array(est.validation_loss_curve_))


@pytest.mark.parametrize(
    "y_val, match",
    [
        (np.full(50, 1.0 + 1.0j), "y_val holds complex values"),
        (np.full(50, np.nan), "Input y_val contains NaN"),
        (np.full(50, "a"), "numeric targets, but y_val holds"),
    ],
    ids=["complex", "nan", "strings"],
)
def test_bad_validation_targets_are_named(y_val, match):
    X, y = TARGETS["single"]
    with pytest.raises(ValueError, match=match):
        MLPAutogradRegressor(max_iter=2).fit(X, y, X_val=X[:50], y_val=y_val)


def test_string_targets_get_a_message_that_names_them():
    with pytest.raises(ValueError, match="numeric targets.*'a'.*MLPAutogradClassifier"):
        MLPAutogradRegressor().fit(np.ones((3, 2)), ["a", "b", "a"])


# Poisson ----------------------------------------------------------------------------


def _counts(n=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    rate = np.exp(0.5 + X @ np.array([1.0, -0.5, 0.3]))
    return X, rng.poisson(rate).astype(float), rate


def test_poisson_predicts_positive_rates_and_beats_squared_error_on_counts():
    X, y, rate = _counts()
    X_test, y_test, rate_test = _counts(seed=1)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500, random_state=0)
    poisson = MLPAutogradRegressor(loss="poisson", **params).fit(X, y)
    pred = poisson.predict(X_test)
    assert poisson.out_activation_ == "exp" and np.all(pred > 0)
    assert np.median(np.abs(pred / rate_test - 1)) < 0.15
    squared = MLPAutogradRegressor(**params).fit(X, y)
    assert mean_poisson_deviance(y_test, pred) < mean_poisson_deviance(
        y_test, np.clip(squared.predict(X_test), 1e-3, None)
    )


def test_poisson_output_bias_starts_at_the_log_of_the_weighted_mean():
    X, y, _ = _counts()
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    est = MLPAutogradRegressor(loss="poisson", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(_KeepFirstModel()).fit(X, y, sample_weight=sw)
    initial = est._skl_callbacks[0].first_intercept
    assert_allclose(initial, np.log(np.average(y, weights=sw)), rtol=1e-12)


class _KeepFirstModel:
    """A callback that records the output intercepts when training starts."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "fit":
            self.first_intercept = estimator.intercepts_[-1].copy()

    def on_fit_task_end(self, estimator, context):
        pass


def test_poisson_tags_say_positive_targets():
    assert get_tags(MLPAutogradRegressor(loss="poisson")).target_tags.positive_only
    assert not get_tags(MLPAutogradRegressor()).target_tags.positive_only


def test_poisson_with_zero_targets_only_trains_without_warnings():
    X = np.random.RandomState(0).normal(size=(50, 2))
    est = MLPAutogradRegressor(loss="poisson", solver="lbfgs", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, np.zeros(50))
    assert np.all(est.predict(X) < 1e-3)


# Huber and quantile losses ------------------------------------------------------------


def _line_with_outliers(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 1))
    y = 3 * X[:, 0] + 1 + rng.normal(scale=0.3, size=n)
    outliers = rng.choice(n, n // 10, replace=False)
    y[outliers] += rng.uniform(20, 40, size=len(outliers))  # all upwards
    return X, y


def test_huber_fit_is_not_dragged_by_outliers():
    X, y = _line_with_outliers()
    grid = np.linspace(-2, 2, 21)[:, np.newaxis]
    truth = 3 * grid[:, 0] + 1
    params = dict(
        hidden_layer_sizes=(8,), activation="identity", solver="lbfgs", random_state=0
    )
    huber = MLPAutogradRegressor(loss="huber", huber_delta=1.0, **params).fit(X, y)
    squared = MLPAutogradRegressor(**params).fit(X, y)
    huber_error = np.abs(huber.predict(grid) - truth).max()
    squared_error = np.abs(squared.predict(grid) - truth).max()
    assert huber_error < 0.5 < 2.0 < squared_error  # squared error: +2.5 or so


@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_quantile_loss_covers_its_fraction_of_held_out_points(quantile):
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 4, size=(3000, 1))
    y = np.sin(X[:, 0]) + rng.normal(scale=0.1 + 0.3 * X[:, 0])  # heteroscedastic
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    est = MLPAutogradRegressor(
        loss="quantile",
        quantile=quantile,
        hidden_layer_sizes=(32,),
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_train, y_train)
    below = np.mean(y_test <= est.predict(X_test))
    assert abs(below - quantile) < 0.04


def _absolute(raw, y):
    """A callable loss: the absolute error, summed over the outputs."""
    return engine.where(raw > y, raw - y, y - raw).sum(axis=1)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber", "quantile"])
def test_early_stopping_watches_the_loss_for_losses_mlpregressor_lacks(loss):
    X, y = TARGETS["single"]
    y = np.exp(y) if loss == "poisson" else y
    est = MLPAutogradRegressor(
        loss=loss, hidden_layer_sizes=(8,), early_stopping=True, max_iter=8
    ).fit(X, y)
    negated_loss = [-loss for loss in est.validation_loss_curve_]
    if loss in ("squared_error", "poisson"):  # MLPRegressor's: R², as it does
        assert est.validation_scores_ != negated_loss
    else:
        assert est.validation_scores_ == negated_loss


@IGNORE_CONVERGENCE
def test_early_stopping_watches_a_callable_loss():
    X, y = TARGETS["single"]
    est = MLPAutogradRegressor(
        loss=_absolute, hidden_layer_sizes=(8,), early_stopping=True, max_iter=8
    ).fit(X, y)
    assert est.validation_scores_ == [-loss for loss in est.validation_loss_curve_]


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_early_stopped_quantile_model_keeps_its_quantile(quantile):
    # The best epoch by R² drifted towards the mean: 60% of the test targets
    # were below the q=0.1 model.
    X_train, X_test, y_train, y_test = train_test_split(
        X_DIABETES, Y_DIABETES, random_state=0
    )
    est = MLPAutogradRegressor(
        loss="quantile",
        quantile=quantile,
        hidden_layer_sizes=(32,),
        learning_rate_init=0.01,
        max_iter=500,
        early_stopping=True,
        random_state=0,
    ).fit(X_train, y_train)
    below = np.mean(y_test <= est.predict(X_test))
    assert abs(below - quantile) < 0.1


@pytest.mark.parametrize("incremental", [True, False], ids=["partial_fit", "warm"])
@pytest.mark.parametrize(
    "first, then", [("squared_error", "poisson"), ("poisson", "huber")]
)
def test_changing_the_output_layer_of_a_fitted_model_is_refused(
    first, then, incremental
):
    X, y = TARGETS["single"]
    y = np.exp(y)  # positive: valid for every loss
    est = MLPAutogradRegressor(loss=first, hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X, y)
    before = est.predict(X)
    est.set_params(loss=then, warm_start=True)
    with pytest.raises(ValueError, match="output layer .* cannot change"):
        est.partial_fit(X, y) if incremental else est.fit(X, y)
    assert_array_equal(est.predict(X), before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=False, max_iter=5).fit(X, y)  # a new model
    assert est.out_activation_ == ("exp" if then == "poisson" else "identity")


@pytest.mark.parametrize("loss", ["huber", "quantile"])
def test_new_losses_honour_sample_weights_as_repeated_rows(loss):
    X, y = _line_with_outliers(n=60)
    counts = np.random.RandomState(1).randint(1, 4, size=len(y))
    params = dict(
        loss=loss, hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = MLPAutogradRegressor(**params).fit(X, y, sample_weight=counts)
        repeated = MLPAutogradRegressor(**params).fit(
            np.repeat(X, counts, axis=0), np.repeat(y, counts)
        )
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "loss, parameter",
    [("huber", {"huber_delta": 0.3}), ("quantile", {"quantile": 0.8})],
)
def test_new_loss_gradients_through_the_network_pass_check_grad(loss, parameter):
    X, y = _line_with_outliers(n=12)
    est = MLPAutogradRegressor(loss=loss, **parameter)
    reduced = est._loss()
    coefs, intercepts = nn.init_params(
        [1, 3, 1], "tanh", np.random.RandomState(0), float
    )

    def objective(params):
        raw = nn.forward(params[:2], params[2:], X, "tanh")
        return reduced(raw, y[:, np.newaxis] + 0.01, None, scale=1 / 12)

    engine.check_grad(objective, coefs + intercepts)


# Custom losses ----------------------------------------------------------------------


def log_cosh(raw, y):
    """A smooth robust loss written with engine operations."""
    r = raw - y
    return (engine.softplus(2 * r) - r - np.log(2.0)).sum(axis=1)


def test_callable_loss_converges_to_the_known_answer():
    X, y = _line_with_outliers()
    est = MLPAutogradRegressor(
        loss=log_cosh,
        hidden_layer_sizes=(4,),
        activation="identity",
        solver="lbfgs",
        random_state=0,
    ).fit(X, y)
    grid = np.linspace(-2, 2, 9)[:, np.newaxis]
    assert_allclose(est.predict(grid), 3 * grid[:, 0] + 1, atol=0.6)
    assert est.out_activation_ == "identity"


def test_callable_loss_matches_the_same_builtin():
    X, y = TARGETS["multi"]

    def half_squared(raw, y):
        return 0.5 * ((raw - y) ** 2).sum(axis=1)

    params = dict(hidden_layer_sizes=(6,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        custom = MLPAutogradRegressor(loss=half_squared, **params).fit(X, y)
        builtin = MLPAutogradRegressor(**params).fit(X, y)
    assert_allclose(custom.predict(X), builtin.predict(X), rtol=1e-9, atol=1e-12)
    # The reported losses differ: the built-in one divides the data term (not
    # the penalty) by the number of outputs, as MLPRegressor does.
    difference = np.array(builtin.loss_curve_) - np.array(custom.loss_curve_) / 3
    assert np.all(difference > 0)


def test_callable_loss_saves_with_joblib_and_skops(tmp_path):
    X, y = TARGETS["single"]
    est = MLPAutogradRegressor(loss=log_cosh, hidden_layer_sizes=(4,), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    joblib.dump(est, tmp_path / "model.joblib")
    assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict(X), est.predict(X)
    )
    sio.dump(est, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert sorted(untrusted) == sorted(
        ["skvgrad.regressor.MLPAutogradRegressor", f"{__name__}.log_cosh"]
    )
    loaded = sio.load(tmp_path / "model.skops", trusted=untrusted)
    assert_array_equal(loaded.predict(X), est.predict(X))


def test_lambda_loss_fits_but_cannot_be_pickled():
    X, y = TARGETS["single"]
    est = MLPAutogradRegressor(loss=lambda raw, y: ((raw - y) ** 2).sum(1), max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    with pytest.raises(TypeError, match="Cannot save a model whose loss"):
        pickle.dumps(est)


def test_callable_loss_of_the_wrong_shape_is_refused():
    X, y = TARGETS["single"]
    est = MLPAutogradRegressor(loss=lambda raw, y: ((raw - y) ** 2).sum(), max_iter=2)
    with pytest.raises(ValueError, match="one value per sample"):
        est.fit(X, y)


# Integration ------------------------------------------------------------------------


@IGNORE_CONVERGENCE
def test_pipeline_grid_search_in_parallel_equals_sequential():
    X, y = TARGETS["single"]
    pipe = make_pipeline(
        StandardScaler(), MLPAutogradRegressor(max_iter=30, random_state=0)
    )
    grid = {
        "mlpautogradregressor__alpha": [1e-4, 1e-1],
        "mlpautogradregressor__loss": ["squared_error", "huber"],
    }  # noqa: E501
    parallel = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    sequential = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    assert_allclose(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert parallel.best_params_ == sequential.best_params_


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber", "quantile"])
def test_joblib_and_skops_round_trips(loss, tmp_path):
    X, y = TARGETS["multi"]
    y = np.abs(y)
    est = MLPAutogradRegressor(loss=loss, max_iter=5, random_state=0).fit(X, y)
    joblib.dump(est, tmp_path / "m.joblib")
    assert_array_equal(joblib.load(tmp_path / "m.joblib").predict(X), est.predict(X))
    sio.dump(est, tmp_path / "m.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "m.skops")
    assert untrusted == ["skvgrad.regressor.MLPAutogradRegressor"]
    loaded = sio.load(tmp_path / "m.skops", trusted=untrusted)
    assert_array_equal(loaded.predict(X), est.predict(X))


@IGNORE_CONVERGENCE
def test_dropout_custom_activation_and_verbose_carry_over(capsys):
    X, y = TARGETS["single"]
    est = MLPAutogradRegressor(
        hidden_layer_sizes=(16,),
        activation=nn.silu,
        dropout=0.2,
        verbose=2,
        learning_rate_init=0.01,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    assert "Iteration 30" in capsys.readouterr().out
    assert_array_equal(est.predict(X), est.predict(X))  # deterministic
    assert r2_score(y, est.predict(X)) > 0
