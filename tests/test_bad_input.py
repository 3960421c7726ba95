"""Bad input: one row per case, the exception it raises and what its message says.

Every row is checked three ways:

* ``test_bad_input_raises``: the call raises ``exception_type`` and the message
  contains ``message_fragment`` (scikit-learn's wording where it has one);
* ``test_bad_input_leaves_estimator_intact``: after the failed call the
  estimator is unfitted or unchanged (it still predicts exactly what it
  predicted before, and holds the same attributes);
* ``test_bad_input_same_exception_as_sklearn``: where scikit-learn's
  ``MLPClassifier`` (``MLPRegressor``) raises for the same input, skvgrad
  raises the same type.

Each row runs on the estimators it names (``kinds``: the classifier, the
regressor or both), with class labels or real targets as the kind needs. The
rows for hyperparameters out of range or of the wrong type are generated from
each estimator's ``_parameter_constraints``, so a new parameter gets its rows
automatically.
"""

import copy
import math
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    _Constraint,
    make_constraint,
)
from sklearn.utils.validation import check_is_fitted

from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small and fast: 30 samples, 4 features, 3 classes, one hidden layer of 5 units.
BASE_PARAMS = {"hidden_layer_sizes": (5,), "max_iter": 5, "random_state": 0}
N_SAMPLES, N_FEATURES = 30, 4


ESTIMATORS = {
    "classifier": (MLPAutogradClassifier, MLPClassifier),
    "regressor": (MLPAutogradRegressor, MLPRegressor),
}
BOTH = ("classifier", "regressor")


def _data(kind):
    """Fresh training data (never shared between rows: a row may modify it).

    Three classes for the classifier; non-negative real targets for the
    regressor (valid for every loss, poisson included).
    """
    rng = np.random.RandomState(0)
    X = rng.randn(N_SAMPLES, N_FEATURES)
    if kind == "classifier":
        return X, np.arange(N_SAMPLES) % 3
    return X, np.abs(X @ np.array([1.0, -2.0, 0.5, 0.0])) + 0.1


X_REF = np.random.RandomState(1).randn(7, N_FEATURES)  # predict_proba before/after


class Scenario(NamedTuple):
    """What a row does: set ``params``, then call the method with ``args``.

    ``prefit`` says how the estimator is trained before the failing call:
    "fit" (on the clean data, with ``BASE_PARAMS``), "fit-dataframe" (the same
    data as a DataFrame with columns a, b, c, d), "partial_fit" (one call with
    ``classes=[0, 1, 2]``) or None (the failing call is the first one).
    """

    args: tuple
    kwargs: dict[str, Any] = {}
    params: dict[str, Any] = {}
    prefit: str | None = "fit"


class Case(NamedTuple):
    id: str
    make_input: Callable[[str], Scenario]
    method: str
    exception_type: type[BaseException]
    message_fragment: str  # "{name}" stands for the estimator's class name
    kinds: tuple = BOTH


def _with_X(change, y_change=None, **scenario):
    """A scenario calling with (a changed copy of) the clean X and y."""

    def make(kind):
        X, y = _data(kind)
        X = change(X)
        y = y if y_change is None else y_change(y)
        return Scenario((X, y), **scenario)

    return make


def _predict_with(change, **scenario):
    """A scenario calling a prediction method on a changed copy of X."""

    def make(kind):
        X, _ = _data(kind)
        return Scenario((change(X),), **scenario)

    return make


def _score_with(change):
    def make(kind):
        X, y = _data(kind)
        return Scenario((change(X), y))

    return make


def _set(X, index, value):
    X = X.astype(np.result_type(X, value), copy=True)
    X[index] = value
    return X


def _same(a):
    return a


def _weights(make_weights):
    """A fit scenario with clean data and the given sample_weight."""

    def make(kind):
        X, y = _data(kind)
        return Scenario((X, y), {"sample_weight": make_weights(len(y))})

    return make


