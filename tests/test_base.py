"""What both estimators share (skvgrad.base): checks, training rules, rollback,
interrupts, persistence, warnings and scikit-learn's callbacks.

Each behaviour is tested on the classifier and on the regressor.
"""

import copy
import functools
import inspect
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skvgrad.base
from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor, engine, nn

IGNORE_CONVERGENCE = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _classification(n=120, seed=0):
    X, y = make_classification(
        n, n_features=4, n_informative=3, n_redundant=0, random_state=seed
    )
    return X, y


def _regression(n=120, seed=0):
    X, y = make_regression(n, n_features=4, noise=5.0, random_state=seed)
    return X, y / 50


DATA = {MLPAutogradClassifier: _classification, MLPAutogradRegressor: _regression}
ESTIMATORS = pytest.mark.parametrize(
    "Estimator", [MLPAutogradClassifier, MLPAutogradRegressor]
)


def _answer(est, X):
    """What a fitted estimator answers: probabilities, or predicted values."""
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _state(est):
    """The fitted state, copied: every attribute that is not a parameter."""
    params = est.get_params()
    return pickle.loads(
        pickle.dumps({k: v for k, v in vars(est).items() if k not in params})
    )


def _assert_same_model(a, b):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert_array_equal(p, q, strict=True)


# The same public API as scikit-learn's MLPs ------------------------------------------

PEERS = pytest.mark.parametrize(
    ("ours", "theirs"),
    [(MLPAutogradClassifier, MLPClassifier), (MLPAutogradRegressor, MLPRegressor)],
    ids=["classifier", "regressor"],
)
_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
)


@PEERS
def test_every_public_method_has_the_signature_of_scikit_learns(ours, theirs):
    # Read from the installed scikit-learn, so that the test follows it.
    names = [
        name
        for name in dir(theirs)
        if (name == "__init__" or not name.startswith("_"))
        and callable(getattr(theirs, name))
    ]
    assert {"fit", "partial_fit", "predict", "score", "set_params"} <= set(names)
    for name in names:
        mine = inspect.signature(getattr(ours, name)).parameters
        ref = inspect.signature(getattr(theirs, name)).parameters

        def positional(params):
            return [
                (p.name, p.default) for p in params.values() if p.kind in _POSITIONAL
            ]

        # The same positional parameters in the same order with the same defaults.
        assert positional(mine) == positional(ref), name
        for param in ref.values():
            assert param.name in mine, (name, param.name)
            assert mine[param.name].kind is param.kind, (name, param.name)
            assert mine[param.name].default == param.default, (name, param.name)
        # Anything added is keyword-only.
        for extra in set(mine) - set(ref):
            assert mine[extra].kind is inspect.Parameter.KEYWORD_ONLY, (name, extra)


# Predictions are never silently non-finite (issue: NaN probabilities) ----------------


@IGNORE_CONVERGENCE
@ESTIMATORS
def test_float32_model_computes_float64_input_in_float64(Estimator):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(
        X.astype(np.float32), y
    )
    big = X * 1e39  # beyond float32's range, fine in float64
    answer = _answer(est, big)
    assert answer.dtype == np.float64
    assert np.isfinite(answer).all()
    # The float64 computation with the float32 weights, done by hand.
    raw = nn.forward(
        [c.astype(np.float64) for c in est.coefs_],
        [b.astype(np.float64) for b in est.intercepts_],
        big,
        est.activation,
    )
    assert_allclose(est._raw_predict(big), raw, rtol=1e-12, atol=1e-12 * abs(raw).max())
    if Estimator is MLPAutogradClassifier:
        assert est.score(big, y) == np.mean(est.predict(big) == y)
        assert set(est.predict(big)) <= set(est.classes_)


@IGNORE_CONVERGENCE
@ESTIMATORS
def test_input_too_large_for_any_dtype_raises_instead_of_nan(Estimator):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    est.coefs_[0] = est.coefs_[0] * 1e3  # any value near float64's limit overflows
    huge = X.copy()
    huge[3] = 1e308
    methods = ["predict"] + (["predict_proba"] if hasattr(est, "predict_proba") else [])
    for method in methods:
        with pytest.raises(
            ValueError, match=r"not finite for 1 sample.*row 3.*Scale X"
        ):
            getattr(est, method)(huge)


# Early stopping and validation data --------------------------------------------------


def _nan_scorer(estimator, X, y):
    """A scorer that is undefined on the data: NaN, as roc_auc on one class."""
    return float("nan")


@ESTIMATORS
def test_nan_validation_score_raises_and_keeps_the_previous_model(Estimator):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    before = _answer(est, X)
    est.set_params(early_stopping=True, scoring=_nan_scorer, warm_start=False)
    with pytest.raises(ValueError, match="validation score .* is NaN at epoch 1"):
        est.fit(X, y)
    assert_array_equal(_answer(est, X), before)


