"""Behaviour and scikit-learn integration of MLPAutogradClassifier.

The reference for "correct" is scikit-learn's MLPClassifier: the estimator is a
drop-in replacement that follows the same random-number sequence and the same
update rules, so many tests compare the two fitted on the same data.
"""

import importlib
import inspect
import numbers
import pickle
import subprocess
import sys
import textwrap
import warnings
from functools import cache
from itertools import pairwise

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import erf, expit, softmax
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_circles,
    make_classification,
    make_moons,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

import skvgrad.base
import skvgrad.classifier
from skvgrad import MLPAutogradClassifier, engine, nn
from skvgrad.engine import Tensor

IGNORE_CONVERGENCE = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

X_MOONS, Y_MOONS = make_moons(300, noise=0.2, random_state=0)
X_IRIS = StandardScaler().fit_transform(load_iris().data)
Y_IRIS = load_iris().target
X_ML, Y_ML = make_multilabel_classification(
    150, n_features=5, n_classes=3, random_state=0
)
X_ML = StandardScaler().fit_transform(X_ML)

TARGETS = {
    "binary": (X_MOONS, Y_MOONS),
    "multiclass": (X_IRIS, Y_IRIS),
    "multilabel": (X_ML, Y_ML),
}

# The 23 parameters of MLPClassifier in scikit-learn 1.9, in signature order.
MLP_PARAMS = [
    "hidden_layer_sizes",
    "activation",
    "solver",
    "alpha",
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "power_t",
    "max_iter",
    "shuffle",
    "random_state",
    "tol",
    "verbose",
    "warm_start",
    "momentum",
    "nesterovs_momentum",
    "early_stopping",
    "validation_fraction",
    "beta_1",
    "beta_2",
    "epsilon",
    "n_iter_no_change",
    "max_fun",
]

FITTED_ATTRIBUTES = [
    "coefs_",
    "intercepts_",
    "classes_",
    "n_features_in_",
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
]


def fit_both(X, y, sample_weight=None, **params):
    """MLPAutogradClassifier and MLPClassifier fitted with the same parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPAutogradClassifier(**params).fit(X, y, sample_weight=sample_weight)
        ref = MLPClassifier(**params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def indicator(clf, y):
    """The targets as the float indicator matrix the network is trained on."""
    if clf.out_activation_ == "softmax":
        return (np.asarray(y)[:, None] == clf.classes_).astype(float)
    if np.ndim(y) == 2:
        return np.asarray(y, dtype=float)
    return (np.asarray(y) == clf.classes_[1]).astype(float)[:, None]


def objective(clf, X, Y, sample_weight, alpha):
    """The training objective at the fitted weights, recomputed by skvgrad.nn."""
    units = [X.shape[1]] + [c.shape[1] for c in clf.coefs_]
    loss = nn.LOSSES[
        "log_loss" if clf.out_activation_ == "softmax" else "binary_log_loss"
    ]
    fun = nn.Objective(units, clf.activation, loss, alpha)
    vector = np.concatenate([p.ravel() for p in clf.coefs_ + clf.intercepts_])
    data, penalty, _ = fun(vector, X, Y, sample_weight)
    return data + penalty


def assert_params_close(a, b, rtol=1e-6, atol=1e-10):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert p.shape == q.shape
        assert_allclose(p, q, rtol=rtol, atol=atol)


# Constructor and parameter validation -------------------------------------------------


def test_signature_starts_with_mlpclassifiers_parameters():
    ref = inspect.signature(MLPClassifier).parameters
    ours = inspect.signature(MLPAutogradClassifier).parameters
    assert list(ref) == MLP_PARAMS
    assert list(ours)[: len(MLP_PARAMS)] == MLP_PARAMS
    for name in MLP_PARAMS:
        assert ours[name].kind == ref[name].kind, name
        assert ours[name].default == ref[name].default, name


def test_mlpclassifiers_params_construct_an_equal_estimator():
    ref_params = MLPClassifier().get_params()
    assert sorted(ref_params) == sorted(MLP_PARAMS)
    assert {k: MLPAutogradClassifier().get_params()[k] for k in MLP_PARAMS} == (
        ref_params
    )
    clf = MLPAutogradClassifier(**ref_params)
    params = clf.get_params()
    assert {k: params[k] for k in MLP_PARAMS} == ref_params
    # Parameters that are not MLPClassifier's come after its 23, with defaults.
    extra = set(params) - set(MLP_PARAMS)
    assert {k: params[k] for k in extra} == {
        k: MLPAutogradClassifier().get_params()[k] for k in extra
    }


def test_non_default_mlpclassifier_params_round_trip():
    values = dict(
        hidden_layer_sizes=(7, 3),
        activation="tanh",
        solver="sgd",
        alpha=0.5,
        batch_size=16,
        learning_rate="adaptive",
        learning_rate_init=0.05,
        power_t=0.3,
        max_iter=17,
        shuffle=False,
        random_state=3,
        tol=1e-3,
        verbose=False,
        warm_start=True,
        momentum=0.5,
        nesterovs_momentum=False,
        early_stopping=True,
        validation_fraction=0.25,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-6,
        n_iter_no_change=4,
        max_fun=123,
    )
    params = MLPAutogradClassifier(**values).get_params()
    assert {k: params[k] for k in values} == values


@pytest.mark.parametrize(
    "name, value",
    [
        ("alpha", -1.0),
        ("momentum", 1.5),
        ("beta_1", 1.0),
        ("beta_2", -0.1),
        ("epsilon", 0.0),
        ("learning_rate_init", 0.0),
        ("power_t", -0.5),
        ("max_iter", 0),
        ("batch_size", 0),
        ("validation_fraction", 1.0),
        ("n_iter_no_change", 0),
        ("max_fun", 0),
        ("tol", -1.0),
        ("solver", "newton"),
        ("activation", "softmax"),
        ("learning_rate", "optimal"),
        ("shuffle", "yes"),
    ],
)
def test_out_of_range_parameter_raises_invalid_parameter_error(name, value):
    X, y = X_MOONS[:60], Y_MOONS[:60]
    # scikit-learn's MLPClassifier rejects the same value.
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        MLPClassifier(**{name: value}).fit(X, y)
    clf = MLPAutogradClassifier().set_params(**{name: value})  # no error yet
    with pytest.raises(
        InvalidParameterError,
        match=f"The '{name}' parameter of MLPAutogradClassifier must be",
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_validates_parameters():
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        MLPAutogradClassifier(alpha=-1.0).partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])


@pytest.mark.parametrize("sizes", [(0,), (10, 0), (-3,)])
def test_non_positive_hidden_layer_size_raises(sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPAutogradClassifier(hidden_layer_sizes=sizes).fit(X_MOONS, Y_MOONS)


@IGNORE_CONVERGENCE
def test_integer_hidden_layer_sizes_is_one_layer():
    clf = MLPAutogradClassifier(hidden_layer_sizes=7, max_iter=2, random_state=0)
    clf.fit(X_MOONS, Y_MOONS)
    assert [c.shape for c in clf.coefs_] == [(2, 7), (7, 1)]


# Fitted attributes --------------------------------------------------------------------


def _kind(value):
    """Type category of a fitted attribute, comparable across the two classes."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype)
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return ("list", type(value).__name__)
    return type(value).__name__


def _public_fitted(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


ATTRIBUTE_CASES = [
    pytest.param(target, solver, es, id=f"{target}-{solver}{'-es' if es else ''}")
    for target in TARGETS
    for solver, es in [
        ("adam", False),
        ("sgd", False),
        ("lbfgs", False),
        ("adam", True),
    ]
]


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target, solver, early_stopping", ATTRIBUTE_CASES)
def test_fitted_attributes_match_mlpclassifier(target, solver, early_stopping):
    X, y = TARGETS[target]
    ours, ref = fit_both(
        X,
        y,
        hidden_layer_sizes=(7, 5),
        solver=solver,
        early_stopping=early_stopping,
        max_iter=15,
        random_state=0,
    )
    assert set(FITTED_ATTRIBUTES) <= _public_fitted(ours)
    assert _public_fitted(ref) <= _public_fitted(ours)
    assert not hasattr(ours, "feature_names_in_")
    for name in _public_fitted(ref):
        assert _kind(getattr(ours, name)) == _kind(getattr(ref, name)), name
    for name in ["coefs_", "intercepts_"]:
        assert [_kind(a) for a in getattr(ours, name)] == [
            _kind(a) for a in getattr(ref, name)
        ]
    units = [X.shape[1], 7, 5, ref.n_outputs_]
    assert [c.shape for c in ours.coefs_] == list(pairwise(units))
    assert [b.shape for b in ours.intercepts_] == [(n,) for n in units[1:]]
    assert_array_equal(ours.classes_, ref.classes_)
    for name in ["n_features_in_", "n_layers_", "n_outputs_", "out_activation_"]:
        assert getattr(ours, name) == getattr(ref, name), name
    assert isinstance(ours.n_iter_, int) and 1 <= ours.n_iter_ <= 15
    assert isinstance(ours.t_, int)
    assert isinstance(ours.loss_, float) and np.isfinite(ours.loss_)
    assert isinstance(ours.loss_curve_, list)
    assert all(isinstance(v, float) for v in ours.loss_curve_)
    if solver != "lbfgs":
        assert len(ours.loss_curve_) == ours.n_iter_
        assert ours.loss_ == ours.loss_curve_[-1]
        n_train = X.shape[0] - (int(np.ceil(0.1 * X.shape[0])) if early_stopping else 0)
        assert ours.t_ == ours.n_iter_ * n_train
    if early_stopping:
        assert ours.best_loss_ is None
        assert len(ours.validation_scores_) == ours.n_iter_
        assert all(isinstance(v, float) for v in ours.validation_scores_)
        assert ours.best_validation_score_ == max(ours.validation_scores_)
    else:
        assert ours.validation_scores_ is None
        assert ours.best_validation_score_ is None
        assert ours.best_loss_ == min(ours.loss_curve_)


PARITY_OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"batch_size": 32}, id="batch32"),
    pytest.param({"shuffle": False}, id="noshuffle"),
    pytest.param({"alpha": 0.1, "activation": "tanh"}, id="tanh-alpha"),
    pytest.param({"activation": "logistic"}, id="logistic"),
]


@pytest.mark.parametrize("options", PARITY_OPTIONS)
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_stochastic_training_follows_mlpclassifier(solver, target, options):
    X, y = TARGETS[target]
    ours, ref = fit_both(
        X,
        y,
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
        **options,
    )
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert_allclose(ours.loss_, ref.loss_, rtol=1e-6)
    assert_allclose(ours.best_loss_, ref.best_loss_, rtol=1e-6)
    assert_params_close(ours, ref)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"nesterovs_momentum": False}, id="momentum"),
        pytest.param({"momentum": 0.0}, id="plain"),
        pytest.param({"learning_rate": "invscaling", "power_t": 0.25}, id="invscaling"),
        pytest.param({"learning_rate": "adaptive", "tol": 1e-2}, id="adaptive"),
    ],
)
def test_sgd_variants_follow_mlpclassifier(options):
    ours, ref = fit_both(
        X_MOONS,
        Y_MOONS,
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate_init=0.5,
        max_iter=120,
        random_state=0,
        **options,
    )
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert_params_close(ours, ref)