def _strings(X):
    return np.array([[f"s{i}{j}" for j in range(X.shape[1])] for i in range(len(X))])


def _dataframe(columns):
    def change(X):
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=columns)

    return change


def _nan_weights(n):
    w = np.ones(n)
    w[3] = np.nan
    return w


def _inf_weights(n):
    w = np.ones(n)
    w[3] = np.inf
    return w


def _negative_weights(n):
    w = np.ones(n)
    w[3] = -1.0
    return w


def _unseen_label(y):
    y = y.copy()
    y[0] = 5
    return y


def _partial_fit(*, classes=None, y_change=None, prefit="fit", params=None):
    def make(kind):
        X, y = _data(kind)
        y = y if y_change is None else y_change(y)
        kwargs = {} if classes is None or kind != "classifier" else {"classes": classes}
        return Scenario((X, y), kwargs, params or {}, prefit)

    return make


def _unfitted_predict(kind):
    X, _ = _data(kind)
    return Scenario((X,), prefit=None)


def _unfitted_score(kind):
    X, y = _data(kind)
    return Scenario((X, y), prefit=None)


NOT_FITTED = "This {name} instance is not fitted yet"
WRONG_N_FEATURES = "X has 3 features, but {name} is expecting 4 features as input"
CLASSIFIER = ("classifier",)
REGRESSOR = ("regressor",)