def test_roc_auc_on_a_one_class_validation_set_raises():
    X, y = _classification()
    one_class = y == 1
    est = MLPAutogradClassifier(
        (6,), early_stopping=True, scoring="roc_auc", max_iter=5, random_state=0
    )
    with (
        warnings.catch_warnings(),
        pytest.raises(ValueError, match="'roc_auc'.* NaN"),
    ):
        warnings.simplefilter("ignore")  # scikit-learn's UndefinedMetricWarning
        est.fit(X, y, X_val=X[one_class], y_val=y[one_class])
    assert not hasattr(est, "coefs_")


@IGNORE_CONVERGENCE
@ESTIMATORS
def test_warm_start_with_new_validation_data_tracks_its_own_best(Estimator):
    X, y = DATA[Estimator](n=300)
    X_a, y_a, X_b, y_b = X[:100], y[:100], X[100:200], y[100:200]
    params = dict(
        hidden_layer_sizes=(10,),
        early_stopping=True,
        warm_start=True,
        max_iter=15,
        n_iter_no_change=100,
        learning_rate_init=0.01,
        random_state=0,
    )
    est = Estimator(**params).fit(X[200:], y[200:], X_val=X_a, y_val=y_a)
    first = len(est.validation_scores_)
    est.fit(X[200:], y[200:], X_val=X_b, y_val=y_b)
    second = est.validation_scores_[first:]
    assert len(second) == est.n_iter_ == 15
    # The best of this fit, on this fit's validation data, whatever the first
    # fit's scores on other data were.
    assert est.best_validation_score_ == max(second)
    best = int(np.argmax(second))
    # The weights kept are that epoch's: a fresh warm start stopped there.
    again = Estimator(**params).fit(X[200:], y[200:], X_val=X_a, y_val=y_a)
    again.set_params(max_iter=best + 1).fit(X[200:], y[200:], X_val=X_b, y_val=y_b)
    _assert_same_model(est, again)


def _with_nan(X):
    X = X.copy()
    X[2, 1] = np.nan
    return X


@ESTIMATORS
@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X, y, w: (_with_nan(X), y, w), "Input X_val contains NaN"),
        (lambda X, y, w: (X[:, :2], y, w), "X_val has 2 features, but .* expecting 4"),
        (lambda X, y, w: (X, y, w[:5]), r"sample_weight_val.shape == \(5,\)"),
        (lambda X, y, w: (X, y, np.where(w > 0, np.nan, w)), "sample_weight_val"),
        (lambda X, y, w: (X, y, -w), "Negative values .* sample_weight_val"),
        (lambda X, y, w: (X, y, np.zeros_like(w)), "sample_weight_val must contain"),
        (lambda X, y, w: (X, np.c_[y, y], w), "y_val has "),
    ],
    ids=[
        "X_val-nan",
        "X_val-features",
        "short-weights",
        "nan-weights",
        "negative-weights",
        "zero-weights",
        "y_val-outputs",
    ],
)
def test_validation_data_errors_name_the_validation_data(Estimator, change, match):
    X, y = DATA[Estimator]()
    X_val, y_val, w_val = change(X[:30], y[:30], np.ones(30))
    est = Estimator(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w_val)
    assert not hasattr(est, "coefs_")  # refused before any epoch


@pytest.mark.parametrize("n_columns", [1, 3])
@pytest.mark.parametrize("scoring", ["loss", None])
def test_y_val_with_the_wrong_number_of_outputs_is_refused(n_columns, scoring):
    # Two outputs: a one-column y_val used to broadcast into a wrong loss.
    X, y = _regression()
    Y = np.c_[y, -y]
    est = MLPAutogradRegressor(
        hidden_layer_sizes=(4,), scoring=scoring, max_iter=2, random_state=0
    )
    with pytest.raises(ValueError, match=f"y_val has {n_columns} output.*has 2"):
        y_val = y[:20] if n_columns == 1 else np.tile(y[:20, None], n_columns)
        est.fit(X, Y, X_val=X[:20], y_val=y_val)
    assert not hasattr(est, "coefs_")


def _scorer_without_weights(estimator, X, y):
    """The documented signature: no sample_weight."""
    return estimator.score(X, y)


def _scorer_with_weights(estimator, X, y, sample_weight=None):
    return estimator.score(X, y, sample_weight=sample_weight)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize(
    "weights", ["sample_weight", "class_weight", "sample_weight_val"]
)
def test_a_scorer_gets_weights_only_if_it_takes_them(weights):
    X, y = _classification()
    fit_kwargs, params = {}, {}
    if weights == "sample_weight":
        fit_kwargs["sample_weight"] = np.linspace(0.5, 2.0, len(y))
    elif weights == "class_weight":
        params["class_weight"] = {0: 1.0, 1: 3.0}
    else:
        fit_kwargs.update(X_val=X[:40], y_val=y[:40], sample_weight_val=y[:40] + 0.5)
    common = dict(early_stopping=True, max_iter=4, random_state=0, **params)
    plain = MLPAutogradClassifier((4,), scoring=_scorer_without_weights, **common)
    plain.fit(X, y, **fit_kwargs)
    weighted = MLPAutogradClassifier((4,), scoring=_scorer_with_weights, **common)
    weighted.fit(X, y, **fit_kwargs)
    # The same epochs, scored unweighted by the one, weighted by the other.
    assert plain.validation_loss_curve_ == weighted.validation_loss_curve_
    assert plain.validation_scores_ != weighted.validation_scores_