@pytest.mark.parametrize("target", list(TARGETS))
def test_lbfgs_follows_mlpclassifier(target):
    # Over more iterations, rounding differences of 1e-15 can make the line
    # searches diverge: compare the first iterations.
    X, y = TARGETS[target]
    ours, ref = fit_both(
        X, y, hidden_layer_sizes=(10,), solver="lbfgs", max_iter=10, random_state=0
    )
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.loss_, ref.loss_, rtol=1e-6)
    assert_params_close(ours, ref, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_initial_weights_are_mlpclassifiers(activation, target, dtype):
    # With a learning rate of 1e-300 one SGD step without momentum leaves every
    # weight at its initial value, so coefs_ are the initial draws.
    X, y = TARGETS[target]
    X = X.astype(dtype)
    ours, ref = fit_both(
        X,
        y,
        hidden_layer_sizes=(6, 4),
        activation=activation,
        solver="sgd",
        learning_rate_init=1e-300,
        momentum=0.0,
        max_iter=1,
        random_state=0,
    )
    units = [X.shape[1], 6, 4, ref.n_outputs_]
    coefs, intercepts = nn.init_params(
        units, activation, np.random.RandomState(0), dtype
    )
    for a, b, c in zip(
        ref.coefs_ + ref.intercepts_, ours.coefs_ + ours.intercepts_, coefs + intercepts
    ):
        assert a.dtype == b.dtype == c.dtype == dtype
        assert_array_equal(b, a)
        assert_array_equal(c, a)


# Fitted state is plain data -----------------------------------------------------------


def _assert_plain(value, path):
    """Fail unless ``value`` is arrays, lists, dicts, numbers, strings or None."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            for i, v in enumerate(value.ravel()):
                _assert_plain(v, f"{path}[{i}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _assert_plain(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{path} has key {k!r}"
            _assert_plain(v, f"{path}[{k!r}]")
    else:
        plain = type(value) in (str, bool, int, float, type(None)) or isinstance(
            value, (np.number, np.bool_)
        )
        assert plain, f"{path} is a {type(value).__module__}.{type(value).__name__}"


def _fitted_variants():
    X, y = X_MOONS, Y_MOONS
    yield "adam", MLPAutogradClassifier(max_iter=5, random_state=0).fit(X, y)
    yield (
        "sgd-multiclass",
        MLPAutogradClassifier(solver="sgd", max_iter=5).fit(X_IRIS, Y_IRIS),
    )
    yield (
        "lbfgs-multilabel",
        MLPAutogradClassifier(solver="lbfgs", max_iter=5).fit(X_ML, Y_ML),
    )
    yield (
        "early-stopping-strings",
        MLPAutogradClassifier(early_stopping=True, max_iter=5).fit(
            X, np.array(["no", "yes"])[y]
        ),
    )
    clf = MLPAutogradClassifier(solver="sgd", random_state=0)
    for _ in range(2):
        clf.partial_fit(X, y, classes=[0, 1])
    yield "partial-fit", clf
    yield (
        "float32-sparse",
        MLPAutogradClassifier(max_iter=5).fit(sp.csr_matrix(X.astype(np.float32)), y),
    )


@IGNORE_CONVERGENCE
def test_fitted_state_is_plain_data():
    for name, clf in _fitted_variants():
        for attr, value in vars(clf).items():
            _assert_plain(value, f"{name}: {attr}")
            assert not isinstance(value, Tensor)


# Solvers, schedules and activations learn ---------------------------------------------

X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(
    *make_moons(400, noise=0.2, random_state=0), random_state=0
)

LEARNING_CASES = {
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.1),
    "sgd-momentum": dict(
        solver="sgd", learning_rate_init=0.1, nesterovs_momentum=False
    ),
    "sgd-no-momentum": dict(solver="sgd", learning_rate_init=0.1, momentum=0.0),
    "sgd-constant": dict(
        solver="sgd", learning_rate="constant", learning_rate_init=0.1
    ),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate="invscaling", learning_rate_init=1.0, power_t=0.25
    ),
    "sgd-adaptive": dict(
        solver="sgd", learning_rate="adaptive", learning_rate_init=0.1
    ),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "lbfgs": dict(solver="lbfgs"),
    **{
        f"{act}-{solver}": dict(solver=solver, activation=act, learning_rate_init=0.01)
        for act in ["identity", "logistic", "tanh", "relu"]
        for solver in ["adam", "lbfgs"]
    },
}


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("params", LEARNING_CASES.values(), ids=LEARNING_CASES.keys())
def test_learns_two_moons(params):
    clf = MLPAutogradClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0)
    clf.set_params(**params).fit(X_TRAIN, Y_TRAIN)
    assert clf.score(X_TEST, Y_TEST) > 0.85
    assert clf.loss_ < clf.loss_curve_[0]


def test_lbfgs_honours_max_iter():
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = MLPAutogradClassifier(solver="lbfgs", max_iter=5, random_state=0)
        clf.fit(X_MOONS, Y_MOONS)
    assert clf.n_iter_ <= 5
    assert len(clf.loss_curve_) == clf.n_iter_


def test_lbfgs_honours_max_fun(monkeypatch):
    calls = []
    objective = skvgrad.base.nn.Objective  # the class the estimators use
    evaluate = objective.__call__

    def counting(*args, **kwargs):
        calls.append(1)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(objective, "__call__", counting)
    params = dict(solver="lbfgs", max_fun=10, max_iter=200, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf = MLPAutogradClassifier(**params).fit(X_MOONS, Y_MOONS)
    with pytest.warns(ConvergenceWarning):
        ref = MLPClassifier(**params).fit(X_MOONS, Y_MOONS)
    assert clf.n_iter_ < 10
    assert clf.n_iter_ == ref.n_iter_
    # SciPy checks max_fun after each iteration, so the last line search may
    # go a few evaluations past it (MLPClassifier evaluates 12 times here).
    assert 10 <= len(calls) <= 15


def test_lbfgs_converged_gives_no_warning():
    X, y = make_blobs(100, centers=2, cluster_std=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPAutogradClassifier(solver="lbfgs", tol=1e-3, random_state=0)
        clf.fit(X, y)
    assert clf.n_iter_ < clf.max_iter


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_stochastic_max_iter_reached_warns(solver):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        clf = MLPAutogradClassifier(solver=solver, max_iter=3, random_state=0)
        clf.fit(X_MOONS, Y_MOONS)
    assert clf.n_iter_ == 3


# Output layer -------------------------------------------------------------------------


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_output_layer_logistic_for_binary(solver):
    clf = MLPAutogradClassifier(solver=solver, max_iter=50, random_state=0)
    clf.fit(X_MOONS, Y_MOONS)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1 and clf.coefs_[-1].shape[1] == 1
    proba = clf.predict_proba(X_MOONS)
    assert proba.shape == (len(X_MOONS), 2)
    z = nn.forward(clf.coefs_, clf.intercepts_, X_MOONS, clf.activation)[:, 0]
    assert_allclose(proba[:, 1], expit(z), rtol=1e-12)
    assert_allclose(proba[:, 0], expit(-z), rtol=1e-12)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_output_layer_logistic_for_multilabel(solver):
    clf = MLPAutogradClassifier(solver=solver, max_iter=50, random_state=0)
    clf.fit(X_ML, Y_ML)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == Y_ML.shape[1]
    proba = clf.predict_proba(X_ML)
    assert proba.shape == Y_ML.shape
    z = nn.forward(clf.coefs_, clf.intercepts_, X_ML, clf.activation)
    assert_allclose(proba, 1 / (1 + np.exp(-z)), rtol=1e-10, atol=1e-15)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent labels


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_output_layer_softmax_for_multiclass(solver):
    clf = MLPAutogradClassifier(solver=solver, max_iter=50, random_state=0)
    clf.fit(X_IRIS, Y_IRIS)
    assert clf.out_activation_ == "softmax"
    assert clf.n_outputs_ == 3
    proba = clf.predict_proba(X_IRIS)
    z = nn.forward(clf.coefs_, clf.intercepts_, X_IRIS, clf.activation)
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(proba, expected, rtol=1e-10, atol=1e-15)


# Loss and sample weights --------------------------------------------------------------

SW = np.random.RandomState(0).uniform(0.1, 3.0, size=300)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_loss_is_the_weighted_objective(target, weighted):
    X, y = TARGETS[target]
    sw = SW[: len(X)] if weighted else None
    alpha = 0.05
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        alpha=alpha,
        max_iter=30,
        random_state=0,
    ).fit(X, y, sample_weight=sw)
    Y = indicator(clf, y)
    assert_allclose(clf.loss_, objective(clf, X, Y, sw, alpha), rtol=1e-10)
    # And by hand, from the predicted probabilities.
    p = clf.predict_proba(X)
    if target == "binary":
        p = p[:, 1:]
    if clf.out_activation_ == "softmax":
        losses = -(Y * np.log(p)).sum(axis=1)
    else:
        losses = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum(axis=1)
    w = np.ones(len(X)) if sw is None else sw
    penalty = sum((W**2).sum() for W in clf.coefs_)
    expected = ((w * losses).sum() + 0.5 * alpha * penalty) / w.sum()
    assert_allclose(clf.loss_, expected, rtol=1e-8)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_weighted_training_follows_mlpclassifier(target, solver):
    X, y = TARGETS[target]
    sw = np.random.RandomState(1).randint(0, 4, size=len(X)).astype(float)
    ours, ref = fit_both(
        X,
        y,
        sample_weight=sw,
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=20,
        n_iter_no_change=20,
        random_state=0,
    )
    assert ours.n_iter_ == ref.n_iter_ == 20
    assert_params_close(ours, ref)
    # With one batch per epoch the epoch loss is the objective: same curve.
    ours, ref = fit_both(
        X,
        y,
        sample_weight=sw,
        hidden_layer_sizes=(10,),
        solver=solver,
        batch_size=len(X),
        learning_rate_init=0.01,
        max_iter=20,
        random_state=0,
    )
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert_params_close(ours, ref)


@pytest.mark.parametrize("target", list(TARGETS))
def test_weighted_epoch_loss_is_the_weighted_mean_over_all_batches(target):
    # A learning rate of 1e-300 keeps the weights at their initial values, so
    # the epoch loss over batches of unequal weight must be the weighted mean
    # log-loss of all samples at those weights.
    X, y = TARGETS[target]
    sw = np.random.RandomState(1).randint(0, 4, size=len(X)).astype(float)
    sw[:40] *= 10  # the first batch weighs much more than the others
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(10,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-300,
        alpha=0.0,
        batch_size=40,
        shuffle=False,
        max_iter=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=sw)
    Y = indicator(clf, y)
    p = clf.predict_proba(X)
    if target == "binary":
        p = p[:, 1:]
    if clf.out_activation_ == "softmax":
        losses = -(Y * np.log(p)).sum(axis=1)
    else:
        losses = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum(axis=1)
    assert_allclose(clf.loss_, np.average(losses, weights=sw), rtol=1e-10)


def _full_batch(solver, n_samples, **params):
    """Parameters training on the whole data as one batch, in a fixed order."""
    if solver == "lbfgs":
        # More iterations let rounding differences steer the line searches.
        return dict(solver="lbfgs", max_iter=25, **params)
    return dict(
        solver=solver,
        batch_size=n_samples,
        shuffle=False,
        learning_rate_init=0.05,
        max_iter=40,
        **params,
    )


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_integer_weights_equal_repeated_rows(solver, target):
    X, y = (X_MOONS[:120], Y_MOONS[:120]) if target == "binary" else (X_IRIS, Y_IRIS)
    reps = np.random.RandomState(0).randint(0, 4, size=len(X))
    common = dict(hidden_layer_sizes=(8,), alpha=0.01, random_state=0)
    weighted = MLPAutogradClassifier(**_full_batch(solver, len(X), **common))
    weighted.fit(X, y, sample_weight=reps.astype(float))
    Xr, yr = np.repeat(X, reps, axis=0), np.repeat(y, reps)
    repeated = MLPAutogradClassifier(**_full_batch(solver, len(Xr), **common))
    repeated.fit(Xr, yr)
    assert weighted.n_iter_ == repeated.n_iter_
    assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-6)
    assert_params_close(weighted, repeated, rtol=1e-6, atol=1e-9)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_zero_weight_samples_have_no_effect(solver):
    X, y = X_IRIS, Y_IRIS
    rng = np.random.RandomState(0)
    noise_X = rng.normal(scale=3.0, size=(40, X.shape[1]))
    noise_y = rng.randint(3, size=40)
    X_all, y_all = np.vstack([X, noise_X]), np.concatenate([y, noise_y])
    sw = np.concatenate([np.ones(len(X)), np.zeros(40)])
    common = dict(hidden_layer_sizes=(8,), random_state=0)
    with_zeros = MLPAutogradClassifier(**_full_batch(solver, len(X_all), **common))
    with_zeros.fit(X_all, y_all, sample_weight=sw)
    without = MLPAutogradClassifier(**_full_batch(solver, len(X), **common))
    without.fit(X, y)
    assert_allclose(with_zeros.loss_, without.loss_, rtol=1e-8)
    assert_params_close(with_zeros, without, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_all_zero_weight_batch_is_skipped(solver):
    # The first batch of 10 has only zero weights: it must be skipped, which
    # trains exactly as on the data without it (same later batches).
    X, y = X_MOONS[:100], Y_MOONS[:100]
    sw = np.ones(len(X))
    sw[:10] = 0.0
    params = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        batch_size=10,
        shuffle=False,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPAutogradClassifier(**params).fit(X, y, sample_weight=sw)
        ref = MLPAutogradClassifier(**params).fit(X[10:], y[10:])
    assert np.all(np.isfinite(clf.loss_curve_))
    assert all(np.isfinite(p).all() for p in clf.coefs_ + clf.intercepts_)
    assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert_params_close(clf, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_zero_weight_batches_when_shuffled_give_no_nan_and_no_warning(solver):
    X, y = X_MOONS, Y_MOONS
    sw = np.zeros(len(X))
    sw[::25] = 1.0  # most batches of 4 are all zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPAutogradClassifier(
            hidden_layer_sizes=(5,),
            solver=solver,
            batch_size=4,
            max_iter=5,
            random_state=0,
        ).fit(X, y, sample_weight=sw)
        proba = clf.predict_proba(X)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert np.all(np.isfinite(proba))


# early_stopping, tol and n_iter_no_change ---------------------------------------------


def test_early_stopping_records_validation_scores():
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(10,),
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X_MOONS, Y_MOONS)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert all(0.0 <= s <= 1.0 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # It stopped because the score stopped improving for n_iter_no_change epochs.
    best_epoch = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ - 1 - best_epoch >= clf.n_iter_no_change
    # 10% of 300 samples are held out.
    assert clf.t_ == clf.n_iter_ * 270


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_early_stopping_binary_follows_mlpclassifier(solver):
    # MLPClassifier stratifies the split of binary targets too: same split,
    # same scores, same restored best weights.
    ours, ref = fit_both(
        X_MOONS,
        Y_MOONS,
        hidden_layer_sizes=(10,),
        solver=solver,
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    )
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.validation_scores_, ref.validation_scores_, rtol=1e-12)
    assert ours.best_validation_score_ == ref.best_validation_score_
    assert_params_close(ours, ref)


def test_early_stopping_returns_the_best_epochs_weights():
    params = dict(
        hidden_layer_sizes=(10,),
        early_stopping=True,
        validation_fraction=0.3,
        learning_rate_init=0.02,
        n_iter_no_change=8,
        random_state=1,
    )
    X, y = make_moons(200, noise=0.35, random_state=1)
    full = MLPAutogradClassifier(**params, max_iter=300).fit(X, y)
    best = int(np.argmax(full.validation_scores_))  # first best epoch
    assert best + 1 < full.n_iter_, "the best epoch must not be the last one"
    # Training stops after the same epochs, whatever max_iter: stopping at the
    # best epoch gives the weights that the long run must have restored.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = MLPAutogradClassifier(**params, max_iter=best + 1).fit(X, y)
    assert short.validation_scores_ == full.validation_scores_[: best + 1]
    assert_params_close(full, short, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_early_stopping_split_is_mlpclassifiers(monkeypatch, n_classes):
    # scikit-learn 1.9 stratifies the split of single-output (binary) targets
    # only; the held-out part is the same, and so is the best epoch's score.
    calls = []

    def spy(*arrays, **kwargs):
        parts = train_test_split(*arrays, **kwargs)
        calls.append((kwargs, parts))
        return parts

    monkeypatch.setattr(skvgrad.base, "train_test_split", spy)
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(n_classes), [70, 20, 10][:n_classes])
    X = rng.normal(size=(len(y), 3)) + y[:, None]
    params = dict(
        hidden_layer_sizes=(10,),
        early_stopping=True,
        validation_fraction=0.2,
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    )
    clf, ref = fit_both(X, y, **params)
    [(kwargs, parts)] = calls
    if n_classes == 2:
        assert kwargs["stratify"] is not None
        assert_array_equal(np.bincount(parts[5]), [14, 4])  # y's held-out part
    else:
        assert kwargs["stratify"] is None
    assert clf.n_iter_ == ref.n_iter_
    assert_allclose(clf.validation_scores_, ref.validation_scores_, rtol=0, atol=0)
    assert clf.score(parts[1], parts[5]) == clf.best_validation_score_


def test_early_stopping_on_digits_follows_mlpclassifier():
    # A multiclass set with early stopping: the same split, epochs and model.
    X, y = load_digits(return_X_y=True)
    params = dict(early_stopping=True, random_state=0, max_iter=60)
    clf, ref = fit_both(X / 16, y, **params)
    assert clf.n_iter_ == ref.n_iter_
    assert_allclose(clf.validation_scores_, ref.validation_scores_, rtol=0, atol=0)
    assert_allclose(clf.predict_proba(X / 16), ref.predict_proba(X / 16), atol=1e-9)


def test_early_stopping_lets_a_one_member_class_raise_as_mlpclassifier():
    X = [[1, 2], [2, 3], [3, 4], [4, 5]]
    y = [0, 0, 0, 1]
    match = "The least populated classes in y have only 1 member.*\\['True'\\]"
    for Estimator in (MLPClassifier, MLPAutogradClassifier):
        with pytest.raises(ValueError, match=match):
            Estimator(early_stopping=True).fit(X, y)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("n_iter_no_change", [1, 4])
def test_tol_and_n_iter_no_change_stop_training(early_stopping, n_iter_no_change):
    # With a huge tol nothing ever counts as an improvement after the first
    # epoch: training stops after n_iter_no_change + 1 further epochs.
    params = dict(
        hidden_layer_sizes=(5,),
        tol=1e3,
        n_iter_no_change=n_iter_no_change,
        early_stopping=early_stopping,
        max_iter=100,
        random_state=0,
    )
    ours, ref = fit_both(X_MOONS, Y_MOONS, **params)
    assert ours.n_iter_ == n_iter_no_change + 2 == ref.n_iter_


def test_converges_before_max_iter_on_an_easy_problem():
    X, y = make_blobs(200, centers=2, cluster_std=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPAutogradClassifier(
            hidden_layer_sizes=(10,),
            learning_rate_init=0.01,
            max_iter=2000,
            random_state=0,
        ).fit(X, y)
    assert clf.n_iter_ < 2000
    assert clf.score(X, y) == 1.0


def test_smaller_n_iter_no_change_stops_earlier():
    n_iters = []
    for n in [2, 10, 30]:
        clf = MLPAutogradClassifier(
            hidden_layer_sizes=(10,),
            learning_rate_init=0.01,
            tol=1e-3,
            n_iter_no_change=n,
            max_iter=1000,
            random_state=0,
        ).fit(X_MOONS, Y_MOONS)
        n_iters.append(clf.n_iter_)
    assert n_iters[0] < n_iters[1] < n_iters[2] < 1000


def test_n_iter_no_change_inf_never_stops():
    with pytest.warns(ConvergenceWarning):
        clf = MLPAutogradClassifier(
            hidden_layer_sizes=(5,), tol=1e3, n_iter_no_change=np.inf, max_iter=30
        ).fit(X_MOONS, Y_MOONS)
    assert clf.n_iter_ == 30


# warm_start ---------------------------------------------------------------------------


def test_warm_start_continues_from_the_previous_weights():
    # Full-batch SGD without momentum is memoryless apart from the weights:
    # two warm-started fits of 10 epochs are one fit of 20 epochs.
    params = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        batch_size=len(X_MOONS),
        shuffle=False,
        learning_rate_init=0.1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = MLPAutogradClassifier(**params, warm_start=True, max_iter=10)
        warm.fit(X_MOONS, Y_MOONS)
        first_curve = list(warm.loss_curve_)
        warm.fit(X_MOONS, Y_MOONS)
        cold = MLPAutogradClassifier(**params, max_iter=20).fit(X_MOONS, Y_MOONS)
    assert_params_close(warm, cold, rtol=1e-10, atol=1e-12)
    assert warm.loss_curve_[:10] == first_curve
    assert_allclose(warm.loss_curve_, cold.loss_curve_, rtol=1e-10)
    assert warm.t_ == cold.t_


@IGNORE_CONVERGENCE
def test_warm_start_loss_continues():
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(10,),
        learning_rate_init=0.01,
        warm_start=True,
        max_iter=30,
        random_state=0,
    ).fit(X_MOONS, Y_MOONS)
    curve = list(clf.loss_curve_)
    clf.fit(X_MOONS, Y_MOONS)
    assert len(clf.loss_curve_) == 60
    # The second fit starts near where the first ended, far below the start.
    assert clf.loss_curve_[30] < 0.5 * (curve[0] + curve[-1])
    assert clf.loss_curve_[-1] < curve[-1]
    cold = MLPAutogradClassifier(
        hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=30, random_state=0
    ).fit(X_MOONS, Y_MOONS)
    assert cold.loss_curve_ == curve  # without warm_start, fit starts afresh


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_warm_start_n_iter_counts_this_fit_like_mlpclassifier(solver):
    params = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        warm_start=True,
        max_iter=15,
        random_state=0,
    )
    ours, ref = fit_both(X_MOONS, Y_MOONS, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X_MOONS, Y_MOONS)
        ref.fit(X_MOONS, Y_MOONS)
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert ours.t_ == ref.t_
    assert_params_close(ours, ref)
    assert ours.n_iter_ == ref.n_iter_ == 15  # epochs of the last call to fit


def test_warm_start_second_fit_warns_when_it_reaches_max_iter():
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(5,), warm_start=True, max_iter=5, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_MOONS, Y_MOONS)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(5\\)"):
        clf.fit(X_MOONS, Y_MOONS)


def test_warm_start_of_a_converged_model_stops_quickly():
    params = dict(
        hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=500, random_state=0
    )
    X, y = make_blobs(200, centers=2, cluster_std=0.5, random_state=0)
    clf = MLPAutogradClassifier(**params, warm_start=True).fit(X, y)
    n_first = len(clf.loss_curve_)
    assert n_first < 500
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    n_second = len(clf.loss_curve_) - n_first
    assert n_second <= clf.n_iter_no_change + 2
    assert clf.n_iter_ == n_second


@pytest.mark.parametrize("new_classes", [[0, 1], [0, 1, 5]])
def test_warm_start_with_other_classes_raises(new_classes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPAutogradClassifier(warm_start=True, max_iter=5, random_state=0)
        clf.fit(X_IRIS, Y_IRIS)
    y_new = np.asarray(new_classes)[np.arange(len(X_IRIS)) % len(new_classes)]
    coefs = [c.copy() for c in clf.coefs_]
    with pytest.raises(ValueError, match="classes"):
        clf.fit(X_IRIS, y_new)
    assert_array_equal(clf.classes_, [0, 1, 2])
    for a, b in zip(coefs, clf.coefs_):
        assert_array_equal(a, b)


# partial_fit --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_takes_weights_third_as_mlpclassifier(solver):
    # Weights that look like labels were once read as ``classes``, silently.
    X, y = TARGETS["binary"]
    w = (np.arange(len(y)) % 3 == 0).astype(float)
    fitted = {}
    for how in ["positional", "keyword", "unweighted"]:
        clf = MLPAutogradClassifier((5,), solver=solver, random_state=0)
        clf.partial_fit(X, y, classes=[0, 1])
        if how == "positional":
            clf.partial_fit(X, y, w)
        elif how == "keyword":
            clf.partial_fit(X, y, sample_weight=w)
        else:
            clf.partial_fit(X, y)
        fitted[how] = clf.coefs_[0]
    assert_array_equal(fitted["positional"], fitted["keyword"])
    assert not np.allclose(fitted["positional"], fitted["unweighted"])
    ref = MLPClassifier((5,), solver=solver, random_state=0)
    ref.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y, w)
    assert_allclose(fitted["positional"], ref.coefs_[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_first_call_needs_classes(solver):
    clf = MLPAutogradClassifier(solver=solver)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X_MOONS, Y_MOONS)
    assert not hasattr(clf, "coefs_")
    clf.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])
    clf.partial_fit(X_MOONS, Y_MOONS)  # later calls do not need them


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_decreases_the_loss(solver):
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(20,), solver=solver, learning_rate_init=0.02, random_state=0
    )
    for _ in range(40):
        clf.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])
    curve = clf.loss_curve_
    assert len(curve) == 40
    assert curve[-1] < 0.7 * curve[0]
    assert np.mean(np.diff(curve) < 0) > 0.8
    assert clf.score(X_MOONS, Y_MOONS) > 0.85
    assert clf.t_ == 40 * len(X_MOONS)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_follows_mlpclassifier(solver):
    params = dict(
        hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    ours, ref = MLPAutogradClassifier(**params), MLPClassifier(**params)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(X_IRIS))
    for start in [0, 50, 100, 0, 75]:
        rows = slice(start, start + 75)
        ours.partial_fit(X_IRIS[rows], Y_IRIS[rows], classes=[0, 1, 2])
        ref.partial_fit(X_IRIS[rows], Y_IRIS[rows], classes=[0, 1, 2])
    ours.partial_fit(X_IRIS, Y_IRIS, sample_weight=sw)
    ref.partial_fit(X_IRIS, Y_IRIS, sample_weight=sw)
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert ours.t_ == ref.t_
    assert_params_close(ours, ref)
    assert ours.n_iter_ == ref.n_iter_  # MLPClassifier: 1, the epochs of this call


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_knows_classes_not_yet_seen(solver):
    clf = MLPAutogradClassifier(solver=solver, random_state=0)
    first = Y_IRIS < 2
    clf.partial_fit(X_IRIS[first], Y_IRIS[first], classes=[0, 1, 2])
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.out_activation_ == "softmax"
    assert clf.predict_proba(X_IRIS).shape == (150, 3)
    clf.partial_fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X_IRIS[:3], [0, 1, 7])


def test_partial_fit_with_early_stopping_raises():
    clf = MLPAutogradClassifier(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        clf.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])


def test_lbfgs_has_no_partial_fit():
    clf = MLPAutogradClassifier(solver="lbfgs")
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit.*lbfgs is not stochastic"):
        clf.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])
    clf.set_params(solver="adam")
    assert hasattr(clf, "partial_fit")


# Inputs -------------------------------------------------------------------------------


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_float32_is_kept_and_learns_like_float64(solver):
    params = dict(
        hidden_layer_sizes=(20,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    )
    X32 = X_TRAIN.astype(np.float32)
    clf32 = MLPAutogradClassifier(**params).fit(X32, Y_TRAIN)
    clf64 = MLPAutogradClassifier(**params).fit(X_TRAIN, Y_TRAIN)
    assert all(p.dtype == np.float32 for p in clf32.coefs_ + clf32.intercepts_)
    assert all(p.dtype == np.float64 for p in clf64.coefs_ + clf64.intercepts_)
    X_test32 = X_TEST.astype(np.float32)
    assert clf32.predict_proba(X_test32).dtype == np.float32
    assert clf32.predict_log_proba(X_test32).dtype == np.float32
    # float64 data is not rounded to the model's float32, as in MLPClassifier.
    assert clf32.predict_proba(X_TEST).dtype == np.float64
    assert clf64.predict_proba(X_test32).dtype == np.float64
    acc32 = clf32.score(X_TEST.astype(np.float32), Y_TEST)
    acc64 = clf64.score(X_TEST, Y_TEST)
    assert abs(acc32 - acc64) <= 0.02
    if solver != "lbfgs":  # L-BFGS in float32 may end at another local optimum
        p32, p64 = clf32.predict_proba(X_TEST), clf64.predict_proba(X_TEST)
        assert_allclose(p32, p64, atol=0.05)


def _sparse_problem():
    rng = np.random.RandomState(0)
    extra = rng.normal(size=(300, 8)) * (rng.uniform(size=(300, 8)) < 0.1)
    X = np.hstack([X_MOONS, extra])
    X[np.abs(X) < 0.3] = 0.0
    return X, Y_MOONS


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_X_gives_the_same_model_as_dense(fmt, solver):
    X, y = _sparse_problem()
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    params = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=50, random_state=0)
    dense = MLPAutogradClassifier(**params).fit(X, y)
    sparse = MLPAutogradClassifier(**params).fit(X_sparse, y)
    assert sp.issparse(X_sparse) and X_sparse.format == fmt  # not modified
    assert_allclose(sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-6)
    assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), rtol=1e-6)
    assert_array_equal(sparse.predict(X_sparse), dense.predict(X))
    assert_params_close(sparse, dense, rtol=1e-6, atol=1e-9)


@IGNORE_CONVERGENCE
def test_sparse_array_classes_are_accepted():
    X, y = _sparse_problem()
    clf = MLPAutogradClassifier(max_iter=5, random_state=0).fit(sp.csr_array(X), y)
    assert_allclose(clf.predict_proba(sp.csc_array(X)), clf.predict_proba(X))


@IGNORE_CONVERGENCE
def test_dataframe_sets_feature_names_and_checks_them_as_sklearn():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X_MOONS, columns=["width", "height"])
    renamed = df.rename(columns={"height": "depth"})
    y = pd.Series(np.array(["left", "right"])[Y_MOONS], name="side")
    for cls in [MLPClassifier, MLPAutogradClassifier]:
        clf = cls(max_iter=5, random_state=0).fit(df, y)
        assert_array_equal(clf.feature_names_in_, ["width", "height"])
        assert clf.feature_names_in_.dtype == object
        assert_array_equal(clf.classes_, ["left", "right"])
        with pytest.raises(ValueError, match="feature names should match"):
            clf.predict(renamed)
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            clf.predict(X_MOONS)
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            assert_array_equal(clf.predict(df), clf.predict(df.to_numpy()))
    clf = MLPAutogradClassifier(max_iter=5, random_state=0).fit(X_MOONS, Y_MOONS)
    assert not hasattr(clf, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        clf.predict(df)


LABEL_CASES = {
    "int": np.array([0, 1, 2]),
    "non-contiguous": np.array([3, 7, 11]),
    "negative": np.array([-5, -1, 2]),
    "str": np.array(["cat", "dog", "fish"]),
    "object": np.array(["cat", "dog", "fish"], dtype=object),
}


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("labels", LABEL_CASES.values(), ids=LABEL_CASES.keys())
@pytest.mark.parametrize("n_classes", [2, 3])
def test_labels_are_encoded_in_sorted_order(labels, n_classes):
    keep = Y_IRIS < n_classes
    X, y_int = X_IRIS[keep], Y_IRIS[keep]
    labels = labels[:n_classes]
    params = dict(
        hidden_layer_sizes=(10,), learning_rate_init=0.02, max_iter=50, random_state=0
    )
    base = MLPAutogradClassifier(**params).fit(X, y_int)
    clf = MLPAutogradClassifier(**params).fit(X, labels[y_int])
    assert_array_equal(clf.classes_, labels)
    assert clf.classes_.dtype == labels.dtype
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype
    assert_array_equal(pred, labels[base.predict(X)])
    assert_array_equal(clf.predict_proba(X), base.predict_proba(X))
    assert clf.score(X, labels[y_int]) == base.score(X, y_int) > 0.9


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_indicator_targets(solver):
    ours, ref = fit_both(
        X_ML,
        Y_ML,
        hidden_layer_sizes=(20,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    )
    assert_array_equal(ours.classes_, [0, 1, 2])
    pred = ours.predict(X_ML)
    assert pred.shape == Y_ML.shape
    assert set(np.unique(pred)) <= {0, 1}
    assert_array_equal(pred, (ours.predict_proba(X_ML) > 0.5).astype(int))
    assert abs(ours.score(X_ML, Y_ML) - ref.score(X_ML, Y_ML)) <= 0.05
    assert ours.score(X_ML, Y_ML) > 0.4  # subset accuracy; chance is 1 / 8


@IGNORE_CONVERGENCE
def test_multilabel_probabilities_stay_strictly_inside_0_1_when_saturated():
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500, random_state=0
    ).fit(10 * X_ML, Y_ML)
    proba = clf.predict_proba(1000 * X_ML)
    assert np.all((proba > 0) & (proba < 1))


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_multilabel_targets_fit_and_predict_as_mlpclassifier(solver):
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=30, random_state=0)
    dense = MLPAutogradClassifier(**params).fit(X_ML, Y_ML)
    sparse = MLPAutogradClassifier(**params).fit(X_ML, sp.csr_matrix(Y_ML))
    assert_params_close(sparse, dense, rtol=0, atol=0)
    predicted = sparse.predict(X_ML)
    ref = MLPClassifier(**params).fit(X_ML, sp.csr_matrix(Y_ML))
    # MLPClassifier answers a sparse y with a sparse CSR matrix of its dtype.
    assert sp.issparse(predicted) and predicted.format == "csr"
    assert predicted.dtype == ref.predict(X_ML).dtype
    assert_array_equal(predicted.toarray(), dense.predict(X_ML))
    if solver == "adam":
        assert_array_equal(predicted.toarray(), ref.predict(X_ML).toarray())
    assert sparse.score(X_ML, sp.csr_matrix(Y_ML)) == dense.score(X_ML, Y_ML)


@IGNORE_CONVERGENCE
def test_binary_probabilities_are_mlpclassifiers_unclipped_logistic():
    # One feature at -50 and 50, lbfgs: logits near -61 and 28. The
    # probabilities are the logistic, not clipped at 2.2e-16 (log -36).
    X = np.array([[-50.0], [50.0]] * 10)
    y = np.array([0, 1] * 10)
    ours = MLPAutogradClassifier(solver="lbfgs", random_state=0).fit(X, y)
    ref = MLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
    proba, ref_proba = ours.predict_proba(X[:2]), ref.predict_proba(X[:2])
    assert proba[0, 1] < 1e-25
    assert_allclose(proba[:, 1], ref_proba[:, 1], rtol=1e-6)
    # MLPClassifier's first column is 1 - p: within eps of ours, which keeps
    # the relative precision of the small probability.
    assert_allclose(proba[:, 0], ref_proba[:, 0], rtol=0, atol=np.finfo(float).eps)
    z = ours.decision_function(X[:2])
    assert_allclose(proba[:, 0], expit(-z), rtol=1e-14)
    log_proba = ours.predict_log_proba(X[:2])
    assert log_proba[0, 1] < -55
    assert_allclose(log_proba[0, 1], np.log(ref_proba[0, 1]), rtol=1e-6)
    assert_allclose(log_proba, np.log(proba), rtol=1e-14)


# Prediction consistency ---------------------------------------------------------------


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multiclass_probabilities_are_the_engines_softmax_of_the_outputs(dtype):
    X, y = TARGETS["multiclass"]
    clf = MLPAutogradClassifier((10,), max_iter=20, random_state=0)
    clf.fit(X.astype(dtype), y)
    X_far = np.vstack([X, 30 * X]).astype(dtype)  # includes saturated outputs
    raw = clf._raw_predict(X_far)
    proba = clf.predict_proba(X_far)
    assert proba.dtype == dtype
    assert_array_equal(proba, engine.softmax(raw, axis=1))
    one_row = X_far[:1]  # its own matrix products (another BLAS kernel may round)
    assert_array_equal(
        clf.predict_proba(one_row), engine.softmax(clf._raw_predict(one_row), axis=1)
    )


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", ["binary", "multiclass"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_is_argmax_of_predict_proba(target, solver, dtype):
    X, y = TARGETS[target]
    X = X.astype(dtype)
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X, np.array(["a", "b", "c"])[y])
    X_far = np.vstack([X, 30 * X])  # includes saturated outputs
    proba = clf.predict_proba(X_far)
    assert proba.shape == (len(X_far), len(clf.classes_))
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert_array_equal(clf.predict(X_far), clf.classes_[np.argmax(proba, axis=1)])
    log_proba = clf.predict_log_proba(X_far)
    assert log_proba.dtype == dtype
    with np.errstate(divide="ignore"):
        expected = np.log(proba)
    finite = np.isfinite(expected)  # log(0) is -inf in both
    assert_array_equal(np.isfinite(log_proba), finite)
    # The same where the probability is a normal number; exact below it.
    normal = proba >= np.finfo(dtype).tiny
    assert_allclose(log_proba[normal], expected[normal], rtol=1e-6, atol=1e-7)
    assert clf.score(X, np.array(["a", "b", "c"])[y]) > 0.8


# verbose ------------------------------------------------------------------------------


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_not_verbose_prints_nothing(solver, capsys):
    MLPAutogradClassifier(solver=solver, max_iter=5, random_state=0).fit(
        X_MOONS, Y_MOONS
    )
    out, err = capsys.readouterr()
    assert out == "" and err == ""


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_verbose_prints_the_loss_of_every_epoch(solver, capsys, monkeypatch):
    # Without tqdm, verbose prints MLPClassifier's lines.
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    clf = MLPAutogradClassifier(
        solver=solver, max_iter=5, verbose=True, random_state=0
    ).fit(X_MOONS, Y_MOONS)
    out, _ = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("Iteration")]
    expected = [
        f"Iteration {i}, loss = {loss:.8f}"
        for i, loss in enumerate(clf.loss_curve_, start=1)
    ]
    assert lines == expected
    # The same lines as MLPClassifier prints.
    MLPClassifier(solver=solver, max_iter=5, verbose=True, random_state=0).fit(
        X_MOONS, Y_MOONS
    )
    ref_out, _ = capsys.readouterr()
    assert lines == [ln for ln in ref_out.splitlines() if ln.startswith("Iteration")]


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_verbose_shows_a_progress_bar_with_tqdm(solver, capsys):
    pytest.importorskip("tqdm", reason="the progress bar needs the progress extra")
    clf = MLPAutogradClassifier(solver=solver, max_iter=5, verbose=True, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_MOONS, Y_MOONS)
    out, err = capsys.readouterr()
    assert "Iteration" not in out
    assert "MLPAutogradClassifier" in err and f"loss={clf.loss_curve_[-1]:.6f}" in err


def test_not_verbose_prints_nothing_even_with_tqdm(capsys):
    with pytest.warns(ConvergenceWarning):
        MLPAutogradClassifier(max_iter=5, random_state=0).fit(X_MOONS, Y_MOONS)
    assert capsys.readouterr() == ("", "")


# GridSearchCV with parallel jobs ------------------------------------------------------


@IGNORE_CONVERGENCE
def test_grid_search_in_parallel_equals_sequential():
    X, y = load_wine(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", MLPAutogradClassifier(random_state=0, max_iter=60)),
        ]
    )
    grid = {
        "clf__hidden_layer_sizes": [(10,), (30,)],
        "clf__learning_rate_init": [1e-3, 1e-2],
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    searches = [
        GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)
    ]
    sequential, parallel = searches
    assert parallel.best_params_ == sequential.best_params_
    assert_array_equal(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    assert_array_equal(
        parallel.cv_results_["rank_test_score"],
        sequential.cv_results_["rank_test_score"],
    )
    # The grid matters: the scores are not all the same.
    assert len(set(sequential.cv_results_["mean_test_score"])) > 1
    assert_array_equal(parallel.predict_proba(X), sequential.predict_proba(X))


# Persistence --------------------------------------------------------------------------


def _persistence_models():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = np.array(["no", "yes"])[Y_MOONS]
        return {
            "adam-str": MLPAutogradClassifier(max_iter=20, random_state=0).fit(
                X_MOONS, labels
            ),
            "lbfgs-multiclass": MLPAutogradClassifier(
                solver="lbfgs", max_iter=20, random_state=0
            ).fit(X_IRIS, Y_IRIS),
            "sgd-early-stopping-float32": MLPAutogradClassifier(
                solver="sgd", early_stopping=True, max_iter=20, random_state=0
            ).fit(X_MOONS.astype(np.float32), Y_MOONS),
            "partial-fit-multilabel": MLPAutogradClassifier(random_state=0).partial_fit(
                X_ML, Y_ML
            ),
        }


def _data_for(name):
    if "multiclass" in name:
        return X_IRIS
    if "multilabel" in name:
        return X_ML
    return X_MOONS


@pytest.mark.parametrize("name", list(_persistence_models()))
def test_joblib_round_trip(name, tmp_path):
    clf = _persistence_models()[name]
    X = _data_for(name)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    assert type(loaded) is MLPAutogradClassifier
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.get_params() == clf.get_params()


CHILD = textwrap.dedent(
    """
    import sys

    import joblib
    import numpy as np

    model = joblib.load(sys.argv[1])
    data = np.load(sys.argv[2])
    proba = model.predict_proba(data["X"])
    assert type(model).__module__ == "skvgrad.classifier", type(model)
    assert proba.dtype == data["proba"].dtype, proba.dtype
    assert np.array_equal(proba, data["proba"]), np.abs(proba - data["proba"]).max()
    assert np.array_equal(model.predict(data["X"]), data["pred"])
    print("OK")
    """
)


def test_joblib_load_in_a_fresh_interpreter(tmp_path):
    models = _persistence_models()
    for name in ["adam-str", "sgd-early-stopping-float32"]:
        clf, X = models[name], _data_for(name)
        model_path, data_path = tmp_path / f"{name}.joblib", tmp_path / f"{name}.npz"
        joblib.dump(clf, model_path)
        np.savez(data_path, X=X, proba=clf.predict_proba(X), pred=clf.predict(X))
        script = tmp_path / "child.py"
        script.write_text(CHILD)
        result = subprocess.run(
            [sys.executable, str(script), str(model_path), str(data_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "OK"


@pytest.mark.parametrize("name", list(_persistence_models()))
def test_skops_round_trip_trusts_only_our_class(name, tmp_path):
    sio = pytest.importorskip("skops.io")
    clf = _persistence_models()[name]
    X = _data_for(name)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["skvgrad.classifier.MLPAutogradClassifier"]
    loaded = sio.load(path, trusted=untrusted)
    assert type(loaded) is MLPAutogradClassifier
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(loaded.predict(X), clf.predict(X))
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


# Learning parity with MLPClassifier ---------------------------------------------------


@cache
def _parity_data(name):
    if name == "moons":
        return make_moons(300, noise=0.2, random_state=0)
    if name == "circles":
        return make_circles(300, noise=0.1, factor=0.5, random_state=0)
    loader = {
        "iris": load_iris,
        "wine": load_wine,
        "breast_cancer": load_breast_cancer,
        "digits": load_digits,
    }[name]
    return loader(return_X_y=True)


PARITY_DATASETS = ["iris", "wine", "breast_cancer", "digits", "moons", "circles"]
PARITY_MAX_ITER = {"adam": 300, "sgd": 300, "lbfgs": 200}


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dataset", PARITY_DATASETS)
def test_cross_validated_accuracy_matches_mlpclassifier(dataset, solver):
    X, y = _parity_data(dataset)
    max_iter = PARITY_MAX_ITER[solver]
    if dataset == "digits" and solver != "lbfgs":
        max_iter = 60  # 10 classes x 64 features: enough epochs to compare
    params = dict(
        hidden_layer_sizes=(50,), solver=solver, max_iter=max_iter, random_state=0
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {
        cls: cross_val_score(
            make_pipeline(StandardScaler(), cls(**params)), X, y, cv=cv
        ).mean()
        for cls in (MLPAutogradClassifier, MLPClassifier)
    }
    ours, ref = scores[MLPAutogradClassifier], scores[MLPClassifier]
    assert ours >= ref - 0.02, f"{ours:.4f} vs MLPClassifier {ref:.4f}"
    assert abs(ours - ref) <= 0.02, f"{ours:.4f} vs MLPClassifier {ref:.4f}"


# ======================================================================================
# Beyond MLPClassifier (issue 7): custom and extra activations, class_weight, dropout,
# validation data of one's own, scoring, loss_curve_ for lbfgs, decision_function
# ======================================================================================

EXTRA_ACTIVATIONS = ["gelu", "silu", "softplus", "elu", "leaky_relu"]

# The extras, written here in plain NumPy (gelu exactly, with the error function:
# the engine's is the tanh approximation, within 1e-3 of it).
NUMPY_EXTRAS = {
    "gelu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))),
    "silu": lambda z: z * expit(z),
    "softplus": lambda z: np.logaddexp(0, z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
}


def _fit_quiet(clf, *args, **kwargs):
    """``clf.fit(*args, **kwargs)`` without ConvergenceWarnings (fixed budgets)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(*args, **kwargs)


def _same_params(a, b):
    """Whether two fitted models have exactly the same weights."""
    return all(
        np.array_equal(p, q)
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True)
    )