HAND_WRITTEN_CASES = [
    # Non-finite X, at fit and at prediction time.
    Case(
        "fit-X-nan",
        _with_X(lambda X: _set(X, (2, 1), np.nan)),
        "fit",
        ValueError,
        "Input X contains NaN",
    ),
    Case(
        "fit-X-inf",
        _with_X(lambda X: _set(X, (2, 1), np.inf)),
        "fit",
        ValueError,
        "Input X contains infinity",
    ),
    Case(
        "fit-X-minus-inf",
        _with_X(lambda X: _set(X, (0, 0), -np.inf)),
        "fit",
        ValueError,
        "Input X contains infinity",
    ),
    Case(
        "fit-sparse-X-nan",
        _with_X(lambda X: sp.csr_matrix(_set(X, (2, 1), np.nan))),
        "fit",
        ValueError,
        "Input X contains NaN",
    ),
    Case(
        "partial_fit-X-nan",
        _with_X(lambda X: _set(X, (2, 1), np.nan)),
        "partial_fit",
        ValueError,
        "Input X contains NaN",
    ),
    Case(
        "predict-X-nan",
        _predict_with(lambda X: _set(X, (4, 0), np.nan)),
        "predict",
        ValueError,
        "Input X contains NaN",
    ),
    Case(
        "predict-X-inf",
        _predict_with(lambda X: _set(X, (4, 0), np.inf)),
        "predict",
        ValueError,
        "Input X contains infinity",
    ),
    Case(
        "predict_proba-X-nan",
        _predict_with(lambda X: _set(X, (4, 0), np.nan)),
        "predict_proba",
        ValueError,
        "Input X contains NaN",
        kinds=CLASSIFIER,
    ),
    Case(
        "predict_proba-X-inf",
        _predict_with(lambda X: _set(X, (4, 0), -np.inf)),
        "predict_proba",
        ValueError,
        "Input X contains infinity",
        kinds=CLASSIFIER,
    ),
    Case(
        "predict_log_proba-X-nan",
        _predict_with(lambda X: _set(X, (4, 0), np.nan)),
        "predict_log_proba",
        ValueError,
        "Input X contains NaN",
        kinds=CLASSIFIER,
    ),
    Case(
        "score-X-nan",
        _score_with(lambda X: _set(X, (4, 0), np.nan)),
        "score",
        ValueError,
        "Input X contains NaN",
    ),
    # Bad targets.
    Case(
        "fit-y-nan",
        _with_X(_same, lambda y: _set(y, 3, np.nan)),
        "fit",
        ValueError,
        "Input y contains NaN",
    ),
    Case(
        "fit-y-continuous",
        _with_X(_same, lambda y: y + np.linspace(0.1, 0.9, len(y))),
        "fit",
        ValueError,
        "Unknown label type: continuous",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-y-wrong-length",
        _with_X(_same, lambda y: y[:-1]),
        "fit",
        ValueError,
        "Found input variables with inconsistent numbers of samples: [30, 29]",
    ),
    Case(
        "partial_fit-y-wrong-length",
        _with_X(_same, lambda y: y[:-1]),
        "partial_fit",
        ValueError,
        "Found input variables with inconsistent numbers of samples: [30, 29]",
    ),
    Case(
        "fit-y-none",
        _with_X(_same, lambda y: None),
        "fit",
        ValueError,
        "requires y to be passed, but the target y is None",
    ),
    Case(
        "fit-y-strings",
        _with_X(_same, lambda y: np.array(["a", "b", "c"])[np.arange(len(y)) % 3]),
        "fit",
        ValueError,
        "{name} needs numeric targets, but y holds <U1 values such as 'a'",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-y-object-strings",
        _with_X(_same, lambda y: np.array(["1.5", "x"] * (len(y) // 2), dtype=object)),
        "fit",
        ValueError,
        "needs numeric targets, but y holds object values such as '1.5'",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-y-complex",
        _with_X(_same, lambda y: y + 1j),
        "fit",
        ValueError,
        "Complex data not supported",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-poisson-negative-y",
        _with_X(_same, lambda y: y - 1.0, params={"loss": "poisson"}),
        "fit",
        ValueError,
        "loss='poisson' needs non-negative targets",
        kinds=REGRESSOR,
    ),
    Case(
        "partial_fit-poisson-negative-y",
        _with_X(_same, lambda y: -y, params={"loss": "poisson"}, prefit=None),
        "partial_fit",
        ValueError,
        "loss='poisson' needs non-negative targets",
        kinds=REGRESSOR,
    ),
    Case(
        "partial_fit-loss-changes-the-output-layer",
        _with_X(_same, params={"loss": "poisson"}),
        "partial_fit",
        ValueError,
        "output layer cannot change",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-warm-start-loss-changes-the-output-layer",
        _with_X(_same, params={"loss": "poisson", "warm_start": True}),
        "fit",
        ValueError,
        "output layer cannot change",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-y-sparse",
        _with_X(_same, lambda y: sp.csr_matrix(np.c_[y, y])),
        "fit",
        ValueError,
        "y is a sparse matrix; {name} needs dense targets",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-y-beyond-float32",
        _with_X(lambda X: X.astype(np.float32), lambda y: y * 1e39),
        "fit",
        ValueError,
        "y holds values beyond the range of float32",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-sample_weight-subnormal",
        _weights(lambda n: np.full(n, 1e-320)),
        "fit",
        ValueError,
        "Sample weights are too small: 1e-320 is below float64's smallest normal",
    ),
    Case(
        "fit-y-wrong-n-outputs-warm-start",
        _with_X(_same, lambda y: np.c_[y, y], params={"warm_start": True}),
        "fit",
        ValueError,
        "The network's layers do not match",
        kinds=REGRESSOR,
    ),
    Case(
        "fit-class_weight-negative",
        _with_X(_same, params={"class_weight": {0: 1.0, 1: -1.0, 2: 1.0}}),
        "fit",
        ValueError,
        "class_weight must map labels to finite non-negative weights",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-class_weight-infinite",
        _with_X(_same, params={"class_weight": {0: 1.0, 1: np.inf, 2: 1.0}}),
        "fit",
        ValueError,
        "class_weight must map labels to finite non-negative weights",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-y-multiclass-multioutput",
        _with_X(_same, lambda y: np.c_[y, (y + 1) % 3]),
        "fit",
        ValueError,
        "Multioutput target data is not supported with label binarization",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-y-multilabel-one-value",
        _with_X(_same, lambda y: np.full((len(y), 2), 2)),
        "fit",
        ValueError,
        "A multilabel indicator matrix needs two values",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-sample_weight-sum-overflows",
        _weights(lambda n: np.full(n, 1e308)),
        "fit",
        ValueError,
        "their sum overflows",
    ),
    # Bad shapes and dtypes of X.
    Case(
        "fit-X-empty",
        _with_X(lambda X: X[:0], lambda y: y[:0]),
        "fit",
        ValueError,
        "Found array with 0 sample(s) (shape=(0, 4)) while a minimum of 1 is required",
    ),
    Case(
        "fit-X-no-features",
        _with_X(lambda X: X[:, :0]),
        "fit",
        ValueError,
        "Found array with 0 feature(s) (shape=(30, 0)) while a minimum of 1 is "
        "required",
    ),
    Case(
        "predict-X-empty",
        _predict_with(lambda X: X[:0]),
        "predict",
        ValueError,
        "Found array with 0 sample(s)",
    ),
    Case(
        "fit-X-1d",
        _with_X(lambda X: X[:, 0]),
        "fit",
        ValueError,
        "Expected 2D array, got 1D array instead",
    ),
    Case(
        "predict-X-1d",
        _predict_with(lambda X: X[0]),
        "predict",
        ValueError,
        "Expected 2D array, got 1D array instead",
    ),
    Case(
        "fit-X-3d",
        _with_X(lambda X: X.reshape(N_SAMPLES, 2, 2)),
        "fit",
        ValueError,
        "Found array with dim 3",
    ),
    Case(
        "predict_proba-X-3d",
        _predict_with(lambda X: X.reshape(N_SAMPLES, 2, 2)),
        "predict_proba",
        ValueError,
        "Found array with dim 3",
        kinds=CLASSIFIER,
    ),
    Case(
        "fit-X-object-strings",
        _with_X(lambda X: _strings(X).astype(object)),
        "fit",
        ValueError,
        "could not convert string to float",
    ),
    Case(
        "predict-X-object-strings",
        _predict_with(lambda X: _strings(X).astype(object)),
        "predict",
        ValueError,
        "could not convert string to float",
    ),
    Case(
        "fit-X-complex",
        _with_X(lambda X: X + 1j),
        "fit",
        ValueError,
        "Complex data not supported",
    ),
    Case(
        "predict-X-complex",
        _predict_with(lambda X: X + 1j),
        "predict",
        ValueError,
        "Complex data not supported",
    ),
    Case(
        "predict-X-wrong-n-features",
        _predict_with(lambda X: X[:, :3]),
        "predict",
        ValueError,
        WRONG_N_FEATURES,
    ),
    Case(
        "predict_proba-X-wrong-n-features",
        _predict_with(lambda X: X[:, 1:]),
        "predict_proba",
        ValueError,
        WRONG_N_FEATURES,
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-X-wrong-n-features",
        _with_X(lambda X: X[:, :3]),
        "partial_fit",
        ValueError,
        WRONG_N_FEATURES,
    ),
    Case(
        "predict-X-other-feature-names",
        lambda kind: Scenario(
            (_dataframe(list("abce"))(_data(kind)[0]),),
            params={},
            prefit="fit-dataframe",
        ),
        "predict",
        ValueError,
        "The feature names should match those that were passed during fit",
    ),
    # Bad sample weights.
    Case(
        "fit-sample_weight-negative",
        _weights(_negative_weights),
        "fit",
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    Case(
        "fit-sample_weight-wrong-length",
        _weights(lambda n: np.ones(n - 1)),
        "fit",
        ValueError,
        "sample_weight.shape == (29,), expected (30,)!",
    ),
    Case(
        "fit-sample_weight-2d",
        _weights(lambda n: np.ones((n, 2))),
        "fit",
        ValueError,
        "Sample weights must be 1D array or scalar",
    ),
    Case(
        "fit-sample_weight-all-zero",
        _weights(np.zeros),
        "fit",
        ValueError,
        "Sample weights must contain at least one non-zero number",
    ),
    Case(
        "fit-sample_weight-nan",
        _weights(_nan_weights),
        "fit",
        ValueError,
        "Input sample_weight contains NaN",
    ),
    Case(
        "fit-sample_weight-inf",
        _weights(_inf_weights),
        "fit",
        ValueError,
        "Input sample_weight contains infinity",
    ),
    Case(
        "partial_fit-sample_weight-negative",
        _weights(_negative_weights),
        "partial_fit",
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    Case(
        "fit-class_weight-zeroes-every-sample",
        _with_X(_same, params={"class_weight": {0: 0.0, 1: 0.0, 2: 0.0}}),
        "fit",
        ValueError,
        "Sample weights must contain at least one non-zero number",
        kinds=CLASSIFIER,
    ),
    # Hyperparameters that pass the constraints but not the deeper checks.
    Case(
        "fit-hidden_layer_sizes-zero",
        _with_X(_same, params={"hidden_layer_sizes": (0,)}),
        "fit",
        ValueError,
        "hidden_layer_sizes must",
    ),
    Case(
        "fit-hidden_layer_sizes-negative",
        _with_X(_same, params={"hidden_layer_sizes": (5, -1)}),
        "fit",
        ValueError,
        "hidden_layer_sizes must",
    ),
    Case(
        "fit-early_stopping-validation-set-too-small",
        _with_X(
            _same,
            params={"early_stopping": True, "validation_fraction": 0.01},
        ),
        "fit",
        ValueError,
        "The validation set is too small",
    ),
    # partial_fit and warm_start misuse.
    Case(
        "partial_fit-class-not-in-classes-first-call",
        _partial_fit(classes=[0, 1, 2], y_change=_unseen_label, prefit=None),
        "partial_fit",
        ValueError,
        "`y` has classes not in `self.classes_`",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-class-not-in-classes",
        _partial_fit(y_change=_unseen_label, prefit="partial_fit"),
        "partial_fit",
        ValueError,
        "`y` has classes not in `self.classes_`",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-class-not-seen-by-fit",
        _partial_fit(y_change=_unseen_label, prefit="fit"),
        "partial_fit",
        ValueError,
        "`y` has classes not in `self.classes_`",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-other-classes-after-fit",
        _partial_fit(classes=[0, 1, 2, 3], prefit="fit"),
        "partial_fit",
        ValueError,
        "is not the same as on",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-other-classes-after-partial_fit",
        _partial_fit(classes=[0, 1], prefit="partial_fit"),
        "partial_fit",
        ValueError,
        "is not the same as on",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-no-classes-first-call",
        _partial_fit(prefit=None),
        "partial_fit",
        ValueError,
        "classes must be passed on the first call to partial_fit",
        kinds=CLASSIFIER,
    ),
    Case(
        "partial_fit-lbfgs",
        _partial_fit(classes=[0, 1, 2], params={"solver": "lbfgs"}),
        "partial_fit",
        AttributeError,
        "partial_fit is only available for stochastic optimizers",
    ),
    Case(
        "partial_fit-lbfgs-unfitted",
        _partial_fit(classes=[0, 1, 2], params={"solver": "lbfgs"}, prefit=None),
        "partial_fit",
        AttributeError,
        "partial_fit is only available for stochastic optimizers",
    ),
    Case(
        "partial_fit-early_stopping",
        _partial_fit(params={"early_stopping": True}),
        "partial_fit",
        ValueError,
        "partial_fit does not support early_stopping=True",
    ),
    Case(
        "fit-warm_start-other-n-features",
        _with_X(lambda X: X[:, :3], params={"warm_start": True}),
        "fit",
        ValueError,
        WRONG_N_FEATURES,
    ),
    Case(
        "fit-warm_start-other-classes",
        _with_X(_same, lambda y: y % 2, params={"warm_start": True}),
        "fit",
        ValueError,
        "warm_start can only be used where `y` has the same classes as in the "
        "previous call to fit",
        kinds=CLASSIFIER,
    ),
    # Not fitted.
    Case(
        "predict-before-fit", _unfitted_predict, "predict", NotFittedError, NOT_FITTED
    ),
    Case(
        "predict_proba-before-fit",
        _unfitted_predict,
        "predict_proba",
        NotFittedError,
        NOT_FITTED,
        kinds=CLASSIFIER,
    ),
    Case(
        "predict_log_proba-before-fit",
        _unfitted_predict,
        "predict_log_proba",
        NotFittedError,
        NOT_FITTED,
        kinds=CLASSIFIER,
    ),
    Case("score-before-fit", _unfitted_score, "score", NotFittedError, NOT_FITTED),
]


# Hyperparameter rows generated from _parameter_constraints ---------------------------


class _Unknown:
    """A value of a type no constraint accepts, with a stable repr for test ids."""

    def __repr__(self):
        return "<unknown object>"


def _base_constraints(constraint):
    """The simple constraints a (possibly composite) constraint is made of."""
    if not isinstance(constraint, _Constraint):
        constraint = make_constraint(constraint)
    inner = getattr(constraint, "_constraints", None)
    if inner is None:
        return [constraint]
    return [c for sub in inner for c in _base_constraints(sub)]


def _just_outside(interval):
    """(label, value) pairs just outside an Interval, on each bounded side."""
    integral = interval.type is Integral
    out = []
    if interval.left is not None:
        if interval.closed in ("left", "both"):
            below = interval.left - 1 if integral else np.nextafter(interval.left, -1)
            out.append(("below-min", below if integral else float(below)))
        else:
            out.append(("at-open-min", interval.left))
    if interval.right is not None:
        if interval.closed in ("right", "both"):
            above = (
                interval.right + 1
                if integral
                else float(np.nextafter(interval.right, math.inf))
            )
            out.append(("above-max", above))
        else:
            out.append(("at-open-max", interval.right))
    return out


def _wrong_types(constraint):
    """(label, value) pairs of the wrong type for one base constraint."""
    if isinstance(constraint, Interval):
        if constraint.type is Integral:
            low = 1 if constraint.left is None else constraint.left
            return [("wrong-type-float", low + 0.5), ("wrong-type-str", "1")]
        return [("wrong-type-str", "0.5")]
    if isinstance(constraint, StrOptions):
        return [("unknown-str", "not-a-valid-option"), ("wrong-type-int", 12345)]
    if isinstance(constraint, Options):
        return [("wrong-type-str", "inf")]
    return [("wrong-type-str", "yes"), ("wrong-type-object", _Unknown())]


def _invalid_values(constraints):
    """Out-of-range and wrong-type values violating every constraint of a param."""
    bases = [c for raw in constraints for c in _base_constraints(raw)]
    candidates = []
    for c in bases:
        if isinstance(c, Interval):
            candidates += _just_outside(c)
        candidates += _wrong_types(c)
    if any(label == "unknown-str" for label, _ in candidates):
        # An unknown string already is the wrong-string row of this parameter.
        candidates = [(lab, v) for lab, v in candidates if lab != "wrong-type-str"]
    seen, out = set(), []
    for label, value in candidates:
        if label in seen or any(c.is_satisfied_by(value) for c in bases):
            continue
        seen.add(label)
        out.append((label, value))
    return out


def _param_scenario(name, value):
    def make(kind):
        X, y = _data(kind)
        return Scenario((X, y), params={name: value})

    return make


def _generated_cases():
    cases = []
    for kind, (estimator_class, _) in ESTIMATORS.items():
        constraints = estimator_class._parameter_constraints
        for name, param_constraints in constraints.items():
            for label, value in _invalid_values(param_constraints):
                cases.append(
                    Case(
                        f"param-{name}-{label}",
                        _param_scenario(name, value),
                        "fit",
                        InvalidParameterError,
                        f"The '{name}' parameter of {{name}} must be",
                        kinds=(kind,),
                    )
                )
    return cases


GENERATED_CASES = _generated_cases()
ROWS = [
    pytest.param(kind, case, id=f"{kind}-{case.id}")
    for case in HAND_WRITTEN_CASES + GENERATED_CASES
    for kind in case.kinds
]

# Rows for which scikit-learn does not raise: nothing to compare.
SKLEARN_ACCEPTS = {
    "classifier-fit-sample_weight-negative": "MLPClassifier does not check the sign "
    "of weights",
    "classifier-partial_fit-sample_weight-negative": "as fit-sample_weight-negative",
    "regressor-fit-sample_weight-negative": "as fit-sample_weight-negative",
    "regressor-partial_fit-sample_weight-negative": "as fit-sample_weight-negative",
    "regressor-fit-poisson-negative-y": "MLPRegressor trains to a NaN loss",
    "regressor-partial_fit-poisson-negative-y": "as fit-poisson-negative-y",
    "classifier-fit-y-multilabel-one-value": "MLPClassifier maps every nonzero "
    "value to 1",
    "classifier-fit-sample_weight-sum-overflows": "MLPClassifier trains to NaN",
    "regressor-fit-sample_weight-sum-overflows": "MLPRegressor trains to NaN",
    "regressor-partial_fit-lbfgs": "MLPRegressor's availability check of "
    "partial_fit is never called (scikit-learn 1.9): it runs one lbfgs fit",
    "regressor-partial_fit-lbfgs-unfitted": "as partial_fit-lbfgs",
    "regressor-partial_fit-loss-changes-the-output-layer": "MLPRegressor keeps its "
    "identity output and trains the poisson loss through it, to a NaN loss",
    "regressor-fit-warm-start-loss-changes-the-output-layer": "as "
    "partial_fit-loss-changes-the-output-layer",
    "regressor-fit-y-beyond-float32": "MLPRegressor reports a loss of 3e78 for "
    "targets it cannot represent, and a model that predicts them as 1",
}

# Rows where scikit-learn raises a less helpful exception type.
SKLEARN_RAISES_OTHER = {
    "regressor-fit-y-strings": "MLPRegressor leaks NumPy's UFuncTypeError from its "
    "loss; skvgrad raises a ValueError naming the targets",
    "regressor-fit-y-sparse": "MLPRegressor fails with NumPy's LinAlgError inside "
    "its training; skvgrad raises a ValueError naming the sparse targets",
}


# The procedure of every row ----------------------------------------------------------


def _prepare(estimator_class, scenario, kind):
    """An estimator trained as the scenario says, before the failing call."""
    est = estimator_class(**BASE_PARAMS)
    X, y = _data(kind)
    if scenario.prefit == "fit":
        est.fit(X, y)
    elif scenario.prefit == "fit-dataframe":
        est.fit(_dataframe(list("abcd"))(X), y)
    elif scenario.prefit == "partial_fit":
        kwargs = {"classes": [0, 1, 2]} if kind == "classifier" else {}
        est.partial_fit(X, y, **kwargs)
    else:
        assert scenario.prefit is None
    return est


def _call(est, case, scenario):
    est.set_params(**scenario.params)
    return getattr(est, case.method)(*scenario.args, **scenario.kwargs)


def _assert_same(a, b, path="self"):
    """Deep, bitwise equality of fitted state (arrays, lists, dicts, objects)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, err_msg=path, strict=True)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, z) in enumerate(zip(a, b)):
            _assert_same(x, z, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif hasattr(a, "__dict__") and not callable(a):
        _assert_same(vars(a), vars(b), path)
    elif isinstance(a, Real) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


@pytest.mark.parametrize(("kind", "case"), ROWS)
def test_bad_input_raises(kind, case):
    estimator_class = ESTIMATORS[kind][0]
    scenario = case.make_input(kind)
    est = _prepare(estimator_class, scenario, kind)
    with pytest.raises(case.exception_type) as info:
        _call(est, case, scenario)
    assert case.message_fragment.format(name=estimator_class.__name__) in str(
        info.value
    )


def _predictions(est, X):
    """What the estimator answers: probabilities, or predicted values."""
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.predict(X)


@pytest.mark.parametrize(("kind", "case"), ROWS)
def test_bad_input_leaves_estimator_intact(kind, case):
    scenario = case.make_input(kind)
    est = _prepare(ESTIMATORS[kind][0], scenario, kind)
    params = est.get_params()
    fitted = scenario.prefit is not None
    if fitted:
        X_ref = X_REF
        if scenario.prefit == "fit-dataframe":
            X_ref = _dataframe(list("abcd"))(X_REF)
        before = _predictions(est, X_ref)
        state = copy.deepcopy(vars(est))
    with pytest.raises(case.exception_type):
        _call(est, case, scenario)
    if not fitted:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
        return
    assert set(vars(est)) == set(state)
    est.set_params(**params)  # undo what the row set; the fitted state must be intact
    np.testing.assert_array_equal(_predictions(est, X_ref), before, strict=True)
    _assert_same(
        {k: v for k, v in vars(est).items() if k not in params},
        {k: v for k, v in state.items() if k not in params},
    )


def _outcome(estimator_class, case, scenario, kind):
    """The exception raised by the row's call on ``estimator_class``, or None."""
    try:
        est = _prepare(estimator_class, scenario, kind)
        _call(est, case, scenario)
    except Exception as exc:
        return exc
    return None


@pytest.mark.parametrize(("kind", "case"), ROWS)
def test_bad_input_same_exception_as_sklearn(kind, case):
    ours, theirs = ESTIMATORS[kind]
    scenario = case.make_input(kind)
    if not set(scenario.params) <= set(theirs().get_params()):
        # A skvgrad-only parameter (e.g. class_weight): nothing to compare with.
        return
    if kind == "regressor" and case.id.startswith("param-loss-"):
        return  # skvgrad's regressor has more losses: other messages, same type
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN losses, see below
        sklearn_exc = _outcome(theirs, case, scenario, kind)
    if sklearn_exc is None:
        # scikit-learn accepts this input: the comparison does not apply. Each
        # such row is documented in SKLEARN_ACCEPTS.
        assert f"{kind}-{case.id}" in SKLEARN_ACCEPTS, f"{theirs.__name__} accepts it"
        return
    skvgrad_exc = _outcome(ours, case, case.make_input(kind), kind)
    if f"{kind}-{case.id}" in SKLEARN_RAISES_OTHER:
        assert type(skvgrad_exc) is ValueError is not type(sklearn_exc)
        return
    assert type(skvgrad_exc) is type(sklearn_exc), (
        f"{theirs.__name__} raises {type(sklearn_exc).__name__}({sklearn_exc}), "
        f"skvgrad raises {type(skvgrad_exc).__name__}({skvgrad_exc})"
    )


def test_every_hyperparameter_has_generated_rows():
    for kind, (estimator_class, _) in ESTIMATORS.items():
        rows = [c for c in GENERATED_CASES if c.kinds == (kind,)]
        names = {c.id.split("-")[1] for c in rows}
        assert names == set(estimator_class._parameter_constraints)
        for name in names:
            labels = {c.id.split("-", 2)[2] for c in rows if f"-{name}-" in c.id}
            assert any(
                label.startswith(("wrong-type", "unknown")) for label in labels
            ), name


def test_row_ids_are_unique():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))