@IGNORE_CONVERGENCE
@ESTIMATORS
@pytest.mark.parametrize("then", ["partial_fit", "warm_start", "lbfgs"])
def test_training_on_after_an_early_stopped_fit(Estimator, then):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), early_stopping=True, max_iter=5)
    est.set_params(random_state=0).fit(X, y)
    assert est.best_loss_ is None  # as scikit-learn's MLP sets it
    est.set_params(early_stopping=False)
    if then == "partial_fit":
        est.partial_fit(X, y)
    else:
        est.set_params(warm_start=True, solver="lbfgs" if then == "lbfgs" else "adam")
        est.fit(X, y)
    assert est.best_loss_ == min(est.loss_curve_[-est.n_iter_ :])


# loss_curve_: one rule for every solver --------------------------------------------


@IGNORE_CONVERGENCE
@ESTIMATORS
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_loss_curve_grows_over_warm_start_fits_with_every_solver(Estimator, solver):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), solver=solver, max_iter=3)
    est.set_params(warm_start=True, random_state=0).fit(X, y)
    first = list(est.loss_curve_)
    assert len(first) == est.n_iter_
    est.fit(X, y)
    assert est.loss_curve_[: len(first)] == first
    assert len(est.loss_curve_) == len(first) + est.n_iter_
    assert est.loss_curve_[-1] == est.loss_
    assert est.best_loss_ == min(est.loss_curve_)
    est.set_params(warm_start=False).fit(X, y)  # a new model, a new curve
    assert len(est.loss_curve_) == est.n_iter_


# partial_fit after a change of solver ----------------------------------------------
# partial_fit after a change of solver ----------------------------------------------


@ESTIMATORS
@pytest.mark.parametrize(("first", "then"), [("adam", "sgd"), ("sgd", "adam")])
def test_partial_fit_after_changing_the_solver_starts_a_fresh_optimizer(
    Estimator, first, then
):
    X, y = DATA[Estimator]()
    kwargs = {"classes": np.unique(y)} if Estimator is MLPAutogradClassifier else {}
    est = Estimator(hidden_layer_sizes=(6,), solver=first, random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, **kwargs)
    fresh = pickle.loads(pickle.dumps(est))
    fresh._optimizer_state = None  # what a fresh optimizer starts from
    est.set_params(solver=then).partial_fit(X, y)
    fresh.set_params(solver=then).partial_fit(X, y)
    _assert_same_model(est, fresh)
    assert est._optimizer_state[0] == then


# Interrupts (Ctrl-C): one rule for every solver ------------------------------------


class _InterruptAfter:
    """A module-level activation (tanh) that raises KeyboardInterrupt at call n.

    It reads the shape of its input's values, which a trace cannot hold, so
    training differentiates it on the graph and calls it at every step.
    """

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, z):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        if isinstance(z, engine.Tensor):
            z.value.shape  # noqa: B018  (untraceable: called at every step)
        return engine.tanh(z)


class _CallsAtEpochEnds:
    """A callback recording how often an activation ran by each epoch's end."""

    def __init__(self, counter):
        self.counter, self.calls = counter, []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.calls.append(self.counter.calls)


def _calls_by_epoch_end(Estimator, solver, X, y, n_epochs):
    """How many times the activation has run when epoch ``n_epochs`` ends."""
    counter = _InterruptAfter(0)
    recorder = _CallsAtEpochEnds(counter)
    est = Estimator(hidden_layer_sizes=(6,), activation=counter, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).set_params(random_state=0).fit(X, y)
    return recorder.calls[n_epochs - 1]


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_interrupt_in_the_first_epoch_of_a_refit_restores_and_reraises(
    Estimator, solver
):
    X, y = DATA[Estimator]()
    est = Estimator(
        hidden_layer_sizes=(6,),
        activation="tanh",
        solver=solver,
        max_iter=5,
        random_state=1,
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    before, state = _answer(est, X), _state(est)
    est.set_params(activation=_InterruptAfter(1), random_state=2)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    est.set_params(activation="tanh")
    assert_array_equal(_answer(est, X), before)
    assert _state(est).keys() == state.keys()
    assert est.loss_ == state["loss_"] and est.n_iter_ == state["n_iter_"]


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_interrupt_after_two_epochs_keeps_them_and_warns(Estimator, solver):
    X, y = DATA[Estimator]()
    calls = _calls_by_epoch_end(Estimator, solver, X, y, n_epochs=2)
    params = dict(hidden_layer_sizes=(6,), solver=solver, random_state=0)
    interrupted = Estimator(activation=_InterruptAfter(calls + 1), **params)
    with pytest.warns(UserWarning, match=r"interrupted by user after 2 completed"):
        interrupted.fit(X, y)
    assert interrupted.n_iter_ == 2 and len(interrupted.loss_curve_) == 2
    # The model is the one of a fit that stopped after two epochs.
    with pytest.warns(ConvergenceWarning):
        two = Estimator(activation=_InterruptAfter(0), max_iter=2, **params).fit(X, y)
    _assert_same_model(interrupted, two)
    assert interrupted.loss_curve_ == two.loss_curve_
    assert interrupted.loss_ == two.loss_


# Persistence of custom activations and losses --------------------------------------


def scaled_tanh(z, scale=1.0):
    """A module-level activation with a parameter (for functools.partial)."""
    return engine.tanh(scale * z)


class ScaledTanh:
    """A module-level callable class."""

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, z):
        return engine.tanh(self.scale * z)