@cache
def _split(target):
    """(X_train, X_val, y_train, y_val) of one of the TARGETS, 70/30."""
    X, y = TARGETS[target]
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0))


def _imbalanced():
    """Two overlapping 2-D classes, 9 : 1."""
    return make_classification(
        600,
        n_features=2,
        n_redundant=0,
        n_informative=2,
        n_clusters_per_class=1,
        weights=[0.9],
        class_sep=0.5,
        flip_y=0,
        random_state=0,
    )


def _hand_log_loss(clf, X, y, sample_weight=None):
    """Weighted mean log-loss of clf on (X, y), from predict_proba by hand."""
    P, Y = clf.predict_proba(X), indicator(clf, y)
    if clf.out_activation_ == "softmax":
        losses = -(Y * np.log(P)).sum(axis=1)
    else:
        p = P[:, 1:] if clf._target_type == "binary" else P
        losses = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum(axis=1)
    return np.average(losses, weights=sample_weight)


# 1. Custom and extra activations ----------------------------------------------------


@pytest.mark.parametrize("name", EXTRA_ACTIVATIONS)
def test_extra_activation_computes_what_its_name_says(name):
    z = np.linspace(-6, 6, 241)
    atol = 1e-3 if name == "gelu" else 1e-12
    assert_allclose(nn.ACTIVATIONS[name](z), NUMPY_EXTRAS[name](z), atol=atol)


