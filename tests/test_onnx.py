"""Tests of skvgrad.onnx: ONNX export of both estimators, run by onnxruntime.

Every converted model runs in onnxruntime and is compared with the estimator
itself: labels equal ``predict`` (in a float graph, except where the model's
own margin is below float32's resolution), probabilities and values equal
``predict_proba`` / ``predict`` to 1e-5 in float graphs and 1e-10 in double
graphs, on batches of 1 and 1,000 rows from a graph converted on a sample of
another size. The differential test at the end draws whole models; set
``SKVGRAD_ONNX_EXAMPLES`` (default 30) for a longer run.
"""

import copy
import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from skl2onnx import to_onnx
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skvgrad import (
    MLPAutogradClassifier,
    MLPAutogradRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
    engine,
)
from skvgrad.onnx import ExportError

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
MARGIN = {np.float32: 1e-4, np.float64: 0.0}
"""Below this margin a float graph's label may differ from predict's (a tie
within float32's rounding); a double graph's labels always equal predict's."""

RNG = np.random.default_rng(0)
X = RNG.normal(size=(1000, 5))
BUILTIN = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "gelu",
    "silu",
    "softplus",
    "elu",
    "leaky_relu",
]


def assert_close(actual, expected, dtype):
    """Equal to 1e-5 in float graphs, 1e-10 in double graphs, relative to the
    values' scale (rounding errors grow with the magnitude of the layers)."""
    tolerance = TOLERANCE[dtype]
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * scale)


def fitted(model, X, y):
    """``model`` fitted with warnings about convergence silenced: a few iterations
    are enough, since what is tested is that the graph computes what it computes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def classifier(activation="relu", hidden=(7,), **params):
    return MLPAutogradClassifier(
        hidden, activation=activation, solver="lbfgs", max_iter=30, random_state=0
    ).set_params(**params)


def regressor(activation="relu", hidden=(7,), **params):
    return MLPAutogradRegressor(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    ).set_params(**params)


def session(model, sample, **convert):
    """An onnxruntime session of ``model`` converted on ``sample``."""
    onx = to_onnx(model, sample, **convert)
    return ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def outputs(sess, X):
    """The session's outputs on ``X``, by name."""
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: X})))


def margin(model, X):
    """How far each row's label is from a tie, by the model's own raw outputs."""
    raw = model.decision_function(X)
    if model._target_type == "multiclass":
        top = np.sort(raw, axis=1)
        return top[:, -1] - top[:, -2]
    return np.abs(raw).reshape(len(X), -1).min(axis=1)


def assert_labels(label, model, X, dtype):
    """``label`` equals ``model.predict(X)`` wherever the margin is resolvable."""
    expected = model.predict(X)
    if len(model.classes_) > 1:
        clear = margin(model, X) > MARGIN[dtype]
        label, expected = label[clear], expected[clear]
    assert label.dtype.kind == expected.dtype.kind or label.dtype == object
    assert_array_equal(label, expected)


def check_classifier(model, X, dtype, sample_rows=7):
    """A graph converted on ``sample_rows`` rows computes predict and predict_proba
    on batches of 1 and 1,000 rows."""
    X = X.astype(dtype)
    sess = session(model, X[:sample_rows], options={type(model): {"zipmap": False}})
    for rows in (1, len(X)):
        out = outputs(sess, X[:rows])
        assert out["probabilities"].dtype == dtype
        assert_labels(out["label"], model, X[:rows], dtype)
        assert_close(out["probabilities"], model.predict_proba(X[:rows]), dtype)
    return sess


def check_regressor(model, X, dtype, sample_rows=7):
    """As :func:`check_classifier`, for predict; the output is (n, n_outputs)."""
    X = X.astype(dtype)
    sess = session(model, X[:sample_rows])
    for rows in (1, len(X)):
        (value,) = outputs(sess, X[:rows]).values()
        expected = model.predict(X[:rows])
        assert value.dtype == dtype and value.shape == (rows, model.n_outputs_)
        assert_close(value, expected.reshape(rows, -1), dtype)
    return sess