class Holder:
    """Holds a staticmethod."""

    @staticmethod
    def activation(z):
        return engine.tanh(z)


def _fitted(Estimator, activation, **params):
    X, y = DATA[Estimator]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(
            hidden_layer_sizes=(4,), activation=activation, max_iter=3, **params
        ).fit(X, y)


@ESTIMATORS
@pytest.mark.parametrize(
    "activation",
    [functools.partial(scaled_tanh, scale=0.5), ScaledTanh(0.5), Holder.activation],
    ids=["partial", "callable-instance", "function-of-a-class"],
)
def test_saveable_activations_round_trip(Estimator, activation, tmp_path):
    est = _fitted(Estimator, activation)
    X, _ = DATA[Estimator]()
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(_answer(loaded, X), _answer(est, X))


def _nested():
    def inner(z):
        return engine.tanh(z)

    return inner


UNSAVEABLE = {
    "lambda": (lambda z: engine.tanh(z), "<lambda>"),
    "nested": (_nested(), "inner"),
    "staticmethod-object": (Holder.__dict__["activation"], "staticmethod"),
}


@ESTIMATORS
@pytest.mark.parametrize("case", list(UNSAVEABLE), ids=list(UNSAVEABLE))
@pytest.mark.parametrize("what", ["activation", "loss"])
def test_unsaveable_callables_are_refused_without_a_partial_file(
    Estimator, case, what, tmp_path
):
    func, name = UNSAVEABLE[case]
    X, y = DATA[Estimator]()
    if what == "loss":
        est = _fitted(Estimator, "tanh", loss=lambda raw, y: ((raw - y) ** 2).sum(1))
        est.set_params(loss=_per_sample_of(func))
    else:
        est = _fitted(Estimator, func)
    _answer(est, X)  # fitting and predicting work
    path = tmp_path / "model.joblib"
    message = f"Cannot save a model whose {what} is .*{name}"
    with pytest.raises(TypeError, match=message):
        joblib.dump(est, path)
    assert not path.exists(), "a failed dump left a partial file"
    with pytest.raises(TypeError, match=message):
        joblib.dump(est, tmp_path / "model.joblib.gz")
    assert not (tmp_path / "model.joblib.gz").exists()
    with pytest.raises(TypeError, match="module-level function"):
        pickle.dumps(est)


def _per_sample_of(func):
    """A loss with the same kind of definition (lambda, nested...) as ``func``."""
    if isinstance(func, staticmethod):
        return staticmethod(lambda raw, y: ((raw - y) ** 2).sum(1))
    return func if func.__name__ == "inner" else (lambda raw, y: raw.sum(1))


def shadowed(z):
    """A module-level activation..."""
    return engine.tanh(z)


def _shadowing():
    def shadowed(z):  # ...and a nested one of the same name: another function
        return engine.tanh(2 * z)

    return shadowed