@pytest.mark.parametrize("name", EXTRA_ACTIVATIONS)
def test_extra_activation_gradient_through_forward_passes_check_grad(name):
    rng = np.random.RandomState(0)
    coefs, intercepts = nn.init_params([3, 6, 5, 2], "relu", rng, np.float64)
    X = rng.normal(scale=2.0, size=(15, 3))
    weights = rng.normal(size=(15, 2))  # so the check sees every logit, signed

    def fun(coefs, intercepts):
        return (nn.forward(coefs, intercepts, X, name) * weights).sum()

    assert engine.check_grad(fun, coefs, intercepts) < 1e-6


@pytest.mark.parametrize("name", EXTRA_ACTIVATIONS)
def test_extra_activation_learns_two_moons(name):
    clf = MLPAutogradClassifier(
        (10,), activation=name, solver="lbfgs", max_iter=100, random_state=0
    )
    _fit_quiet(clf, X_TRAIN, Y_TRAIN)
    assert clf.activation == name
    assert clf.score(X_TEST, Y_TEST) > 0.85
    assert clf.loss_ < clf.loss_curve_[0]


@pytest.mark.parametrize("name", EXTRA_ACTIVATIONS)
def test_extra_activation_keeps_float32(name):
    clf = MLPAutogradClassifier((6,), activation=name, max_iter=3, random_state=0)
    _fit_quiet(clf, X_MOONS.astype(np.float32), Y_MOONS)
    assert {p.dtype for p in clf.coefs_ + clf.intercepts_} == {np.dtype(np.float32)}
    assert clf.predict_proba(X_MOONS.astype(np.float32)).dtype == np.float32


