"""Both estimators on Array API namespaces: PyTorch and array-api-strict.

scikit-learn's own array API checks for every solver and task; the float64 fit
on another namespace equal to the NumPy fit (weights, outputs, loss curve,
iterations); the arithmetic in X's namespace; what happens without dispatch;
moving a fitted model to NumPy and saving it; the estimators and tools that do
not take Array API inputs. CUDA and other devices are skipped by scikit-learn's
checks where absent, with the reason.
"""

import io
import warnings

import joblib
import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification, make_regression
from sklearn.utils._array_api import (
    move_estimator_to,
    yield_mixed_namespace_input_permutations,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_mixed_inputs,
    check_array_api_same_namespace,
)

from skvgrad import (
    MLPAutogradClassifier,
    MLPAutogradRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from skvgrad.nn import LOSSES, Objective

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
xps = pytest.importorskip(
    "array_api_strict", reason="array-api-strict is not installed"
)

SOLVERS = ("adam", "sgd", "lbfgs")
ESTIMATORS = {
    "classifier": lambda solver: MLPAutogradClassifier(
        hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0
    ),
    "regressor": lambda solver: MLPAutogradRegressor(
        hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0
    ),
    "poisson": lambda solver: MLPAutogradRegressor(
        loss="poisson", hidden_layer_sizes=(5,), solver=solver, max_iter=5
    ).set_params(random_state=0),
}
COMBINATIONS = [
    combination
    for combination in yield_namespace_device_dtype_combinations()
    if combination[0] in ("torch", "array_api_strict", "cupy")
]


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        yield


@pytest.mark.parametrize("kind", list(ESTIMATORS))
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("namespace, device, dtype", COMBINATIONS)
def test_scikit_learns_array_api_checks(kind, solver, namespace, device, dtype):
    estimator = ESTIMATORS[kind](solver)
    name = type(estimator).__name__
    check_array_api_input(
        name,
        estimator,
        namespace,
        device,
        dtype,
        check_values=True,
        check_sample_weight=True,
    )
    check_array_api_same_namespace(name, estimator, namespace, device)


@pytest.mark.parametrize("kind", list(ESTIMATORS))
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "X_place, other_place, _",
    list(yield_mixed_namespace_input_permutations()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_scikit_learns_mixed_inputs_check(kind, solver, X_place, other_place, _):
    estimator = ESTIMATORS[kind](solver)
    check_array_api_mixed_inputs(
        type(estimator).__name__, estimator, X_place, other_place, check_values=True
    )


def test_the_estimators_declare_their_support():
    assert MLPAutogradClassifier().__sklearn_tags__().array_api_support
    assert MLPAutogradRegressor().__sklearn_tags__().array_api_support
    assert not TabularMLPClassifier().__sklearn_tags__().array_api_support
    assert not TabularMLPRegressor().__sklearn_tags__().array_api_support


# The same fit as on NumPy ---------------------------------------------------------


def _to_torch(a):
    return torch.asarray(a)


def _to_strict(a):
    return xps.asarray(a)


def _to_strict_device1(a):
    return xps.asarray(a, device=xps.Device("device1"))


PLACES = {
    "torch": _to_torch,
    "strict": _to_strict,
    "strict-device1": _to_strict_device1,
}


def _numpy(a):
    if isinstance(a, np.ndarray):
        return a
    if isinstance(a, torch.Tensor):
        return a.numpy()
    return np.from_dlpack(xps.asarray(a, device=xps.Device("CPU_DEVICE")))


def _task(task):
    """An estimator and its data for a task."""
    X, y = make_classification(
        80, 6, n_informative=4, n_classes=3, random_state=0, n_clusters_per_class=1
    )
    if task == "binary":
        y = y % 2
    if task in ("binary", "multiclass"):
        return MLPAutogradClassifier, X, y
    X, Y = make_regression(80, 6, n_targets=2, noise=0.1, random_state=0)
    Y = Y / np.abs(Y).max(axis=0)
    if task == "regression":
        return MLPAutogradRegressor, X, Y[:, 0]
    if task == "multi-output":
        return MLPAutogradRegressor, X, Y
    return MLPAutogradRegressor, X, np.exp(Y[:, 0])  # poisson: positive targets


TASKS = ("binary", "multiclass", "regression", "multi-output", "poisson")


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("task", TASKS)
def test_a_float64_fit_equals_the_numpy_fit(place, solver, task):
    Estimator, X, y = _task(task)
    params = dict(hidden_layer_sizes=(7,), solver=solver, max_iter=8, random_state=0)
    if task == "poisson":
        params["loss"] = "poisson"
    if solver == "adam":
        params["dropout"] = 0.2  # the same masks, drawn by NumPy, on the device
    weights = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    reference = Estimator(**params).fit(X, y, sample_weight=weights)
    convert = PLACES[place]
    with sklearn.config_context(array_api_dispatch=True):
        model = Estimator(**params).fit(
            convert(X), convert(y), sample_weight=convert(weights)
        )
        X_device = convert(X)
        outputs = {"predict": model.predict(X_device)}
        if Estimator is MLPAutogradClassifier:
            for method in ("predict_proba", "predict_log_proba", "decision_function"):
                outputs[method] = getattr(model, method)(X_device)
        score = model.score(X_device, convert(y))
    assert model.n_iter_ == reference.n_iter_
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)
    assert all(type(loss) is float for loss in model.loss_curve_)
    assert type(score) is float
    assert abs(score - reference.score(X, y)) < 1e-10
    for fitted, expected in zip(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert type(fitted) is type(X_device)
        assert fitted.device == X_device.device
        assert_allclose(_numpy(fitted), expected, rtol=1e-10, atol=1e-12)
    for method, output in outputs.items():
        assert type(output) is type(X_device), method
        assert output.device == X_device.device
        expected = getattr(reference, method)(X)
        assert_allclose(_numpy(output), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("place", ["torch", "strict-device1"])
def test_a_multilabel_fit_equals_the_numpy_fit(place):
    X, _ = make_classification(60, 5, random_state=0)
    Y = (X[:, :3] > 0).astype(np.int64)
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    reference = MLPAutogradClassifier(**params).fit(X, Y)
    convert = PLACES[place]
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPAutogradClassifier(**params).fit(convert(X), convert(Y))
        predicted = model.predict(convert(X))
        proba = model.predict_proba(convert(X))
    assert type(predicted) is type(convert(X))
    assert_allclose(_numpy(predicted), reference.predict(X))
    assert_allclose(_numpy(proba), reference.predict_proba(X), rtol=1e-10)
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("place", list(PLACES))
def test_classes_follow_x_when_numeric_and_stay_numpy_for_strings(place):
    convert = PLACES[place]
    X, y = make_classification(40, 4, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPAutogradClassifier((4,), max_iter=3, random_state=0)
        model.fit(convert(X), convert(y))
        assert type(model.classes_) is type(convert(X))
        assert type(model.predict(convert(X))) is type(convert(X))
        labels = np.array(["no", "yes"])[y]
        model.fit(convert(X), labels)
        assert isinstance(model.classes_, np.ndarray)
        assert model.predict(convert(X)).tolist() == (
            MLPAutogradClassifier((4,), max_iter=3, random_state=0)
            .fit(X, labels)
            .predict(X)
            .tolist()
        )


def test_training_and_prediction_compute_with_torch():
    """Matrix products run as torch operations on torch input."""
    X, y = make_classification(50, 5, random_state=0)
    calls = []

    class Count(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            calls.append(getattr(func, "__name__", str(func)))
            return func(*args, **(kwargs or {}))

    with sklearn.config_context(array_api_dispatch=True):
        with Count():
            model = MLPAutogradClassifier((6,), max_iter=2, random_state=0)
            model.fit(torch.asarray(X), torch.asarray(y))
        fitted = len(calls)
        with Count():
            model.predict_proba(torch.asarray(X))
    assert calls.count("__matmul__") + calls.count("matmul") >= 3 * 2 * 2
    assert any(name in ("__matmul__", "matmul") for name in calls[fitted:])


def test_lbfgs_moves_the_vector_once_each_way_per_evaluation(monkeypatch):
    """SciPy's vector goes to the device and the gradient comes back: one
    transfer each way per evaluation of the objective."""
    import skvgrad.base

    X, y = make_classification(50, 5, random_state=0)
    evaluations, to_device, to_host = [], [], []
    lbfgs, on_device = skvgrad.base.optim.lbfgs, skvgrad.base.BaseMLPAutograd._on_device
    to_numpy = skvgrad.base._to_numpy

    def counted_lbfgs(fun, x0, **kwargs):
        def counted(x):
            evaluations.append(1)
            return fun(x)

        return lbfgs(counted, x0, **kwargs)

    def counted_on_device(self, *arrays, **kwargs):
        if evaluations and len(arrays) == 1 and arrays[0].ndim == 1:
            to_device.append(1)
        return on_device(self, *arrays, **kwargs)

    def counted_to_numpy(array):
        if evaluations and isinstance(array, torch.Tensor):
            to_host.append(1)
        return to_numpy(array)

    monkeypatch.setattr(skvgrad.base.optim, "lbfgs", counted_lbfgs)
    monkeypatch.setattr(skvgrad.base.BaseMLPAutograd, "_on_device", counted_on_device)
    monkeypatch.setattr(skvgrad.base, "_to_numpy", counted_to_numpy)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPAutogradClassifier((4,), solver="lbfgs", max_iter=5)
        model.set_params(random_state=0).fit(torch.asarray(X), torch.asarray(y))
    # Per evaluation one vector in and one gradient out; per iteration the
    # callback moves the accepted vector in (coefs_ as its views).
    assert len(to_host) == len(evaluations)
    assert len(to_device) == len(evaluations) + model.n_iter_ + 1


def test_replay_is_never_used_for_other_namespaces():
    objective = Objective([3, 2], "relu", LOSSES["binary_log_loss"], 0.0)
    vector = torch.zeros(8, dtype=torch.float64)
    X = torch.ones((4, 3), dtype=torch.float64)
    Y = torch.ones((4, 2), dtype=torch.float64)
    for _ in range(3):
        data, _, grad = objective(vector, X, Y, None)
    assert objective._plans == {}
    assert isinstance(grad, torch.Tensor)
    assert isinstance(data, float)


@pytest.mark.parametrize("solver", SOLVERS)
def test_without_dispatch_other_arrays_are_converted_to_numpy(solver):
    X, y = make_classification(40, 4, random_state=0)
    params = dict(hidden_layer_sizes=(4,), solver=solver, max_iter=4, random_state=0)
    model = MLPAutogradClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    reference = MLPAutogradClassifier(**params).fit(X, y)
    assert all(isinstance(c, np.ndarray) for c in model.coefs_)
    assert isinstance(model.classes_, np.ndarray)
    for a, b in zip(model.coefs_, reference.coefs_):
        assert_allclose(a, b)
    assert isinstance(model.predict_proba(torch.asarray(X)), np.ndarray)


# Moving, saving, continuing ----------------------------------------------------------


def _torch_model(**params):
    X, y = make_classification(40, 4, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPAutogradClassifier((4,), max_iter=3, random_state=0, **params)
        model.fit(torch.asarray(X), torch.asarray(y))
    return model, X, y


def test_a_moved_model_predicts_the_same_and_saves():
    skops_io = pytest.importorskip("skops.io", reason="skops is not installed")
    model, X, y = _torch_model()
    with sklearn.config_context(array_api_dispatch=True):
        expected = model.predict_proba(torch.asarray(X)).numpy()
    moved = move_estimator_to(model, np, "cpu")
    assert all(isinstance(c, np.ndarray) for c in moved.coefs_ + [moved.classes_])
    assert all(isinstance(m, np.ndarray) for m in moved._optimizer_state[1]["ms"])
    assert_allclose(moved.predict_proba(X), expected, rtol=1e-12)
    buffer = io.BytesIO()
    joblib.dump(moved, buffer)
    buffer.seek(0)
    assert_allclose(joblib.load(buffer).predict_proba(X), expected, rtol=1e-12)
    data = skops_io.dumps(moved)
    loaded = skops_io.loads(data, trusted=skops_io.get_untrusted_types(data=data))
    assert_allclose(loaded.predict_proba(X), expected, rtol=1e-12)
    moved.partial_fit(X, y)  # the optimizer's moments moved with it
    assert all(isinstance(c, np.ndarray) for c in moved.coefs_)


def test_saving_a_model_of_another_namespace_says_to_move_it():
    skops_io = pytest.importorskip("skops.io", reason="skops is not installed")
    model, _, _ = _torch_model()
    with pytest.raises(TypeError, match="torch arrays: move it to NumPy first"):
        joblib.dump(model, io.BytesIO())
    with pytest.raises(TypeError, match="move_estimator_to"):
        skops_io.dumps(model)


def test_onnx_export_of_a_model_of_another_namespace_says_to_move_it():
    pytest.importorskip("skl2onnx", reason="skl2onnx is not installed")
    from skl2onnx import to_onnx

    from skvgrad.onnx import ExportError

    model, X, _ = _torch_model()
    with pytest.raises(ExportError, match="move_estimator_to"):
        to_onnx(model, X[:1].astype(np.float32))


def test_continuing_on_another_namespace_than_the_fits_is_refused():
    model, X, y = _torch_model(warm_start=True)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=r"partial_fit\(\) must use the same"):
            model.partial_fit(X, y)
        with pytest.raises(ValueError, match=r"fit\(\) must use the same"):
            model.fit(xps.asarray(X), xps.asarray(y))
        model.fit(torch.asarray(X), torch.asarray(y))  # warm start on torch: fine
    with pytest.raises(ValueError, match="array API dispatch is off"):
        model.predict(X)


@pytest.mark.parametrize("place", ["torch", "strict-device1"])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_early_stopping_and_validation_data_equal_the_numpy_fit(place, task):
    Estimator, X, y = _task(task)
    convert = PLACES[place]
    params = dict(hidden_layer_sizes=(6,), max_iter=6, random_state=0)
    split = dict(early_stopping=True, n_iter_no_change=2, validation_fraction=0.25)
    own = dict(X_val=X[:20], y_val=y[:20], sample_weight_val=np.ones(20))
    for extra, fit_params in ((split, {}), ({}, own)):
        reference = Estimator(**params, **extra).fit(X, y, **fit_params)
        device_params = {k: convert(v) for k, v in fit_params.items()}
        with sklearn.config_context(array_api_dispatch=True):
            model = Estimator(**params, **extra)
            model.fit(convert(X), convert(y), **device_params)
        assert model.n_iter_ == reference.n_iter_
        assert_allclose(
            model.validation_scores_, reference.validation_scores_, rtol=1e-10
        )
        assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)
        assert_allclose(_numpy(model.coefs_[0]), reference.coefs_[0], rtol=1e-10)


@pytest.mark.parametrize(
    "task, scoring", [("multiclass", "neg_log_loss"), ("regression", "r2")]
)
def test_a_scoring_of_ones_own_gets_everything_on_the_device(task, scoring):
    Estimator, X, y = _task(task)
    params = dict(hidden_layer_sizes=(6,), max_iter=4, random_state=0)
    params.update(early_stopping=True, scoring=scoring)
    reference = Estimator(**params).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        model = Estimator(**params).fit(torch.asarray(X), torch.asarray(y))
    assert_allclose(model.validation_scores_, reference.validation_scores_, rtol=1e-10)


def test_a_diverging_fit_names_its_cause_on_another_namespace():
    X, y = make_classification(60, 5, random_state=0)
    params = dict(solver="sgd", momentum=0.9, learning_rate_init=1e6, max_iter=300)
    params.update(hidden_layer_sizes=(10,), n_iter_no_change=300, random_state=0)
    with pytest.raises(ValueError, match="non-finite") as on_numpy:
        MLPAutogradClassifier(**params).fit(X * 1e3, y)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="learning_rate_init") as on_torch:
            MLPAutogradClassifier(**params).fit(
                torch.asarray(X * 1e3), torch.asarray(y)
            )
    assert (
        str(on_torch.value).split(" Training")[0]
        == str(on_numpy.value).split(" Training")[0]
    )


@pytest.mark.parametrize("Tabular", [TabularMLPClassifier, TabularMLPRegressor])
def test_the_tabular_estimators_refuse_array_api_inputs(Tabular):
    X, y = make_classification(40, 4, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="does not support Array API inputs"):
            Tabular(max_iter=2).fit(torch.asarray(X), torch.asarray(y))
    fitted = Tabular(max_iter=2, random_state=0).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="does not support Array API inputs"):
            fitted.predict(torch.asarray(X))