@ESTIMATORS
@pytest.mark.parametrize(
    "activation, saved_by",
    [
        (Holder.activation, "pickle"),  # found by its qualified name
        (_shadowing(), "neither"),  # skops would find the module-level one
        (lambda z: engine.tanh(z), "neither"),
    ],
    ids=["function-of-a-class", "shadowed-nested", "lambda"],
)
def test_each_format_refuses_at_save_time_what_it_cannot_load(
    Estimator, activation, saved_by, tmp_path
):
    sio = pytest.importorskip("skops.io")
    est = _fitted(Estimator, activation)
    X, _ = DATA[Estimator]()
    with pytest.raises(TypeError, match="skops stores a function by its module"):
        sio.dump(est, tmp_path / "model.skops")
    assert not (tmp_path / "model.skops").exists()
    if saved_by == "pickle":
        joblib.dump(est, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
        assert_array_equal(_answer(loaded, X), _answer(est, X))
    else:
        with pytest.raises(TypeError, match="pickle stores a function by reference"):
            joblib.dump(est, tmp_path / "model.joblib")


@ESTIMATORS
def test_a_refused_dump_leaves_a_given_file_objects_content(Estimator, tmp_path):
    est = _fitted(Estimator, lambda z: engine.tanh(z))
    path = tmp_path / "log.bin"
    with open(path, "wb") as file:
        file.write(b"written before")
        with pytest.raises(TypeError, match="Cannot save a model"):
            joblib.dump(est, file)
        file.write(b", and after")
    assert path.exists()
    content = path.read_bytes()
    assert content.startswith(b"written before") and content.endswith(b", and after")


@ESTIMATORS
@pytest.mark.parametrize("what", ["activation", "loss"])
def test_copies_and_parallel_workers_take_any_callable(Estimator, what):
    X, y = DATA[Estimator]()
    if what == "activation":
        est = _fitted(Estimator, lambda z: engine.tanh(z))
    else:
        est = _fitted(Estimator, "tanh", loss=lambda raw, y: ((raw - y) ** 2).sum(1))
    for copied in (copy.copy(est), copy.deepcopy(est)):
        assert getattr(copied, what) is getattr(est, what)
        assert_array_equal(_answer(copied, X), _answer(est, X))
    deep = copy.deepcopy(est)
    assert deep.coefs_[0] is not est.coefs_[0]
    unfitted = Estimator(**est.get_params()).set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # joblib's worker processes receive it, and send it back, by cloudpickle.
        runs = [
            cross_validate(unfitted, X, y, cv=2, n_jobs=n_jobs, return_estimator=True)
            for n_jobs in (2, 1)
        ]
    assert_allclose(runs[0]["test_score"], runs[1]["test_score"], rtol=1e-12)
    for parallel, sequential in zip(runs[0]["estimator"], runs[1]["estimator"]):
        assert_allclose(_answer(parallel, X), _answer(sequential, X), rtol=1e-12)
    with pytest.raises(TypeError, match="Cannot save a model"):
        pickle.dumps(est)  # saving still refuses it


def test_a_function_of_main_warns_once_per_save_at_the_users_line(tmp_path):
    script = textwrap.dedent(
        """
        import io, pickle, warnings
        import joblib
        import numpy as np
        import skops.io as sio
        from skvgrad import MLPAutogradRegressor, engine

        def act(z):
            return engine.tanh(z)

        X = np.random.RandomState(0).normal(size=(20, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = MLPAutogradRegressor(hidden_layer_sizes=(3,), activation=act)
            est.set_params(max_iter=2).fit(X, X[:, 0])
        saves = {
            "joblib-path": lambda: joblib.dump(est, "model.joblib"),
            "joblib-gz": lambda: joblib.dump(est, "model.joblib.gz"),
            "joblib-file": lambda: joblib.dump(est, io.BytesIO()),
            "pickle": lambda: pickle.dumps(est),
            "skops": lambda: sio.dump(est, "model.skops"),
        }
        for name, save in saves.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                save()
            print(name, [(w.filename, w.lineno, str(w.message)) for w in caught])
        """
    )
    path = tmp_path / "script.py"
    path.write_text(script)
    out = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    lines = script.splitlines()
    for row in out.splitlines():
        name, caught = row.split(" ", 1)
        [(filename, lineno, message)] = eval(caught)  # exactly one warning
        assert filename == str(path), (name, filename)
        assert f'"{name}": lambda' in lines[lineno - 1], (name, lines[lineno - 1])
        assert "defined in __main__" in message and "importable module" in message
    assert len(out.splitlines()) == 5


def test_warnings_in_worker_processes_point_at_skvgrad_not_at_multiprocessing():
    # A worker process runs none of the user's lines: the warning is attributed
    # to skvgrad's line that issues it.
    script = textwrap.dedent(
        """
        import numpy as np
        from sklearn.model_selection import cross_val_score
        from skvgrad import MLPAutogradRegressor

        X = np.random.RandomState(0).normal(size=(40, 2))
        est = MLPAutogradRegressor(hidden_layer_sizes=(3,), max_iter=2)
        cross_val_score(est, X, X[:, 0], cv=2, n_jobs=2)
        """
    )
    err = subprocess.run(
        [sys.executable, "-W", "always::UserWarning", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    sources = [
        line.split(": ConvergenceWarning")[0]
        for line in err.splitlines()
        if ": ConvergenceWarning: " in line
    ]
    assert sources, err
    base = skvgrad.base.__file__
    assert all(source.startswith(f"{base}:") for source in sources), sources


@ESTIMATORS
def test_numpy_call_a_tensor_cannot_take_points_to_the_engine(Estimator):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), activation=lambda z: np.arctan(z))
    with pytest.raises(TypeError, match=r"numpy.arctan is not supported.*engine"):
        est.fit(X, y)
    est.set_params(activation=lambda z: np.linalg.norm(z) * z)
    with pytest.raises(TypeError, match=r"numpy.linalg.norm is not supported"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


# Divergence names its cause ----------------------------------------------------------


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_huge_alpha_is_named_as_the_cause(Estimator, solver):
    X, y = DATA[Estimator]()
    est = Estimator(
        hidden_layer_sizes=(6,), solver=solver, alpha=1e300, max_iter=20, random_state=0
    )
    with (
        warnings.catch_warnings(),
        pytest.raises(ValueError, match=r"alpha=1e\+300 is too large") as info,
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert "learning_rate_init" not in str(info.value)
    assert not hasattr(est, "coefs_")


def test_a_huge_learning_rate_is_named_with_the_input_scale():
    X, y = _regression()
    est = MLPAutogradRegressor(solver="sgd", learning_rate_init=1e10, random_state=0)
    with pytest.raises(
        ValueError, match=r"largest \|X\| is .*learning_rate_init=1e\+10"
    ):
        est.fit(X * 1e3, y)


def infinite_loss(raw, y):
    """A custom loss that is infinite at every sample, with a finite gradient."""
    return ((raw - y) ** 2).sum(axis=1) + np.inf


def nan_loss(raw, y):
    """A custom loss that is NaN, with a finite gradient."""
    return ((raw - y) ** 2).sum(axis=1) + np.nan


@IGNORE_CONVERGENCE
@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("loss", [infinite_loss, nan_loss])
def test_a_non_finite_custom_loss_is_named_with_every_solver(Estimator, solver, loss):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), solver=solver, max_iter=5, random_state=0)
    est.fit(X, y) if solver == "lbfgs" else est.partial_fit(X, y, **_classes(est, y))
    before = _state(est)
    est.set_params(loss=loss, warm_start=True)
    with pytest.raises(ValueError, match=f"loss function {loss.__name__} returned"):
        est.fit(X, y)
    _assert_same_state(_state(est), before)
    fresh = Estimator(hidden_layer_sizes=(4,), solver=solver, loss=loss, max_iter=5)
    with pytest.raises(ValueError, match=f"loss function {loss.__name__}"):
        fresh.fit(X, y)
    assert not hasattr(fresh, "coefs_")


def _classes(est, y):
    return {"classes": np.unique(y)} if isinstance(est, MLPAutogradClassifier) else {}


def _assert_same_state(a, b):
    """Bitwise equality of two fitted states (arrays, lists, dicts, numbers)."""
    assert list(a) == list(b)
    for key in a:
        assert pickle.dumps(a[key]) == pickle.dumps(b[key]), key


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_targets_too_large_for_the_loss_are_named(solver):
    X, y = _regression()
    est = MLPAutogradRegressor(hidden_layer_sizes=(4,), solver=solver, random_state=0)
    match = r"too large for it \(the largest \|y\| is"
    with pytest.raises(ValueError, match=match) as info:
        est.fit(X, y * 1e200)
    assert "largest |X|" not in str(info.value)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_targets_beyond_float32_are_named(solver):
    X, y = _regression()
    est = MLPAutogradRegressor(hidden_layer_sizes=(4,), solver=solver, random_state=0)
    with (
        warnings.catch_warnings(),
        pytest.raises(ValueError, match=r"y holds values beyond the range of float32"),
    ):
        warnings.simplefilter("error")  # and no overflow warning from the cast
        est.fit(X.astype(np.float32), y * 1e39)


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_subnormal_sample_weights_are_named(Estimator, solver, dtype):
    X, y = DATA[Estimator]()
    tiny = np.finfo(dtype).tiny
    est = Estimator(hidden_layer_sizes=(4,), solver=solver, random_state=0)
    with pytest.raises(ValueError, match="Sample weights are too small.*Multiply"):
        est.fit(X.astype(dtype), y, sample_weight=np.full(len(y), tiny / 100))
    # Normal numbers, however small, are weights like any others; alpha is
    # divided by their sum, as in scikit-learn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X = X.astype(dtype)
        est.set_params(max_iter=3, alpha=0.0)
        small = est.fit(X, y, sample_weight=np.full(len(y), tiny * 10))
        unit = clone_of(est).fit(X, y, sample_weight=np.ones(len(y)))
        rtol = 1e-9 if dtype == np.float64 else 1e-4
        assert_allclose(_answer(small, X), _answer(unit, X), rtol=rtol, atol=rtol)
    if solver == "adam":  # Adam squares the penalty's gradient, alpha W / sum(w)
        est.set_params(alpha=1e-4)
        with pytest.raises(ValueError, match=r"alpha=0.0001, divided by the sum of"):
            est.fit(X, y, sample_weight=np.full(len(y), tiny * 10))


def clone_of(est):
    return type(est)(**est.get_params())


@ESTIMATORS
def test_the_weight_overflow_message_says_how_alpha_goes_with_the_weights(Estimator):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), random_state=0)
    with pytest.raises(ValueError, match="sum overflows") as info:
        est.fit(X, y, sample_weight=np.full(len(y), 1e307))
    message = str(info.value)
    assert "alpha divided by the same constant" in message
    assert "without alpha only their ratios matter" in message