def test_callable_activation_trains_as_the_same_named_one():
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    by_name = _fit_quiet(
        MLPAutogradClassifier(activation="silu", **params), X_MOONS, Y_MOONS
    )
    by_callable = _fit_quiet(
        MLPAutogradClassifier(activation=nn.silu, **params), X_MOONS, Y_MOONS
    )
    assert _same_params(by_name, by_callable)


def test_callable_activation_may_copy_and_cast_its_tensor():
    # ndarray methods that the engine differentiates work inside an activation.
    params = dict(hidden_layer_sizes=(6,), max_iter=15, random_state=0)
    plain = _fit_quiet(
        MLPAutogradClassifier(activation=lambda z: engine.tanh(z), **params),
        X_MOONS,
        Y_MOONS,
    )
    copied = _fit_quiet(
        MLPAutogradClassifier(
            activation=lambda z: engine.tanh(z.copy().astype(z.dtype)), **params
        ),
        X_MOONS,
        Y_MOONS,
    )
    assert _same_params(plain, copied)


def test_callable_activation_using_tolist_is_told_what_works():
    clf = MLPAutogradClassifier((4,), activation=lambda z: z.tolist(), max_iter=2)
    with pytest.raises(AttributeError, match=r"t\.value\.tolist\(\)"):
        clf.fit(X_MOONS, Y_MOONS)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_callable_gradient_trains_like_the_hand_derived_fused_layer(solver):
    # "tanh" uses the fused layer with its derivative written by hand; the callable
    # goes through the engine's generic graph: the same training, to rounding.
    params = dict(hidden_layer_sizes=(8, 6), solver=solver, max_iter=30, random_state=0)
    fused = _fit_quiet(
        MLPAutogradClassifier(activation="tanh", **params), X_IRIS, Y_IRIS
    )
    engine_derived = _fit_quiet(
        MLPAutogradClassifier(activation=lambda z: engine.tanh(z), **params),
        X_IRIS,
        Y_IRIS,
    )
    assert fused.n_iter_ == engine_derived.n_iter_
    assert_params_close(fused, engine_derived, rtol=1e-7, atol=1e-10)