# Registration ----------------------------------------------------------------------


def test_import_skvgrad_imports_no_onnx_package():
    code = (
        "import sys, numpy as np, skvgrad\n"
        "skvgrad.MLPAutogradClassifier(max_iter=2).fit(np.eye(4), [0, 1, 0, 1])\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('skl2onnx', 'onnx', 'onnxruntime')))\n"
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_scikit_learns_mlp_converters_keep_working():
    Xf = X.astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = fitted(MLPClassifier((6,), max_iter=50, random_state=0), X, y)
    out = outputs(session(clf, Xf[:1], options={"zipmap": False}), Xf)
    assert_array_equal(
        out["label"][margin_sklearn(clf, Xf) > 1e-4],
        clf.predict(Xf)[margin_sklearn(clf, Xf) > 1e-4],
    )
    assert_allclose(out["probabilities"], clf.predict_proba(Xf), atol=1e-5)
    reg = fitted(
        MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0), X, X[:, 0]
    )
    (value,) = outputs(session(reg, Xf[:1]), Xf).values()
    assert_allclose(value.ravel(), reg.predict(Xf), rtol=1e-5, atol=1e-5)


def margin_sklearn(clf, X):
    """MLPClassifier's margin between its two most probable classes."""
    top = np.sort(clf.predict_proba(X), axis=1)
    return top[:, -1] - top[:, -2]


# Every model converts, exactly -----------------------------------------------------


@pytest.fixture(scope="module")
def by_activation():
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] + X[:, 2] > 0)
    return {name: fitted(classifier(name), X, y) for name in BUILTIN}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", BUILTIN)
def test_every_builtin_activation(by_activation, activation, dtype):
    check_classifier(by_activation[activation], X, dtype)


def classification_targets():
    """Targets of every kind the classifier takes, by name."""
    first, second = X[:, 0] > 0, X[:, 1] - X[:, 2] > 0.3
    three = first.astype(int) + second
    return {
        "binary": first.astype(int),
        "binary strings": np.where(first, "yes", "no"),
        "binary booleans": first,
        "multiclass": three,
        "multiclass strings": np.array(["cat", "dog", "emu"])[three],
        "multiclass floats": three * 1.0 + 1,
        "multilabel": np.column_stack([first, second, X[:, 3] > 0]).astype(int),
        "multilabel coded -1 and 1": np.column_stack([first, second]) * 2 - 1,
        "single class": np.full(len(X), "only"),
    }


CLASSIFICATION = classification_targets()