# Warnings point at the user's line ---------------------------------------------------


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("through", ["fit", "pipeline", "search"])
def test_warnings_point_at_the_callers_line(Estimator, solver, through):
    X, y = DATA[Estimator]()
    est = Estimator(hidden_layer_sizes=(4,), solver=solver, max_iter=2, random_state=0)
    if through == "pipeline":
        est = make_pipeline(StandardScaler(), est)
    elif through == "search":
        est = GridSearchCV(est, {"alpha": [1e-4]}, cv=2)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X, y)  # the line the warnings must point at
    for w in record:
        assert w.filename == __file__, w.filename


def test_clipped_batch_size_warning_points_at_the_callers_line():
    X, y = _regression(n=20)
    with pytest.warns(UserWarning, match="batch_size") as record:
        MLPAutogradRegressor(hidden_layer_sizes=(3,), batch_size=50).partial_fit(X, y)
    assert record[0].filename == __file__


def test_warn_skips_library_frames():
    def library_like():
        skvgrad.base.warn("from inside")

    with pytest.warns(UserWarning, match="from inside") as record:
        library_like()
    assert record[0].filename == __file__


# Verbose output --------------------------------------------------------------------


@ESTIMATORS
def test_verbose_2_prints_scikit_learns_lines_even_with_tqdm(Estimator, capsys):
    X, y = DATA[Estimator]()
    with pytest.warns(ConvergenceWarning):
        Estimator(hidden_layer_sizes=(4,), max_iter=3, verbose=2, random_state=0).fit(
            X, y
        )
    out = capsys.readouterr().out
    assert [line.split(",")[0] for line in out.splitlines()] == [
        f"Iteration {i}" for i in (1, 2, 3)
    ]