def _nested_activation():
    def my_activation(z):
        return engine.tanh(z)

    return my_activation


@pytest.mark.parametrize(
    "activation",
    [lambda z: z * engine.sigmoid(z), _nested_activation()],
    ids=["lambda", "nested-function"],
)
def test_unpicklable_activation_fits_predicts_and_refuses_pickling(
    activation, tmp_path
):
    clf = MLPAutogradClassifier(
        (8,), activation=activation, solver="lbfgs", random_state=0
    )
    _fit_quiet(clf.set_params(max_iter=100), X_TRAIN, Y_TRAIN)
    assert clf.score(X_TEST, Y_TEST) > 0.85
    assert_array_equal(clf.predict(X_TEST), clf.predict(X_TEST))
    with pytest.raises(TypeError, match="module-level"):
        pickle.dumps(clf)
    with pytest.raises(TypeError, match="module-level"):
        joblib.dump(clf, tmp_path / "model.joblib")


def test_module_level_callable_round_trips_with_joblib_and_skops(tmp_path):
    sio = pytest.importorskip("skops.io")
    clf = _fit_quiet(
        MLPAutogradClassifier((8,), activation=nn.silu, max_iter=10, random_state=0),
        X_MOONS,
        Y_MOONS,
    )
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert loaded.activation is nn.silu
    assert_array_equal(loaded.predict_proba(X_MOONS), clf.predict_proba(X_MOONS))

    sio.dump(clf, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert sorted(untrusted) == [
        "skvgrad.classifier.MLPAutogradClassifier",
        "skvgrad.nn.silu",
    ]
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(
            tmp_path / "model.skops",
            trusted=["skvgrad.classifier.MLPAutogradClassifier"],
        )
    loaded = sio.load(tmp_path / "model.skops", trusted=untrusted)
    assert loaded.activation is nn.silu
    assert_array_equal(loaded.predict_proba(X_MOONS), clf.predict_proba(X_MOONS))


USER_MODULE = "skvgrad_test_user_activation"

USER_ACTIVATION = textwrap.dedent(
    """
    from skvgrad import engine


    def swish(z):
        return z * engine.sigmoid(z)
    """
)

USER_CHILD = textwrap.dedent(
    """
    import sys

    import joblib
    import numpy as np
    import skops.io as sio

    data = np.load(sys.argv[3])
    for model in (
        joblib.load(sys.argv[1]),
        sio.load(sys.argv[2], trusted=sio.get_untrusted_types(file=sys.argv[2])),
    ):
        assert model.activation.__module__ == "skvgrad_test_user_activation"
        assert np.array_equal(model.predict_proba(data["X"]), data["proba"])
    print("OK")
    """
)


def test_user_module_activation_loads_in_a_fresh_interpreter(tmp_path, monkeypatch):
    # A function of the user's own module, as the README tells users to write it,
    # and the model loaded where nothing has imported that module yet.
    sio = pytest.importorskip("skops.io")
    (tmp_path / f"{USER_MODULE}.py").write_text(USER_ACTIVATION)
    monkeypatch.syspath_prepend(tmp_path)
    try:
        swish = importlib.import_module(USER_MODULE).swish
        clf = _fit_quiet(
            MLPAutogradClassifier((8,), activation=swish, max_iter=10, random_state=0),
            X_MOONS,
            Y_MOONS,
        )
        joblib.dump(clf, tmp_path / "model.joblib")
        sio.dump(clf, tmp_path / "model.skops")
    finally:
        sys.modules.pop(USER_MODULE, None)
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert f"{USER_MODULE}.swish" in untrusted
    np.savez(tmp_path / "data.npz", X=X_MOONS, proba=clf.predict_proba(X_MOONS))
    (tmp_path / "child.py").write_text(USER_CHILD)
    result = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "child.py"),
            str(tmp_path / "model.joblib"),
            str(tmp_path / "model.skops"),
            str(tmp_path / "data.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


# 2. class_weight --------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_class_weight_dict_equals_the_same_sample_weight(target, solver):
    X, y = TARGETS[target]
    class_weight = {c: w for c, w in zip(np.unique(y), [3.0, 0.5, 1.5])}
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=30, random_state=0)
    weighted_classes = _fit_quiet(
        MLPAutogradClassifier(class_weight=class_weight, **params), X, y
    )
    sample_weight = np.array([class_weight[c] for c in y])
    weighted_samples = _fit_quiet(
        MLPAutogradClassifier(**params), X, y, sample_weight=sample_weight
    )
    assert_params_close(weighted_classes, weighted_samples, rtol=1e-10, atol=1e-12)
    unweighted = _fit_quiet(MLPAutogradClassifier(**params), X, y)
    assert not _same_params(weighted_classes, unweighted)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("coding", [(0, 1), (-1, 1)])
def test_class_weight_list_of_dicts_weights_each_label(coding):
    low, high = coding
    Y = np.where(Y_ML == 1, high, low)
    class_weight = [{low: 1.0, high: 4.0}, {low: 2.0, high: 1.0}, {low: 1.0, high: 1.0}]
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    weighted_labels = MLPAutogradClassifier(class_weight=class_weight, **params)
    weighted_labels.fit(X_ML, Y)
    weighted_samples = MLPAutogradClassifier(**params).fit(
        X_ML, Y, sample_weight=compute_sample_weight(class_weight, Y)
    )
    assert_params_close(weighted_labels, weighted_samples, rtol=1e-10, atol=1e-12)
    assert not _same_params(
        weighted_labels, MLPAutogradClassifier(**params).fit(X_ML, Y)
    )


@pytest.mark.parametrize(
    "target, class_weight, match",
    [
        ("multilabel", {0: 1.0, 1: 2.0}, r"list of one dict per label \(3 here\)"),
        ("multilabel", [{0: 1.0, 1: 2.0}] * 2, "2 dicts, but y has 3 labels"),
        ("multilabel", [{0: 1.0, 1: -2.0}] * 3, "finite non-negative"),
        ("multiclass", [{0: 1.0}, {1: 2.0}, {2: 1.0}], "list of dicts .* multilabel"),
    ],
    ids=["dict-for-multilabel", "too-few-dicts", "negative", "list-for-multiclass"],
)
def test_class_weight_of_the_wrong_form_says_what_works(target, class_weight, match):
    X, y = TARGETS[target]
    clf = MLPAutogradClassifier(class_weight=class_weight, max_iter=2)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_class_weight_dict_with_string_labels():
    labels = np.array(["no", "yes"])[Y_MOONS]
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    a = _fit_quiet(
        MLPAutogradClassifier(class_weight={"no": 1.0, "yes": 4.0}, **params),
        X_MOONS,
        labels,
    )
    b = _fit_quiet(
        MLPAutogradClassifier(**params),
        X_MOONS,
        labels,
        sample_weight=np.where(labels == "yes", 4.0, 1.0),
    )
    assert_params_close(a, b, rtol=1e-10, atol=1e-12)


def test_class_weight_balanced_equals_compute_sample_weight():
    X, y = _imbalanced()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    balanced = _fit_quiet(
        MLPAutogradClassifier(class_weight="balanced", **params), X, y
    )
    by_hand = _fit_quiet(
        MLPAutogradClassifier(**params),
        X,
        y,
        sample_weight=compute_sample_weight("balanced", y),
    )
    assert_params_close(balanced, by_hand, rtol=1e-10, atol=1e-12)


def test_class_weight_multiplies_sample_weight():
    X, y = X_IRIS, Y_IRIS
    class_weight = {0: 2.0, 1: 0.5, 2: 1.0}
    sample_weight = np.random.RandomState(0).uniform(0.1, 3.0, size=len(y))
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    both = _fit_quiet(
        MLPAutogradClassifier(class_weight=class_weight, **params),
        X,
        y,
        sample_weight=sample_weight,
    )
    product = _fit_quiet(
        MLPAutogradClassifier(**params),
        X,
        y,
        sample_weight=sample_weight * np.array([class_weight[c] for c in y]),
    )
    assert_params_close(both, product, rtol=1e-10, atol=1e-12)
    # The objective is the doubly weighted mean loss.
    assert both.loss_ == pytest.approx(product.loss_, rel=1e-12)


def test_class_weight_balanced_makes_partial_fit_unavailable():
    clf = MLPAutogradClassifier(class_weight="balanced", random_state=0)
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="class_weight='balanced'.*frequencies"):
        clf.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])
    assert not hasattr(clf, "coefs_")
    assert hasattr(clf.set_params(class_weight={0: 1.0, 1: 2.0}), "partial_fit")


def test_class_weight_dict_in_partial_fit_equals_sample_weight():
    class_weight = {0: 1.0, 1: 3.0}
    a = MLPAutogradClassifier((5,), class_weight=class_weight, random_state=0)
    b = MLPAutogradClassifier((5,), random_state=0)
    sample_weight = np.where(Y_MOONS == 1, 3.0, 1.0)
    for _ in range(3):
        a.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1])
        b.partial_fit(X_MOONS, Y_MOONS, classes=[0, 1], sample_weight=sample_weight)
    assert_params_close(a, b, rtol=1e-10, atol=1e-12)


def test_class_weight_moves_predictions_toward_the_heavy_class():
    X, y = _imbalanced()
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0)
    recalls, predicted_minority = {}, {}
    for name, class_weight in [
        ("none", None),
        ("balanced", "balanced"),
        ("dict", {0: 1.0, 1: 20.0}),
    ]:
        clf = _fit_quiet(
            MLPAutogradClassifier(class_weight=class_weight, **params), X, y
        )
        pred = clf.predict(X)
        recalls[name] = recall_score(y, pred)
        predicted_minority[name] = np.mean(pred == 1)
    assert recalls["balanced"] > recalls["none"] + 0.05, recalls
    assert recalls["dict"] > recalls["balanced"], recalls
    assert predicted_minority["none"] < predicted_minority["balanced"], (
        predicted_minority
    )
    assert predicted_minority["balanced"] < predicted_minority["dict"], (
        predicted_minority
    )


# 3. dropout -------------------------------------------------------------------------