@pytest.fixture(scope="module")
def by_target():
    return {
        name: fitted(classifier(hidden=(6, 5)), X, y)
        for name, y in CLASSIFICATION.items()
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", list(CLASSIFICATION))
def test_every_kind_of_classifier(by_target, target, dtype):
    model = by_target[target]
    sess = check_classifier(model, X, dtype)
    (label, proba) = sess.get_outputs()
    multilabel = model._target_type == "multilabel-indicator"
    assert label.shape[1:] == ([len(model.classes_)] if multilabel else [])
    assert proba.shape[1:] == [len(model.classes_)]


REGRESSION = {
    "squared_error": ({}, X[:, 0] * 3 + X[:, 1] ** 2),
    "multi-output": ({}, np.column_stack([X[:, 0], X[:, 1] * X[:, 2], 100 * X[:, 3]])),
    "poisson": ({"loss": "poisson"}, np.exp(X[:, 0] / 2).round()),
    "huber": ({"loss": "huber"}, X[:, 0] + (X[:, 1] > 1.5) * 20),
    "quantile": ({"loss": "quantile", "quantile": 0.9}, X[:, 0] + X[:, 1]),
    "loss of your own": (
        {"loss": lambda raw, y: engine.abs(raw - y).sum(axis=1)},
        X[:, :2] @ [1.0, -2.0],
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(REGRESSION))
def test_every_kind_of_regressor(kind, dtype):
    params, y = REGRESSION[kind]
    model = fitted(regressor("tanh", **params), X, y)
    check_regressor(model, X, dtype)


def test_dtype_follows_the_sample_whatever_the_models_dtype():
    y = CLASSIFICATION["multiclass"]
    model32 = fitted(classifier("gelu"), X.astype(np.float32), y)
    assert model32.coefs_[0].dtype == np.float32
    check_classifier(model32, X, np.float64)  # double graph, exact to 1e-10
    check_classifier(model32, X, np.float32)
    model64 = fitted(classifier("gelu"), X, y)
    check_classifier(model64, X, np.float32)


def test_integer_input_gives_a_float_graph():
    model = fitted(regressor("relu"), X, X[:, 0])
    Xi = np.round(X * 3).astype(np.int64)
    (value,) = outputs(session(model, Xi[:2]), Xi).values()
    assert value.dtype == np.float32
    assert_allclose(value.ravel(), model.predict(Xi), rtol=1e-5, atol=1e-5)


def test_pipelines_and_column_transformers_convert():
    y = CLASSIFICATION["multiclass strings"]
    pipe = fitted(make_pipeline(StandardScaler(), classifier("silu")), X * 10, y)
    out = outputs(session(pipe, X[:3] * 10, options={"zipmap": False}), (X * 10)[:100])
    assert_array_equal(out["label"], pipe.predict((X * 10)[:100]))
    assert_allclose(out["probabilities"], pipe.predict_proba((X * 10)[:100]), 1e-10)
    columns = ColumnTransformer(
        [("a", StandardScaler(), [0, 1, 2]), ("b", MinMaxScaler(), [3, 4])]
    )
    pipe = fitted(make_pipeline(columns, regressor("elu")), X, X[:, :2])
    (value,) = outputs(session(pipe, X[:1]), X).values()
    assert_allclose(value, pipe.predict(X), rtol=1e-10, atol=1e-10)


# skl2onnx's options ---------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["multiclass", "multiclass strings", "binary booleans", "multilabel"]
)
def test_zipmap(by_target, target):
    model = by_target[target]
    Xf = X[:50].astype(np.float32)
    out = outputs(session(model, Xf[:1]), Xf)
    assert list(out) == ["output_label", "output_probability"]
    assert_labels(
        out["output_label"].astype(model.predict(Xf).dtype), model, Xf, np.float32
    )
    proba = model.predict_proba(Xf)
    for row, expected in zip(out["output_probability"], proba):
        keys = model.classes_.tolist()
        assert list(row) == keys
        assert_allclose([row[k] for k in keys], expected, atol=1e-5)


@pytest.mark.parametrize("target", ["multiclass", "multiclass strings"])
def test_zipmap_columns(by_target, target):
    model = by_target[target]
    Xf = X[:50].astype(np.float32)
    out = outputs(session(model, Xf[:1], options={"zipmap": "columns"}), Xf)
    names = list(out)
    assert names[0] == "output_label" and len(names) == 1 + len(model.classes_)
    assert_labels(out["output_label"], model, Xf, np.float32)
    columns = np.column_stack([out[name] for name in names[1:]])
    assert_allclose(columns, model.predict_proba(Xf), atol=1e-5)


@pytest.mark.parametrize(
    "target", ["binary strings", "multiclass strings", "multiclass floats"]
)
def test_nocl_gives_class_indices(by_target, target):
    model = by_target[target]
    Xf = X.astype(np.float32)  # ZipMap takes float32 only
    for options in ({"zipmap": False, "nocl": True}, {"zipmap": True, "nocl": True}):
        out = outputs(session(model, Xf[:1], options=options), Xf)
        label = next(iter(out.values()))
        assert label.dtype == np.int64
        assert_labels(model.classes_[label], model, Xf, np.float32)


def test_nocl_of_a_multilabel_model_gives_indicators(by_target):
    model = by_target["multilabel coded -1 and 1"]
    out = outputs(session(model, X[:1], options={"zipmap": False, "nocl": True}), X)
    assert_array_equal(out["label"], model.predict(X) == 1)


@pytest.mark.parametrize("target", list(CLASSIFICATION))
def test_output_class_labels(by_target, target):
    model = by_target[target]
    options = {"zipmap": False, "output_class_labels": True}
    out = outputs(session(model, X[:1], options=options), X[:3])
    assert list(out) == ["label", "probabilities", "class_labels"]
    assert_array_equal(out["class_labels"], model.classes_)
    assert out["class_labels"].dtype.kind == model.classes_.dtype.kind or (
        out["class_labels"].dtype == object
    )


def test_output_class_labels_needs_zipmap_off(by_target):
    with pytest.raises(RuntimeError, match="not compatible with option 'zipmap'"):
        to_onnx(
            by_target["multiclass"],
            X[:1].astype(np.float32),
            options={"output_class_labels": True},
        )


# What skl2onnx's MLP converters get wrong -------------------------------------------


def test_multi_output_regression_keeps_its_shape():
    model = fitted(regressor(), X, np.column_stack([X[:, 0], X[:, 1], X[:, 2]]))
    (value,) = outputs(session(model, X[:1]), X).values()
    assert value.shape == (len(X), 3)


def test_multilabel_double_graph_runs(by_target):
    check_classifier(by_target["multilabel"], X, np.float64)


def test_exp_output_of_poisson_regression():
    model = fitted(regressor(loss="poisson"), X, np.exp(X[:, 0]).round())
    assert model.out_activation_ == "exp"
    check_regressor(model, X, np.float64)


def test_nocl_with_string_labels_runs(by_target):
    model = by_target["multiclass strings"]
    options = {"zipmap": False, "nocl": True}
    out = outputs(session(model, X[:1], options=options), X)
    assert_array_equal(model.classes_[out["label"]], model.predict(X))


# Custom activations, traced --------------------------------------------------------


def swish(z):
    return z * engine.sigmoid(z)


def scaled_tanh(z, scale=1.0):
    return scale * engine.tanh(z / scale)


class Shifted:
    """A callable instance: a relu moved by ``shift``."""

    def __init__(self, shift):
        self.shift = shift

    def __call__(self, z):
        return engine.relu(z - self.shift) + self.shift


CUSTOM = {
    "module-level function": swish,
    "functools.partial": functools.partial(scaled_tanh, scale=1.7),
    "callable instance": Shifted(0.3),
    "lambda": lambda z: engine.softplus(z) - np.log(2.0),
    "composition": lambda z: engine.tanh(z) * 0.5 + engine.relu(z),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(CUSTOM))
def test_custom_activations(kind, dtype):
    y = CLASSIFICATION["multiclass"]
    check_classifier(fitted(classifier(CUSTOM[kind]), X, y), X, dtype)


def kinked(z):
    """A branch on the data: slope 1 above 0.5, 0.1 below."""
    return engine.where(z > 0.5, z, 0.1 * (z - 0.5) + 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_branches_stay_data_dependent(dtype):
    model = fitted(regressor(kinked, hidden=(6,)), X, X[:, 0] ** 2)
    z = X @ model.coefs_[0] + model.intercepts_[0]
    assert (z > 0.5).mean() > 0.1 and (z <= 0.5).mean() > 0.1  # both branches
    sess = check_regressor(model, X, dtype, sample_rows=1)
    onx = to_onnx(model, X[:1].astype(dtype))
    assert {"Greater", "Where"} <= {node.op_type for node in onx.graph.node}
    assert sess is not None


RNG_M = np.random.default_rng(1)
M = RNG_M.normal(size=(4, 4))
PRIMITIVES = {
    "arithmetic": lambda z: (z + 1.5) * z - z / 3.0 + 2.0 ** (-z) - (1 - z),
    "power": lambda z: engine.abs(z) ** 1.5 + z**2 + (1 + z * z) ** -2.0,
    "maximum minimum": lambda z: engine.clip(z, -1.0, 1.0) + engine.maximum(z, z * z),
    "logaddexp": lambda z: engine.logaddexp(z, -z) + engine.logaddexp(z, z),
    "exp log sqrt": lambda z: engine.log(engine.exp(-z * z) + 1) + engine.sqrt(z * z),
    "log1p expm1": lambda z: engine.log1p(engine.abs(z)) + engine.expm1(-z * z),
    "square abs sign negative": lambda z: engine.square(z) * engine.sign(z) - abs(z),
    "sin cos": lambda z: engine.sin(z) * engine.cos(2 * z),
    "tanh sigmoid relu": lambda z: engine.tanh(z) + engine.sigmoid(z) * engine.relu(z),
    "softplus log_sigmoid": lambda z: engine.softplus(z) + engine.log_sigmoid(z),
    "matmul": lambda z: engine.tanh(z @ M),
    "einsum": lambda z: engine.einsum("ij,jk->ik", z, M),
    "reductions": lambda z: (
        z
        - z.sum(axis=1, keepdims=True)
        + z.max(axis=1, keepdims=True)
        - engine.min(z, axis=1, keepdims=True)
        + engine.mean(z, axis=-1, keepdims=True)
        + engine.prod(engine.tanh(z), axis=1, keepdims=True)
    ),
    "reductions over every axis": lambda z: z - engine.mean(z) + engine.max(z),
    "cumsum": lambda z: engine.cumsum(z, axis=1),
    "softmax log_softmax logsumexp": lambda z: (
        engine.softmax(z, axis=1)
        + engine.log_softmax(z, axis=1)
        + engine.logsumexp(z, axis=1, keepdims=True)
        - engine.logsumexp(z, axis=1)[:, None]
        + engine.logsumexp(z)
    ),
    "reshape transpose": lambda z: z.reshape(-1, 2).reshape(-1, 4) + z.T.T,
    "slices": lambda z: z[:, ::-1] + z[..., 1:2] + z[:, None, 2][:, 0, None],
    "negative indices": lambda z: (
        z + z[:, -1:] + z[:, -1][:, None] + z[:, -3:-1].sum(1)[:, None]
    ),
    "array index": lambda z: z[:, [0, 0, 1, 3]] + z[:, np.array([3, 2, 1, 0])],
    "concatenate pad": lambda z: (
        engine.concatenate([z[:, 2:], z[:, :2]], axis=1) + engine.pad(z[:, 1:])
    ),
    "where comparisons logic": lambda z: (
        engine.where((z > 0) & (z <= 1) | ~(z != 2.0), z, -z)
        + engine.where(z >= 0.5, z, 0.0)
        + engine.where(z < -1, z, 0.0)
        + engine.where(np.logical_xor(z > 0, z > 1), z, 2.0)
        + engine.where(np.logical_not(z > 0) ^ (z < -2), 1.0, z)
        + engine.where(z == 0, 5.0, z)
    ),
    "masks as numbers": lambda z: z * (z > 0) + z * (z < 0).astype(z.dtype),
    "isfinite isnan isinf": lambda z: engine.where(
        np.isfinite(z) & ~np.isnan(z) & ~np.isinf(z), z, 0.0
    ),
    "numpy functions": lambda z: np.tanh(z) + np.maximum(z, 0) + np.exp(-np.abs(z)),
}


@pytest.fixture(scope="module")
def four_units():
    return fitted(regressor("tanh", hidden=(4,)), X, X[:, :2] @ [1.0, -1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_every_primitive_exports_in_both_dtypes(four_units, name, dtype):
    # The activation is swapped after fitting: predict and the converter read it.
    model = copy.copy(four_units).set_params(activation=PRIMITIVES[name])
    check_regressor(model, X, dtype)


def one_unit_network(activation):
    """A regressor computing ``activation(x)`` of its single feature."""
    model = fitted(regressor(activation, hidden=(1,)), X[:20, :1], X[:20, 0])
    model.coefs_ = [np.ones((1, 1)), np.ones((1, 1))]
    model.intercepts_ = [np.zeros(1), np.zeros(1)]
    return model


@pytest.mark.parametrize(
    "name, function",
    [
        ("sigmoid", engine.sigmoid),
        ("softplus", engine.softplus),
        ("log_sigmoid", engine.log_sigmoid),
        ("logaddexp", lambda z: engine.logaddexp(z, 2 * z)),
        ("log1p", lambda z: engine.log1p(engine.abs(z) * 1e-3)),
        ("expm1", lambda z: engine.expm1(z * 1e-3)),
        ("silu", "silu"),
        ("elu", "elu"),
    ],
)
def test_stable_forms_keep_relative_accuracy_in_the_tails(name, function):
    model = one_unit_network(function)
    Xw = np.concatenate([np.linspace(-740, 700, 2001), [-1e-9, 1e-12, 0.0]])[:, None]
    (value,) = outputs(session(model, Xw[:1]), Xw).values()
    expected = model.predict(Xw)
    assert np.all(np.isfinite(value))
    assert_allclose(value.ravel(), expected, rtol=1e-13, atol=0)


# Refused, with the reason ----------------------------------------------------------


@engine.primitive
def cube(x):
    """A primitive of the user's: no ONNX counterpart is known for it."""
    return x**3, (lambda g: 3 * g * x**2,)


REFUSED = {
    "a primitive of your own": (cube, r"cube .*has no ONNX counterpart"),
    "an engine primitive without counterpart": (
        lambda z: engine.at(z)[:, 0].set(0.0),
        r"_index_update .*has no ONNX counterpart",
    ),
    "a NumPy test without counterpart": (
        lambda z: engine.where(np.signbit(z), -z, z),
        r"signbit .*has no ONNX counterpart",
    ),
    "a random draw": (
        lambda z: z + np.random.default_rng().normal(),
        "a random draw",
    ),
    "a constant of the batch's shape": (
        lambda z: z * np.ones(z.shape),
        "depends on the batch size",
    ),
    "a branch on the batch size": (
        lambda z: z if z.shape[0] > 1 else 2 * z,
        "depends on the batch size",
    ),
    "a value read": (lambda z: z * float(z.value.max()), "cannot be traced.*value"),
    "an index by a traced mask": (lambda z: z * z[z > 0].sum(), "traced mask"),
    "a method of Tensors only": (
        lambda z: z.pad()[:, :-1],
        "fails on NumPy arrays, as predict calls it",
    ),
    "an output of another shape": (lambda z: z.sum(axis=1), "of its input's shape"),
    "bitwise operators on integers": (
        lambda z: z * ((z > 0).astype(np.int64) & 1),
        "bitwise operator to integers",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_cannot_be_exported_is_refused_and_named(four_units, case):
    function, message = REFUSED[case]
    model = copy.copy(four_units).set_params(activation=function)
    with pytest.raises(ExportError, match=message):
        to_onnx(model, X[:1])


@pytest.mark.parametrize("Tabular", [TabularMLPClassifier, TabularMLPRegressor])
def test_tabular_estimators_are_refused_and_pointed_to_the_drop_ins(Tabular):
    y = (X[:, 0] > 0).astype(int)
    model = Tabular(max_iter=2, random_state=0).fit(X[:100], y[:100])
    drop_in = Tabular.__name__.replace("TabularMLP", "MLPAutograd")
    for what in (model, make_pipeline(StandardScaler(), model)):
        with pytest.raises(ExportError, match=f"no ONNX converter.*{drop_in}"):
            to_onnx(what, X[:1])


@pytest.mark.parametrize(
    "function",
    [
        lambda z: z + engine.where(z > 0.5, 1.0, 0.0),
        lambda z: z + engine.where(z.sum(axis=0) > 0, 1.0, 0.0),
    ],
    ids=["elementwise", "over the batch"],
)
def test_branches_between_constants_are_exact_or_refused(four_units, function):
    # where(condition, 1.0, 0.0) runs no engine operation on z: a trace that
    # froze its value must not become a graph.
    model = copy.copy(four_units).set_params(activation=function)
    try:
        check_regressor(model, X, np.float64)
    except ExportError as error:
        assert "as a constant" in str(error) or "as constants" in str(error)


def test_zipmap_of_a_double_graph_is_refused(by_target):
    with pytest.raises(ExportError, match="zipmap needs a float graph"):
        to_onnx(by_target["multiclass"], X[:1])


@pytest.mark.parametrize("opset", [13, 17])
def test_opsets_from_13_work(four_units, opset):
    # Before opset 18 the reductions take their axes as attributes.
    model = copy.copy(four_units).set_params(
        activation=lambda z: (
            PRIMITIVES["reductions"](z)
            + PRIMITIVES["softmax log_softmax logsumexp"](z)
            + PRIMITIVES["slices"](z)
            + PRIMITIVES["reshape transpose"](z)
        )
    )
    sess = session(model, X[:2], target_opset=opset)
    (value,) = outputs(sess, X).values()
    assert_close(value.ravel(), model.predict(X), np.float64)


def test_old_opsets_are_refused(by_target):
    with pytest.raises(ExportError, match="opset 13 or later"):
        to_onnx(by_target["binary"], X[:1], target_opset=12, options={"zipmap": False})


def test_unfitted_models_are_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_onnx(classifier(), X[:1])


# Differential: whole models drawn at random ----------------------------------------

TRACED = {
    "swish": swish,
    "kinked": kinked,
    "partial": functools.partial(scaled_tanh, scale=0.7),
    "composition": lambda z: engine.tanh(z) * 0.5 + engine.relu(z),
}
KINDS = {
    "binary": lambda: CLASSIFICATION["binary strings"],
    "multiclass": lambda: CLASSIFICATION["multiclass"],
    "multilabel": lambda: CLASSIFICATION["multilabel coded -1 and 1"],
    "regression": lambda: X[:, 0] * 2 + X[:, 1],
    "multi-output": lambda: X[:, :3] * [1.0, -1.0, 5.0],
    "poisson": lambda: np.exp(X[:, 0] / 2).round(),
}


@settings(
    max_examples=int(os.environ.get("SKVGRAD_ONNX_EXAMPLES", "30")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    hidden=st.lists(st.integers(1, 9), min_size=1, max_size=3).map(tuple),
    activation=st.sampled_from(BUILTIN + list(TRACED)),
    kind=st.sampled_from(list(KINDS)),
    dtype=st.sampled_from(DTYPES),
    model_dtype=st.sampled_from(DTYPES),
    sample_rows=st.integers(1, 20),
    rows=st.sampled_from([1, 2, 37, 1000]),
    seed=st.integers(0, 2**16),
)
def test_random_models_agree_with_onnxruntime(
    hidden, activation, kind, dtype, model_dtype, sample_rows, rows, seed
):
    function = TRACED.get(activation, activation)
    y = KINDS[kind]()
    make = (
        regressor if kind in ("regression", "multi-output", "poisson") else classifier
    )
    params = {"loss": "poisson"} if kind == "poisson" else {}
    model = make(function, hidden, max_iter=3, **params)
    model = fitted(model, X[:200].astype(model_dtype), y[:200])
    # Weights drawn at random, so that every unit and branch is exercised.
    rng = np.random.default_rng(seed)
    model.coefs_ = [
        (rng.normal(size=c.shape) * 2 / np.sqrt(len(c))).astype(model_dtype)
        for c in model.coefs_
    ]
    model.intercepts_ = [
        rng.normal(size=b.shape).astype(model_dtype) for b in model.intercepts_
    ]
    data = rng.normal(size=(rows, X.shape[1])).astype(dtype)
    sample = rng.normal(size=(sample_rows, X.shape[1])).astype(dtype)
    if make is regressor:
        (value,) = outputs(session(model, sample), data).values()
        expected = model.predict(data).reshape(rows, -1)
        assert_close(value, expected, dtype)
        return
    sess = session(model, sample, options={type(model): {"zipmap": False}})
    out = outputs(sess, data)
    assert_labels(out["label"], model, data, dtype)
    assert_close(out["probabilities"], model.predict_proba(data), dtype)