@ESTIMATORS
def test_warnings_during_a_progress_bar_come_after_it(Estimator, monkeypatch):
    tqdm_auto = pytest.importorskip("tqdm.auto")
    X, y = DATA[Estimator]()
    events = []

    class RecordingBar(tqdm_auto.tqdm):
        def close(self):
            events.append("bar closed")
            super().close()

    monkeypatch.setattr(tqdm_auto, "tqdm", RecordingBar)
    est = Estimator(hidden_layer_sizes=(4,), max_iter=3, verbose=True, random_state=0)
    # The warning, turned into an error, is issued only once the bar is closed.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="Maximum iterations"):
            est.fit(X, y)
    assert events == ["bar closed"]


# scikit-learn's callbacks -----------------------------------------------------------


class StopAfter:
    """A callback that stops training at the end of epoch ``n``."""

    def __init__(self, n):
        self.n = n
        self.begun, self.ended = [], []

    def setup(self, estimator, context):
        self.setup_done = True

    def teardown(self, estimator, context):
        self.torn_down = True

    def on_fit_task_begin(self, estimator, context):
        self.begun.append((context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ended.append((context.task_name, context.task_id))
        if fitted_estimator is not None and context.task_name == "epoch":
            self.last = fitted_estimator
        return context.task_name == "epoch" and context.task_id + 1 == self.n


@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_callback_can_stop_training(Estimator, solver):
    X, y = DATA[Estimator]()
    stop = StopAfter(3)
    est = Estimator(hidden_layer_sizes=(6,), solver=solver, max_iter=50, random_state=0)
    est.set_callbacks(stop).fit(X, y)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    assert stop.setup_done and stop.torn_down
    assert stop.begun[0] == ("fit", 0) and stop.ended[-1] == ("fit", 0)
    epochs = [task for task in stop.ended if task[0] == "epoch"]
    assert epochs[:3] == [("epoch", 0), ("epoch", 1), ("epoch", 2)]
    # The fitted estimator handed to the callback predicts as the model does.
    assert_array_equal(_answer(stop.last, X), _answer(est, X))
    assert not hasattr(est, "_callback_fit_ctx")  # nothing of it stays on the model


@IGNORE_CONVERGENCE
@ESTIMATORS
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_scoring_monitor_logs_a_score_per_epoch(Estimator, solver):
    X, y = DATA[Estimator]()
    scoring = "accuracy" if Estimator is MLPAutogradClassifier else "r2"
    monitor = ScoringMonitor(scoring=scoring)
    est = Estimator(hidden_layer_sizes=(6,), solver=solver, max_iter=4, random_state=0)
    est.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert len(epochs) == est.n_iter_ == 4
    assert [row["task_id"] for row in epochs] == [0, 1, 2, 3]
    [root] = [row for row in rows if row["task_name"] == "fit"]
    assert root[scoring] == pytest.approx(est.score(X, y))
    assert epochs[-1][scoring] == pytest.approx(est.score(X, y))


@IGNORE_CONVERGENCE
def test_callbacks_in_a_parallel_grid_search():
    X, y = _classification()
    monitor = ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(
        MLPAutogradClassifier((6,), max_iter=3, random_state=0).set_callbacks(monitor),
        {"alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=2,
    )
    search.set_callbacks(ProgressBar())
    search.fit(X, y)
    logs = monitor.get_logs(select="all")
    # Four candidate fits and the refit, each logging its three epochs.
    epochs = [row for log in logs for row in log.data if row["task_name"] == "epoch"]
    assert len(epochs) == 5 * 3
    # The epochs are subtasks of our fit, nested under the search's tasks.
    assert all(len(row["task_id_path"]) >= 3 for row in epochs)


def test_progress_bar_shows_the_fits_of_a_parallel_search():
    pytest.importorskip("rich")
    script = textwrap.dedent(
        """
        import warnings
        from sklearn.callback import ProgressBar
        from sklearn.datasets import load_iris
        from sklearn.model_selection import GridSearchCV
        from skvgrad import MLPAutogradClassifier

        warnings.simplefilter("ignore")
        X, y = load_iris(return_X_y=True)
        search = GridSearchCV(
            MLPAutogradClassifier((5,), max_iter=4, random_state=0),
            {"alpha": [1e-4, 1e-2]}, cv=2, n_jobs=2,
        ).set_callbacks(ProgressBar())
        search.fit(X, y)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    out = result.stdout + result.stderr
    assert out.count("MLPAutogradClassifier - fit") == 5, out


# Training replays its objective: bitwise the graph's training ----------------------


def _custom_swish(z):
    """A custom activation built from engine operations."""
    return z * engine.sigmoid(z)


def _value_reading(z):
    """A custom activation whose computation reads values: it cannot be traced."""
    return z * 0.5 if z.value.max() > 1e9 else z * 2.0


def _random_scaling(z):
    """A custom activation drawing numbers of its own at each call."""
    return z * np.random.default_rng().uniform(0.5, 1.5)


def _fit_both_ways(monkeypatch, estimator, X, y, **fit_params):
    """The estimator fitted on the graph, then with replays."""
    fitted = []
    for replay in (False, True):
        monkeypatch.setattr(skvgrad.base.BaseMLPAutograd, "_replay", replay)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(estimator.__sklearn_clone__().fit(X, y, **fit_params))
    return fitted


def _assert_same_training(graph, replayed):
    assert replayed.loss_curve_ == graph.loss_curve_
    for a, b in zip(
        graph.coefs_ + graph.intercepts_, replayed.coefs_ + replayed.intercepts_
    ):
        assert_array_equal(a, b)


ACTIVATIONS = [*nn.ACTIVATIONS, _custom_swish]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dropout", [None, 0.3], ids=["no-dropout", "dropout"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize(
    "activation", ACTIVATIONS, ids=[getattr(a, "__name__", a) for a in ACTIVATIONS]
)
def test_replayed_training_is_the_graphs_bitwise(
    monkeypatch, activation, solver, dropout, weighted
):
    X, y = make_classification(
        67, n_features=5, n_classes=3, n_informative=3, random_state=0
    )
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) if weighted else None
    clf = MLPAutogradClassifier(
        (6, 4),
        activation=activation,
        solver=solver,
        dropout=dropout,
        batch_size=20,
        max_iter=4,
        random_state=0,
    )
    _assert_same_training(*_fit_both_ways(monkeypatch, clf, X, y, sample_weight=sw))


@pytest.mark.parametrize(
    "loss", ["squared_error", "poisson", "huber", "quantile", "custom"]
)
def test_replayed_regression_is_the_graphs_bitwise(monkeypatch, loss):
    X, y = make_regression(53, n_features=4, n_targets=2, random_state=0)
    y = np.abs(y) / 100
    if loss == "custom":
        loss = functools.partial(nn.pinball, quantile=0.3)
    reg = MLPAutogradRegressor(
        loss=loss, hidden_layer_sizes=(5,), batch_size=16, max_iter=4, random_state=0
    )
    _assert_same_training(*_fit_both_ways(monkeypatch, reg, X, y))


def test_built_in_networks_are_replayed_and_untraceable_ones_are_not(monkeypatch):
    X, y = make_classification(40, n_features=4, random_state=0)
    plans = {}
    make_plan = nn.Objective._make_plan

    def spy(self, *args):
        plan = make_plan(self, *args)
        plans.setdefault(
            getattr(self.activation, "__name__", self.activation), []
        ).append(plan)
        return plan

    monkeypatch.setattr(nn.Objective, "_make_plan", spy)
    for activation in ("relu", _custom_swish, _value_reading, _random_scaling):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            MLPAutogradClassifier((3,), activation=activation, max_iter=2).fit(X, y)
    assert all(plans["relu"]) and all(plans["_custom_swish"])
    # Reading values, or drawing numbers of its own: differentiated on the graph
    # at every step (the random draw is not frozen at its first value).
    assert not any(plans["_value_reading"]) and not any(plans["_random_scaling"])


def test_sparse_data_trains_on_the_graph_as_before():
    import scipy.sparse as sp

    X, y = make_classification(40, n_features=6, random_state=0)
    dense = MLPAutogradClassifier((3,), max_iter=3, random_state=0)
    sparse = MLPAutogradClassifier((3,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
        sparse.fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start", "refit"])
def test_later_training_never_writes_into_arrays_the_user_holds(how):
    X, y = make_classification(50, n_features=4, random_state=0)
    clf = MLPAutogradClassifier(
        (5,), max_iter=3, random_state=0, warm_start=how == "warm_start"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        held = clf.coefs_ + clf.intercepts_
        snapshot = [a.copy() for a in held]
        if how == "partial_fit":
            clf.partial_fit(X, y)
        else:
            clf.set_params(random_state=1).fit(X, y)
    for a, b in zip(held, snapshot):
        assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(clf.coefs_, snapshot))


def test_the_kept_best_epoch_is_not_written_by_later_epochs():
    X, y = make_classification(120, n_features=5, random_state=0)
    clf = MLPAutogradClassifier(
        (8,), early_stopping=True, n_iter_no_change=3, max_iter=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    best = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ > best + 1  # later epochs ran after the best one
    again = MLPAutogradClassifier(
        (8,),
        early_stopping=True,
        n_iter_no_change=10**6,
        max_iter=best + 1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again.fit(X, y)
    for a, b in zip(clf.coefs_, again.coefs_):
        assert_array_equal(a, b)


def test_the_epoch_shuffle_draws_as_sklearn_shuffle():
    from sklearn.utils import shuffle

    ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
    order = expected = np.arange(17)
    for _ in range(5):
        order = skvgrad.base._shuffled(order, ours)
        expected = shuffle(expected, random_state=theirs)
        assert_array_equal(order, expected)