DROPOUT_PARAMS = dict(hidden_layer_sizes=(16, 8), learning_rate_init=0.01, max_iter=15)


def test_dropout_training_is_reproducible_and_predictions_deterministic():
    a = _fit_quiet(
        MLPAutogradClassifier(dropout=0.3, random_state=0, **DROPOUT_PARAMS),
        X_MOONS,
        Y_MOONS,
    )
    b = _fit_quiet(
        MLPAutogradClassifier(dropout=0.3, random_state=0, **DROPOUT_PARAMS),
        X_MOONS,
        Y_MOONS,
    )
    assert _same_params(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert_array_equal(a.predict_proba(X_MOONS), a.predict_proba(X_MOONS))
    assert_array_equal(a.predict(X_MOONS), b.predict(X_MOONS))
    # Prediction uses the whole network, unscaled: the plain forward pass.
    logits = nn.forward(a.coefs_, a.intercepts_, X_MOONS, a.activation)
    assert_array_equal(a.decision_function(X_MOONS), logits.ravel())


def test_dropout_changes_training():
    none = _fit_quiet(
        MLPAutogradClassifier(random_state=0, **DROPOUT_PARAMS), X_MOONS, Y_MOONS
    )
    dropped = _fit_quiet(
        MLPAutogradClassifier(dropout=0.3, random_state=0, **DROPOUT_PARAMS),
        X_MOONS,
        Y_MOONS,
    )
    assert not np.allclose(none.coefs_[0], dropped.coefs_[0])
    # The training loss (of the thinned networks) stays higher.
    assert dropped.loss_ > none.loss_


def test_dropout_per_layer_rates():
    fits = {
        str(rates): _fit_quiet(
            MLPAutogradClassifier(dropout=rates, random_state=0, **DROPOUT_PARAMS),
            X_MOONS,
            Y_MOONS,
        )
        for rates in [None, [0.5, 0.0], [0.0, 0.5], [0.3, 0.3], 0.3]
    }
    assert _same_params(fits["[0.3, 0.3]"], fits["0.3"])
    for a, b in [
        ("None", "[0.5, 0.0]"),
        ("None", "[0.0, 0.5]"),
        ("[0.5, 0.0]", "[0.0, 0.5]"),
    ]:
        assert not _same_params(fits[a], fits[b]), (a, b)


@pytest.mark.parametrize("zero", [0, 0.0, [0.0, 0.0], np.zeros(2)])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_dropout_zero_is_no_dropout(zero, solver):
    params = dict(DROPOUT_PARAMS, solver=solver, random_state=0)
    a = _fit_quiet(MLPAutogradClassifier(dropout=zero, **params), X_MOONS, Y_MOONS)
    b = _fit_quiet(MLPAutogradClassifier(**params), X_MOONS, Y_MOONS)
    assert _same_params(a, b)
    assert a.loss_curve_ == b.loss_curve_


def test_inverted_dropout_zeroes_units_at_the_rate_and_scales_the_rest():
    # Logits = the last hidden layer itself (identity output weights), so the
    # dropped-out hidden units are visible.
    rng = np.random.RandomState(0)
    coefs = [rng.normal(size=(3, 50)), np.eye(50)]
    intercepts = [rng.normal(size=50), np.zeros(50)]
    X = rng.normal(size=(200, 3))
    full = nn.forward(coefs, intercepts, X, "tanh")
    dropped = nn.forward(coefs, intercepts, X, "tanh", [0.25], rng)
    zeroed = dropped == 0
    assert zeroed.mean() == pytest.approx(0.25, abs=0.01)
    assert_allclose(dropped[~zeroed], full[~zeroed] / 0.75, rtol=1e-12)
    # Hence the expected output is the full network's.
    mean = np.mean(
        [
            nn.forward(coefs, intercepts, X[:5], "tanh", [0.25], rng)
            for _ in range(4000)
        ],
        axis=0,
    )
    assert_allclose(mean, full[:5], atol=0.03)


@pytest.mark.parametrize(
    "dropout",
    [
        [0.1, 0.2, 0.3],
        [0.1],
        [[0.1, 0.2]],
        [0.1, 1.0],
        [1.0, 0.0],
        [-0.1, 0.0],
        1.0,
        1.5,
    ],
    ids=[
        "too-long",
        "too-short",
        "nested",
        "rate-1",
        "rate-1-first",
        "negative",
        "1.0",
        "1.5",
    ],
)
@IGNORE_CONVERGENCE  # "too-short" trains today: skvgrad broadcasts [0.1]
def test_bad_dropout_raises_a_value_error_naming_it(dropout):
    clf = MLPAutogradClassifier(dropout=dropout, **DROPOUT_PARAMS)
    with pytest.raises(ValueError, match="dropout"):
        clf.fit(X_MOONS, Y_MOONS)
    assert not hasattr(clf, "coefs_")


def test_dropout_with_lbfgs_raises():
    clf = MLPAutogradClassifier(solver="lbfgs", dropout=0.2)
    with pytest.raises(ValueError, match="stochastic solver"):
        clf.fit(X_MOONS, Y_MOONS)


def test_validation_is_scored_without_dropout():
    X_train, X_val, y_train, y_val = _split("binary")
    clf = _fit_quiet(
        MLPAutogradClassifier(dropout=0.5, random_state=0, **DROPOUT_PARAMS),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert clf.validation_scores_[-1] == clf.score(X_val, y_val)
    assert clf.validation_loss_curve_[-1] == pytest.approx(
        _hand_log_loss(clf, X_val, y_val), rel=1e-9
    )


# 4. Validation data of one's own, and scoring -----------------------------------------

VAL_PARAMS = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_validation_curves_are_recorded_every_epoch(target, weighted):
    X_train, X_val, y_train, y_val = _split(target)
    sw_val = np.random.RandomState(0).uniform(0.2, 3, len(X_val)) if weighted else None
    clf = _fit_quiet(
        MLPAutogradClassifier(max_iter=12, **VAL_PARAMS),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=sw_val,
    )
    assert clf.n_iter_ == 12
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 12
    assert len(clf.loss_curve_) == 12
    # The last epoch's entries are those of the returned model, by hand.
    assert clf.validation_scores_[-1] == pytest.approx(
        accuracy_score(y_val, clf.predict(X_val), sample_weight=sw_val), rel=1e-12
    )
    assert clf.validation_loss_curve_[-1] == pytest.approx(
        _hand_log_loss(clf, X_val, y_val, sw_val), rel=1e-9
    )
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # The validation set only watches: training is the same as without it.
    plain = _fit_quiet(
        MLPAutogradClassifier(max_iter=12, **VAL_PARAMS), X_train, y_train
    )
    assert _same_params(clf, plain)
    assert clf.loss_curve_ == plain.loss_curve_
    assert plain.validation_scores_ is None
    assert plain.validation_loss_curve_ is None
    assert plain.best_validation_score_ is None


def test_early_stopping_split_records_the_validation_loss_too():
    clf = _fit_quiet(
        MLPAutogradClassifier(early_stopping=True, max_iter=30, **VAL_PARAMS),
        X_MOONS,
        Y_MOONS,
    )
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize("scoring", [None, "loss"])
def test_early_stopping_on_x_val_keeps_the_best_epochs_weights(scoring):
    X_train, X_val, y_train, y_val = _split("binary")
    params = dict(VAL_PARAMS, scoring=scoring, n_iter_no_change=5)
    es = _fit_quiet(
        MLPAutogradClassifier(early_stopping=True, max_iter=300, **params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert es.n_iter_ < 300, "early stopping did not stop"
    # X_val replaces the random split: every epoch trains on all of X_train.
    assert es.t_ == es.n_iter_ * len(X_train)
    best = int(np.argmax(es.validation_scores_))
    assert best + 1 < es.n_iter_, "the best epoch must not be the last one"
    assert es.best_validation_score_ == es.validation_scores_[best]
    # The returned model scores the best epoch's score, recomputed.
    if scoring is None:
        assert es.score(X_val, y_val) == es.best_validation_score_
    else:
        assert -_hand_log_loss(es, X_val, y_val) == pytest.approx(
            es.best_validation_score_, rel=1e-9
        )
    # ... and has the weights of a run that stops at that epoch.
    short = _fit_quiet(
        MLPAutogradClassifier(max_iter=best + 1, **dict(params, n_iter_no_change=999)),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert short.validation_scores_ == es.validation_scores_[: best + 1]
    assert _same_params(es, short)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X_val=X_MOONS[:20]), "together"),
        (dict(y_val=Y_MOONS[:20]), "together"),
        (dict(sample_weight_val=np.ones(20)), "sample_weight_val"),
        (dict(X_val=X_MOONS[:20], y_val=np.full(20, 2)), "classes"),
        (dict(X_val=X_MOONS[:20, :1], y_val=Y_MOONS[:20]), "features"),
        (dict(X_val=X_MOONS[:20], y_val=Y_MOONS[:19]), "inconsistent"),
        (
            dict(X_val=X_MOONS[:20], y_val=Y_MOONS[:20], sample_weight_val=np.ones(5)),
            "sample_weight",
        ),
    ],
    ids=[
        "X_val-alone",
        "y_val-alone",
        "sample_weight_val-alone",
        "unseen-class",
        "wrong-n-features",
        "wrong-n-labels",
        "wrong-n-weights",
    ],
)
def test_bad_validation_data_raises(kwargs, match):
    clf = MLPAutogradClassifier(max_iter=3, **VAL_PARAMS)
    with pytest.raises(ValueError, match=match):
        clf.fit(X_MOONS, Y_MOONS, **kwargs)
    assert not hasattr(clf, "coefs_")


def test_x_val_with_lbfgs_raises():
    clf = MLPAutogradClassifier(solver="lbfgs")
    with pytest.raises(ValueError, match="lbfgs"):
        clf.fit(X_MOONS, Y_MOONS, X_val=X_MOONS[:20], y_val=Y_MOONS[:20])


def test_x_val_dataframe_with_a_scorer_gives_no_feature_name_warning():
    pd = pytest.importorskip("pandas")
    X_train, X_val, y_train, y_val = _split("binary")
    X_train, X_val = (pd.DataFrame(X, columns=["a", "b"]) for X in (X_train, X_val))
    clf = MLPAutogradClassifier(scoring="balanced_accuracy", max_iter=3, **VAL_PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == 3


def test_scoring_loss_is_the_negated_validation_loss():
    X_train, X_val, y_train, y_val = _split("multiclass")
    clf = _fit_quiet(
        MLPAutogradClassifier(scoring="loss", max_iter=10, **VAL_PARAMS),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert clf.validation_scores_ == [-loss for loss in clf.validation_loss_curve_]
    assert clf.best_validation_score_ == -min(clf.validation_loss_curve_)


def test_scoring_by_scorer_name():
    X, y = _imbalanced()
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0, stratify=y)
    params = dict(VAL_PARAMS, max_iter=10)
    balanced = _fit_quiet(
        MLPAutogradClassifier(scoring="balanced_accuracy", **params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    plain = _fit_quiet(
        MLPAutogradClassifier(scoring="accuracy", **params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    pred = balanced.predict(X_val)
    assert balanced.validation_scores_[-1] == pytest.approx(
        balanced_accuracy_score(y_val, pred), rel=1e-12
    )
    assert plain.validation_scores_[-1] == accuracy_score(y_val, pred)
    assert balanced.validation_scores_ != plain.validation_scores_
    # Early stopping keeps the model of the best balanced accuracy.
    es = _fit_quiet(
        MLPAutogradClassifier(
            scoring="balanced_accuracy",
            early_stopping=True,
            **dict(params, max_iter=60),
        ),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert es.best_validation_score_ == max(es.validation_scores_)
    assert balanced_accuracy_score(y_val, es.predict(X_val)) == pytest.approx(
        es.best_validation_score_, rel=1e-12
    )


def test_scoring_callable_is_called_every_epoch_with_the_current_model():
    X_train, X_val, y_train, y_val = _split("binary")
    sw_val = np.random.RandomState(0).uniform(0.5, 2.0, len(X_val))
    seen = []

    def scorer(estimator, X, y, sample_weight=None):
        seen.append((estimator.predict_proba(X), y, sample_weight))
        return float(len(seen))

    clf = _fit_quiet(
        MLPAutogradClassifier(scoring=scorer, max_iter=4, **VAL_PARAMS),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=sw_val,
    )
    assert clf.validation_scores_ == [1.0, 2.0, 3.0, 4.0]
    assert len(seen) == 4
    proba, y, sample_weight = seen[-1]
    assert_array_equal(proba, clf.predict_proba(X_val))
    assert_array_equal(y, y_val)
    assert_allclose(sample_weight, sw_val)
    assert not np.array_equal(seen[0][0], seen[-1][0])  # a new model every epoch


def test_early_stopping_watches_the_scoring_callable():
    X_train, X_val, y_train, y_val = _split("binary")

    def worse_every_epoch(estimator, X, y):
        return -float(estimator.n_iter_)

    params = dict(VAL_PARAMS, n_iter_no_change=3)
    clf = _fit_quiet(
        MLPAutogradClassifier(
            scoring=worse_every_epoch, early_stopping=True, max_iter=100, **params
        ),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    # Best at the first epoch; stops once 3 more epochs have not improved on it.
    assert clf.n_iter_ == 5
    assert clf.validation_scores_ == [-1.0, -2.0, -3.0, -4.0, -5.0]
    first_epoch = _fit_quiet(
        MLPAutogradClassifier(max_iter=1, **params), X_train, y_train
    )
    assert _same_params(clf, first_epoch)


def test_unknown_scoring_name_raises():
    X_train, X_val, y_train, y_val = _split("binary")
    clf = MLPAutogradClassifier(scoring="no_such_scorer", max_iter=2, **VAL_PARAMS)
    with pytest.raises(ValueError, match="no_such_scorer"):
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)


# 5. loss_curve_ for lbfgs -------------------------------------------------------------


@pytest.mark.parametrize("max_iter", [5, 30, 2000])
@pytest.mark.parametrize("target", list(TARGETS))
def test_lbfgs_loss_curve_has_one_entry_per_iteration(target, max_iter):
    X, y = TARGETS[target]
    clf = MLPAutogradClassifier(
        (8,), solver="lbfgs", max_iter=max_iter, alpha=1e-2, random_state=0
    )
    _fit_quiet(clf, X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ <= max_iter
    assert clf.loss_curve_[-1] == pytest.approx(clf.loss_, rel=1e-12)
    assert clf.best_loss_ == min(clf.loss_curve_)
    # Each entry is the objective at that iterate: the last one at the returned
    # weights, and the first one below the objective at the initial weights.
    Y = indicator(clf, y)
    final = objective(clf, X, Y, None, 1e-2)
    assert clf.loss_curve_[-1] == pytest.approx(final, rel=1e-9)
    initial = MLPAutogradClassifier((8,), solver="lbfgs", max_iter=1, random_state=0)
    coefs, intercepts = nn.init_params(
        [X.shape[1], 8, clf.n_outputs_], "relu", np.random.RandomState(0), np.float64
    )
    initial.coefs_, initial.intercepts_ = coefs, intercepts
    initial.out_activation_ = clf.out_activation_
    assert clf.loss_curve_[0] < objective(initial, X, Y, None, 1e-2)
    assert np.all(np.diff(clf.loss_curve_) <= 1e-12), "L-BFGS-B never goes uphill"


# 6. decision_function -----------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_decision_function_is_consistent_with_predict_and_predict_proba(target, solver):
    X, y = TARGETS[target]
    clf = _fit_quiet(
        MLPAutogradClassifier((8,), solver=solver, max_iter=50, random_state=0), X, y
    )
    scores = clf.decision_function(X)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    logits = nn.forward(clf.coefs_, clf.intercepts_, X, clf.activation)
    if target == "binary":
        assert scores.shape == (len(X),)
        assert_array_equal(scores, logits[:, 0])
        assert_array_equal(clf.classes_[(scores > 0).astype(int)], pred)
        assert_allclose(expit(scores), proba[:, 1], rtol=1e-12, atol=1e-15)
    elif target == "multiclass":
        assert scores.shape == (len(X), 3)
        assert_array_equal(scores, logits)
        assert_array_equal(clf.classes_[scores.argmax(axis=1)], pred)
        assert_allclose(softmax(scores, axis=1), proba, rtol=1e-12, atol=1e-15)
    else:
        assert scores.shape == y.shape == (len(X), 3)
        assert_array_equal(scores, logits)
        assert_array_equal((scores > 0).astype(int), pred)
        assert_allclose(expit(scores), proba, rtol=1e-12, atol=1e-15)
    # Not every prediction is the same class: the check has something to check.
    assert len(np.unique(pred, axis=0)) > 1


def test_decision_function_with_string_labels_keeps_the_dtype_and_checks_input():
    labels = np.array(["no", "yes"])[Y_MOONS]
    clf = _fit_quiet(
        MLPAutogradClassifier((8,), solver="lbfgs", max_iter=50, random_state=0),
        X_MOONS.astype(np.float32),
        labels,
    )
    X32 = X_MOONS.astype(np.float32)
    scores = clf.decision_function(X32)
    assert scores.dtype == np.float32
    assert_array_equal(np.where(scores > 0, "yes", "no"), clf.predict(X32))
    # Sparse input: the same logits to float32 rounding, which depends on the
    # summation order (BLAS kernels differ): relative to the logits' scale.
    sparse_scores = clf.decision_function(sp.csr_matrix(X32))
    assert sparse_scores.dtype == np.float32
    assert_allclose(sparse_scores, scores, rtol=1e-4, atol=1e-4 * np.abs(scores).max())
    with pytest.raises(ValueError, match="features"):
        clf.decision_function(X_MOONS[:, :1])


def test_decision_function_before_fit_raises():
    with pytest.raises(NotFittedError):
        MLPAutogradClassifier().decision_function(X_MOONS)


# Refitting with a changed network or target type -----------------------------------


def test_warm_start_with_other_hidden_layer_sizes_raises():
    clf = MLPAutogradClassifier((5,), warm_start=True, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_MOONS, Y_MOONS)
    before = clf.predict_proba(X_MOONS)
    clf.set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match="layers do not match"):
        clf.fit(X_MOONS, Y_MOONS)
    assert_array_equal(clf.predict_proba(X_MOONS), before)


def test_partial_fit_with_multilabel_y_after_multiclass_raises():
    clf = MLPAutogradClassifier(random_state=0)
    clf.partial_fit(X_MOONS, Y_MOONS % 3, classes=[0, 1, 2])
    Y = np.column_stack([Y_MOONS, 1 - Y_MOONS])
    with pytest.raises(ValueError, match="fitted on multiclass targets"):
        clf.partial_fit(X_MOONS, Y)


@IGNORE_CONVERGENCE
def test_batch_size_larger_than_the_data_warns_and_is_clipped():
    clf = MLPAutogradClassifier(batch_size=10_000, max_iter=2, random_state=0)
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        clf.fit(X_MOONS, Y_MOONS)
    # One batch per epoch: t_ counts every sample once per epoch.
    assert clf.t_ == 2 * len(X_MOONS)


def test_verbose_without_tqdm_prints_the_validation_score(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    clf = MLPAutogradClassifier(
        early_stopping=True, max_iter=3, verbose=True, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_MOONS, Y_MOONS)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "Validation" in ln]
    assert lines == [f"Validation score: {s:f}" for s in clf.validation_scores_]


# What the README's comparison table says of MLPClassifier --------------------------


@IGNORE_CONVERGENCE
def test_float32_lbfgs_stays_float32_where_mlpclassifier_returns_float64():
    X32 = X_MOONS.astype(np.float32)
    params = dict(solver="lbfgs", max_iter=20, random_state=0)
    ref = MLPClassifier(**params).fit(X32, Y_MOONS)
    ours = MLPAutogradClassifier(**params).fit(X32, Y_MOONS)
    assert ref.coefs_[0].dtype == np.float64
    assert {c.dtype for c in ours.coefs_ + ours.intercepts_} == {np.dtype(np.float32)}


@IGNORE_CONVERGENCE
def test_skops_trusts_one_type_where_mlpclassifier_needs_its_optimizer():
    sio = pytest.importorskip("skops.io")
    params = dict(max_iter=5, random_state=0)
    ref = MLPClassifier(**params).fit(X_MOONS, Y_MOONS)
    ours = MLPAutogradClassifier(**params).fit(X_MOONS, Y_MOONS)
    theirs = sio.get_untrusted_types(data=sio.dumps(ref))
    assert any("AdamOptimizer" in name for name in theirs)
    assert sio.get_untrusted_types(data=sio.dumps(ours)) == [
        "skvgrad.classifier.MLPAutogradClassifier"
    ]


# Targets MLPClassifier handles otherwise ---------------------------------------------


@pytest.mark.parametrize("coding", [(0, 2), (-1, 1), (3, 7)])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_coded_with_two_other_values_is_the_01_model(coding, solver):
    low, high = coding
    Y01 = Y_ML
    Y = np.where(Y01 == 1, high, low)
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=40, random_state=0)
    ref = _fit_quiet(MLPAutogradClassifier(**params), X_ML, Y01)
    clf = _fit_quiet(MLPAutogradClassifier(**params), X_ML, Y)
    assert _same_params(clf, ref)
    assert_array_equal(clf.predict_proba(X_ML), ref.predict_proba(X_ML))
    # Predictions come in the user's coding, so that score compares like with like.
    assert_array_equal(clf.predict(X_ML), np.where(ref.predict(X_ML) == 1, high, low))
    assert clf.score(X_ML, Y) == ref.score(X_ML, Y01) > 0.15
    assert clf.loss_ > 0


def test_multilabel_coding_must_stay_the_same_in_partial_fit():
    clf = MLPAutogradClassifier((4,), random_state=0)
    clf.partial_fit(X_ML, np.where(Y_ML == 1, 1, -1))
    with pytest.raises(ValueError, match=r"codes its labels with \[0, 1\].*\[-1, 1\]"):
        clf.partial_fit(X_ML, Y_ML)


def test_multilabel_partial_fit_checks_the_classes_it_is_given():
    # MLPClassifier requires classes=[0, 1, 2] (the column indices) on the first
    # call; skvgrad reads them from y, and checks them when they are given.
    for classes in ([0, 1], [1, 2, 3]):
        clf = MLPAutogradClassifier((4,), random_state=0)
        with pytest.raises(ValueError, match=r"not the labels of y.*\[0, 1, 2\]"):
            clf.partial_fit(X_ML, Y_ML, classes=classes)
        with pytest.raises(ValueError):
            MLPClassifier((4,), random_state=0).partial_fit(X_ML, Y_ML, classes=classes)
    given = MLPAutogradClassifier((4,), random_state=0)
    given.partial_fit(X_ML, Y_ML, classes=[0, 1, 2])
    omitted = MLPAutogradClassifier((4,), random_state=0).partial_fit(X_ML, Y_ML)
    assert_params_close(given, omitted, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not the same as on the previous call"):
        given.partial_fit(X_ML, Y_ML, classes=[0, 1])


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_single_class_is_fitted_and_always_predicted(solver):
    y = np.full(len(X_MOONS), "only")
    clf = _fit_quiet(MLPAutogradClassifier((4,), solver=solver, max_iter=5), X_MOONS, y)
    assert clf.classes_.tolist() == ["only"]
    assert_array_equal(clf.predict(X_MOONS), y)
    proba = clf.predict_proba(X_MOONS)
    assert proba.shape == (len(X_MOONS), 1) and np.all(proba == 1.0)
    assert_array_equal(clf.predict_log_proba(X_MOONS), 0.0)
    assert clf.decision_function(X_MOONS).shape == (len(X_MOONS),)
    assert clf.score(X_MOONS, y) == 1.0
    # MLPClassifier fits it too, and predicts it.
    ref = _fit_quiet(MLPClassifier((4,), solver=solver, max_iter=5), X_MOONS, y)
    assert_array_equal(ref.predict(X_MOONS), y)
