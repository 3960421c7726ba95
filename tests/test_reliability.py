"""Reliability: divergence, numerics, threads, determinism and safe persistence.

The bad-input table is in ``test_bad_input.py``; the engine's property tests are
elsewhere.
"""

import concurrent.futures
import copy
import gc
import io
import pickle
import pickletools
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skvgrad import MLPAutogradClassifier, optim
from skvgrad.engine import Tensor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLASS_PATH = "skvgrad.classifier.MLPAutogradClassifier"
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
SOLVERS = ["sgd", "adam", "lbfgs"]


def _data(n_samples=200, n_features=8, n_classes=3, random_state=0):
    return make_classification(
        n_samples,
        n_features,
        n_informative=5,
        n_classes=n_classes,
        random_state=random_state,
    )


def _fitted_state(est):
    """A deep copy of every attribute that is not a hyperparameter."""
    params = est.get_params()
    return copy.deepcopy({k: v for k, v in vars(est).items() if k not in params})


def _assert_bitwise_equal(a, b, path="state"):
    """Recursive, bitwise equality of lists / dicts / arrays / numbers."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path, strict=True)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, z) in enumerate(zip(a, b)):
            _assert_bitwise_equal(x, z, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_bitwise_equal(a[k], b[k], f"{path}[{k!r}]")
    elif hasattr(a, "__dict__") and not callable(a):
        _assert_bitwise_equal(vars(a), vars(b), path)
    elif isinstance(a, float) and a != a:
        assert b != b, path
    else:
        assert a == b, path


def _run_python(code, cwd, args=()):
    """Run ``code`` in a fresh interpreter; fail with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# Divergence ------------------------------------------------------------------------

# Configurations whose loss or weights overflow: plain SGD with momentum, a huge
# step on unscaled inputs times 1e3. n_iter_no_change=max_iter keeps the stopping
# rule from ending training before the weights overflow (with the default of 10,
# training stops after 12 epochs on a finite, useless, model, as MLPClassifier's).
DIVERGING = {
    "relu-lr1e6": {"activation": "relu", "learning_rate_init": 1e6},
    "identity-lr1e10": {"activation": "identity", "learning_rate_init": 1e10},
    "tanh-lr1e10": {"activation": "tanh", "learning_rate_init": 1e10},
    "logistic-lr1e10": {"activation": "logistic", "learning_rate_init": 1e10},
}


def _diverging(**params):
    defaults = {
        "solver": "sgd",
        "momentum": 0.9,
        "hidden_layer_sizes": (10,),
        "max_iter": 300,
        "n_iter_no_change": 300,
        "random_state": 0,
    }
    return MLPAutogradClassifier(**{**defaults, **params})


def _assert_divergence_error(exc_info):
    message = str(exc_info.value)
    assert "non-finite" in message or "diverged" in message, message
    assert "scal" in message.lower(), message  # "Scale the inputs"
    assert "learning_rate_init" in message, message


@pytest.mark.parametrize("config", DIVERGING.values(), ids=DIVERGING.keys())
def test_divergence_raises_a_clear_error_without_runtime_warnings(config):
    X, y = _data()
    est = _diverging(**config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as exc_info:
            est.fit(X * 1e3, y)
    _assert_divergence_error(exc_info)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, [str(w.message) for w in runtime]
    with pytest.raises(NotFittedError):  # no model, let alone one with NaN weights
        check_is_fitted(est)


@pytest.mark.parametrize("warm_start", [False, True])
def test_divergence_keeps_the_previous_model(warm_start):
    X, y = _data()
    est = _diverging(learning_rate_init=0.01, max_iter=20, warm_start=warm_start)
    est.fit(X, y)
    X_ref = X[:50]
    proba = est.predict_proba(X_ref)
    state = _fitted_state(est)
    est.set_params(learning_rate_init=1e10, activation="identity")
    with pytest.raises(ValueError) as exc_info:
        est.fit(X * 1e3, y)
    _assert_divergence_error(exc_info)
    est.set_params(learning_rate_init=0.01, activation="relu")
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    np.testing.assert_array_equal(est.predict_proba(X_ref), proba, strict=True)
    _assert_bitwise_equal(_fitted_state(est), state)


def _partial_fitted(solver):
    """A model after three partial_fit calls, mini-batches of 10, no shuffling."""
    X, y = _data(n_samples=30)
    est = MLPAutogradClassifier(
        solver=solver,
        hidden_layer_sizes=(5,),
        batch_size=10,
        shuffle=False,
        random_state=0,
    )
    for _ in range(3):
        est.partial_fit(X, y, classes=[0, 1, 2])
    return est, X, y


def _assert_continues_like(est, twin, X, y):
    """``est`` and ``twin`` take the same next step, bitwise."""
    est.partial_fit(X, y)
    twin.partial_fit(X, y)
    _assert_bitwise_equal(_fitted_state(est), _fitted_state(twin))


def test_diverging_partial_fit_leaves_model_and_optimizer_state_intact():
    """A partial_fit that diverges after a good mini-batch changes nothing.

    The first mini-batch is clean (the optimizer updates its velocities), the
    second one has inputs of 1e300 (the weights become huge) and the third one
    overflows. Afterwards the model, its optimizer state included, must continue
    exactly as a copy that never saw the failed call.
    """
    est, X, y = _partial_fitted("sgd")
    twin = copy.deepcopy(est)
    state = _fitted_state(est)
    X_bad = X.copy()
    X_bad[10:] *= 1e300
    with pytest.raises(ValueError) as exc_info:
        est.partial_fit(X_bad, y)
    _assert_divergence_error(exc_info)
    _assert_bitwise_equal(_fitted_state(est), state)
    _assert_continues_like(est, twin, X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_failure_inside_partial_fit_leaves_optimizer_state_intact(solver, monkeypatch):
    """Any exception raised mid-epoch (here a MemoryError injected after the
    second optimizer step) leaves the model exactly as it was."""
    est, X, y = _partial_fitted(solver)
    twin = copy.deepcopy(est)
    state = _fitted_state(est)
    optimizer_class = {"sgd": optim.SGD, "adam": optim.Adam}[solver]
    original = optimizer_class.step
    calls = []

    def failing_step(self, params, grads):
        original(self, params, grads)
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("injected")

    monkeypatch.setattr(optimizer_class, "step", failing_step)
    with pytest.raises(MemoryError, match="injected"):
        est.partial_fit(X, y)
    monkeypatch.undo()
    _assert_bitwise_equal(_fitted_state(est), state)
    _assert_continues_like(est, twin, X, y)


# Numerics --------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_scaled_inputs_train_without_runtime_warnings(scale, solver, activation):
    """Inputs scaled by 1e-3 or 1e3 train at default learning rates.

    Every case trains (none raises the divergence error): at the default
    learning rates (0.001) even SGD with momentum on inputs times 1e3 stays
    finite, though with the identity activation its loss is large.
    """
    X, y = _data()
    X = X * scale
    est = MLPAutogradClassifier(
        hidden_layer_sizes=(10,),
        activation=activation,
        solver=solver,
        max_iter=30,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.fit(X, y)
        proba = est.predict_proba(X)
        log_proba = est.predict_log_proba(X)
        est.score(X, y)
    assert len(est.loss_curve_) > 0
    assert np.isfinite(est.loss_curve_).all()
    assert np.isfinite(est.loss_)
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert not np.isnan(log_proba).any()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_saturated_predictions_emit_no_runtime_warning(activation, n_classes):
    """Inputs a million times larger than in training saturate every unit."""
    X, y = _data(n_classes=n_classes)
    est = MLPAutogradClassifier(
        hidden_layer_sizes=(10,), activation=activation, max_iter=20, random_state=0
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        proba = est.predict_proba(X * 1e6)
        est.predict_log_proba(X * 1e6)
        est.predict(X * 1e6)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_stays_float32_and_matches_float64_accuracy(digits_split, solver):
    X_train, X_test, y_train, y_test = digits_split
    accuracy = {}
    for dtype in (np.float64, np.float32):
        est = MLPAutogradClassifier(
            hidden_layer_sizes=(32,), solver=solver, max_iter=40, random_state=0
        )
        est.fit(X_train.astype(dtype), y_train)
        assert {c.dtype for c in est.coefs_} == {np.dtype(dtype)}
        assert {b.dtype for b in est.intercepts_} == {np.dtype(dtype)}
        proba = est.predict_proba(X_test.astype(dtype))
        assert proba.dtype == dtype
        assert est.predict_log_proba(X_test.astype(dtype)).dtype == dtype
        assert np.isfinite(est.loss_curve_).all()
        accuracy[dtype] = est.score(X_test.astype(dtype), y_test)
    assert accuracy[np.float64] > 0.9
    assert abs(accuracy[np.float32] - accuracy[np.float64]) <= 0.01, accuracy


# Threads -----------------------------------------------------------------------------


def test_predict_proba_from_8_threads_matches_single_thread():
    X, y = _data(n_samples=2000, n_features=20)
    est = MLPAutogradClassifier(
        hidden_layer_sizes=(64, 32), max_iter=5, random_state=0
    ).fit(X, y)
    expected = est.predict_proba(X)
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        return [est.predict_proba(X) for _ in range(10)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = [f.result() for f in [pool.submit(work) for _ in range(8)]]
    for per_thread in results:
        for proba in per_thread:
            np.testing.assert_array_equal(proba, expected, strict=True)


@pytest.mark.parametrize("solver", SOLVERS)
def test_clones_fitted_in_4_threads_equal_sequential_fits(solver):
    X, y = _data(n_samples=300)
    base = MLPAutogradClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=15)
    seeds = range(4)
    sequential = [clone(base).set_params(random_state=s).fit(X, y) for s in seeds]
    barrier = threading.Barrier(4)

    def fit(seed):
        est = clone(base).set_params(random_state=seed)
        barrier.wait()
        return est.fit(X, y)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        concurrent_fits = list(pool.map(fit, seeds))
    for a, b in zip(sequential, concurrent_fits):
        _assert_bitwise_equal(a.coefs_, b.coefs_, "coefs_")
        _assert_bitwise_equal(a.intercepts_, b.intercepts_, "intercepts_")
        _assert_bitwise_equal(a.loss_curve_, b.loss_curve_, "loss_curve_")


# Determinism -------------------------------------------------------------------------

DETERMINISM_CONFIGS = {
    "adam": {"solver": "adam"},
    "sgd": {"solver": "sgd"},
    "lbfgs": {"solver": "lbfgs"},
    "adam-early_stopping": {"solver": "adam", "early_stopping": True},
}


@pytest.mark.parametrize(
    "config", DETERMINISM_CONFIGS.values(), ids=DETERMINISM_CONFIGS.keys()
)
def test_same_random_state_gives_bitwise_identical_fits(config):
    X, y = _data()
    fits = [
        MLPAutogradClassifier(
            hidden_layer_sizes=(16,), max_iter=20, random_state=42, **config
        ).fit(X, y)
        for _ in range(2)
    ]
    _assert_bitwise_equal(_fitted_state(fits[0]), _fitted_state(fits[1]))


_FIT_AND_SAVE = """
import numpy as np
from sklearn.datasets import make_classification
from skvgrad import MLPAutogradClassifier

X, y = make_classification(200, 8, n_informative=5, n_classes=3, random_state=0)
est = MLPAutogradClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=42)
est.fit(X, y)
np.savez(
    "coefs.npz",
    *est.coefs_,
    *est.intercepts_,
    proba=est.predict_proba(X),
)
"""


def test_same_random_state_is_bitwise_identical_in_a_fresh_interpreter(tmp_path):
    _run_python(_FIT_AND_SAVE, tmp_path)
    X, y = _data()
    est = MLPAutogradClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=42)
    est.fit(X, y)
    with np.load(tmp_path / "coefs.npz") as saved:
        arrays = [saved[f"arr_{i}"] for i in range(4)]
        proba = saved["proba"]
    _assert_bitwise_equal(est.coefs_ + est.intercepts_, arrays)
    np.testing.assert_array_equal(est.predict_proba(X), proba, strict=True)


def test_grid_search_is_identical_with_1_and_2_jobs():
    """Scored by log-loss too, so that any difference in a worker's fit shows."""
    X, y = _data(n_samples=150)
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (12,)]}
    est = MLPAutogradClassifier(max_iter=15, random_state=0)
    scoring = {"accuracy": "accuracy", "log_loss": "neg_log_loss"}
    searches = [
        GridSearchCV(est, grid, cv=3, scoring=scoring, refit="log_loss", n_jobs=n_jobs)
        for n_jobs in (1, 2)
    ]
    one, two = (search.fit(X, y) for search in searches)
    assert one.best_params_ == two.best_params_
    _assert_bitwise_equal(one.best_estimator_.coefs_, two.best_estimator_.coefs_)
    _assert_bitwise_equal(
        one.best_estimator_.intercepts_, two.best_estimator_.intercepts_
    )
    for name in scoring:
        for key in [f"mean_test_{name}", *(f"split{i}_test_{name}" for i in range(3))]:
            np.testing.assert_array_equal(
                one.cv_results_[key], two.cv_results_[key], err_msg=key, strict=True
            )


# Memory ------------------------------------------------------------------------------


def _numpy_buffer_bytes():
    """Traced bytes of NumPy array buffers (NumPy's own tracemalloc domain)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _live_tensors():
    # type(), not isinstance(): no attribute lookup on foreign objects (some
    # modules' lazy attributes warn when touched).
    return sum(type(obj) is Tensor for obj in gc.get_objects())


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_memory_stays_flat(solver):
    """200 epochs on one batch: the traced size does not grow after warm-up.

    The garbage collector is off while measuring, so each step's graph must be
    freed by reference counting alone (no reference cycles). A graph kept alive
    would hold the activations and gradients of the batch (over 100 KB per
    epoch here). What the total does grow by comes from CPython's free lists of
    small tuples, which keep traced blocks (about 45-50 KB over these 180
    epochs, saturating near 220 KB after ~2000 epochs), and from
    ``loss_curve_`` (about 6 KB); NumPy's array buffers do not grow at all.
    """
    X, y = _data(n_samples=100, n_features=10)
    est = MLPAutogradClassifier(hidden_layer_sizes=(32,), solver=solver, random_state=0)
    total, buffers = {}, {}
    gc.collect()
    # Tensors that other tests of the session still hold are not this fit's.
    before = _live_tensors()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        for epoch in range(1, 201):
            est.partial_fit(X, y, classes=[0, 1, 2])
            if epoch in (20, 200):
                total[epoch] = tracemalloc.get_traced_memory()[0]
                buffers[epoch] = _numpy_buffer_bytes()
                assert _live_tensors() == before, epoch
    finally:
        tracemalloc.stop()
        if gc_was_enabled:
            gc.enable()
    assert total[200] - total[20] < 64 * 1024, total
    assert buffers[200] - buffers[20] < 4 * 1024, buffers


# Persistence safety ------------------------------------------------------------------


def _pickle_globals(obj):
    """Every (module, name) that unpickling ``pickle.dumps(obj)`` imports.

    Read from the opcodes: GLOBAL carries "module name"; STACK_GLOBAL takes the
    two strings pushed before it, either literally or from the memo.
    """
    found, memo, pushed = set(), {}, []
    last_pushed_string = False
    for opcode, arg, _ in pickletools.genops(pickle.dumps(obj)):
        name = opcode.name
        if name == "GLOBAL":
            found.add(tuple(arg.split(" ", 1)))
        elif name == "STACK_GLOBAL":
            found.add((pushed[-2], pushed[-1]))
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            pushed.append(arg)
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            pushed.append(memo.get(int(arg)))
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed and last_pushed_string else None
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = pushed[-1] if pushed and last_pushed_string else None
        last_pushed_string = name in (
            "SHORT_BINUNICODE",
            "BINUNICODE",
            "BINUNICODE8",
            "UNICODE",
            "BINGET",
            "LONG_BINGET",
            "GET",
        )
    return found


class _RecordingUnpickler(pickle.Unpickler):
    """An unpickler that records every class or function it is asked for."""

    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.found = set()

    def find_class(self, module, name):
        self.found.add((module, name))
        return super().find_class(module, name)


def _fitted_models():
    X, y = _data()
    Xb, yb = _data(n_classes=2)
    small = {"hidden_layer_sizes": (8,), "max_iter": 10, "random_state": 0}
    partial = MLPAutogradClassifier(solver="sgd", **small)
    for _ in range(3):
        partial.partial_fit(X, y, classes=[0, 1, 2])
    return {
        "adam": MLPAutogradClassifier(**small).fit(X, y),
        "sgd-partial_fit": partial,
        "lbfgs-binary": MLPAutogradClassifier(solver="lbfgs", **small).fit(Xb, yb),
        "early_stopping": MLPAutogradClassifier(early_stopping=True, **small).fit(X, y),
        "multilabel": MLPAutogradClassifier(**small).fit(
            X, np.column_stack([y == 0, y == 1]).astype(int)
        ),
    }


FITTED_MODEL_NAMES = ["adam", "sgd-partial_fit", "lbfgs-binary", "early_stopping"]


@pytest.fixture(scope="module")
def fitted_models():
    return _fitted_models()


@pytest.mark.parametrize("name", [*FITTED_MODEL_NAMES, "multilabel"])
def test_pickle_holds_no_engine_object(fitted_models, name):
    model = fitted_models[name]
    needed = _pickle_globals(model)
    recorder = _RecordingUnpickler(pickle.dumps(model))
    recorder.load()
    assert needed == recorder.found  # the opcode reading misses nothing
    skvgrad_globals = {g for g in needed if g[0].split(".")[0] == "skvgrad"}
    assert skvgrad_globals == {("skvgrad.classifier", "MLPAutogradClassifier")}
    others = needed - skvgrad_globals
    assert {module.split(".")[0] for module, _ in others} <= {"numpy", "builtins"}, (
        others
    )


def _untrusted(obj):
    skops_io = pytest.importorskip("skops.io")
    return set(skops_io.get_untrusted_types(data=skops_io.dumps(obj)))


def _containers(estimator):
    """The estimator alone, in a Pipeline and in a GridSearchCV, all fitted."""
    X, y = _data(n_samples=120)
    small = {"hidden_layer_sizes": (6,), "max_iter": 10, "random_state": 0}
    return {
        "alone": clone(estimator).set_params(**small).fit(X, y),
        "pipeline": make_pipeline(
            StandardScaler(), clone(estimator).set_params(**small)
        ).fit(X, y),
        "grid_search": GridSearchCV(
            clone(estimator).set_params(**small), {"alpha": [1e-4, 1e-2]}, cv=2
        ).fit(X, y),
    }


def test_skops_untrusted_types_are_only_the_classifier():
    ours = _containers(MLPAutogradClassifier())
    baseline = _containers(MLPClassifier())
    for where in ours:
        untrusted = _untrusted(ours[where])
        extra = untrusted - _untrusted(baseline[where])
        assert extra == {CLASS_PATH}, (where, untrusted)


_LOAD_AND_PREDICT = """
import sys

import joblib
import numpy as np
from skops.io import get_untrusted_types, load

X = np.load("X.npy")
for name in sys.argv[1:]:
    untrusted = get_untrusted_types(file=f"{name}.skops")
    assert untrusted == [CLASS_PATH], untrusted
    from_skops = load(f"{name}.skops", trusted=untrusted)
    from_joblib = joblib.load(f"{name}.joblib")
    np.savez(
        f"{name}-loaded.npz",
        skops=from_skops.predict_proba(X),
        joblib=from_joblib.predict_proba(X),
        skops_pred=from_skops.predict(X),
        joblib_pred=from_joblib.predict(X),
    )
"""


def test_saved_models_predict_identically_in_a_fresh_process(fitted_models, tmp_path):
    """Saved with joblib and with skops, loaded in a new interpreter (one for all)."""
    skops_io = pytest.importorskip("skops.io")
    X = _data(n_samples=50, random_state=1)[0]
    np.save(tmp_path / "X.npy", X)
    for name in FITTED_MODEL_NAMES:
        joblib.dump(fitted_models[name], tmp_path / f"{name}.joblib")
        skops_io.dump(fitted_models[name], tmp_path / f"{name}.skops")
    code = _LOAD_AND_PREDICT.replace("CLASS_PATH", repr(CLASS_PATH))
    _run_python(code, tmp_path, FITTED_MODEL_NAMES)
    for name in FITTED_MODEL_NAMES:
        model = fitted_models[name]
        expected = model.predict_proba(X)
        with np.load(tmp_path / f"{name}-loaded.npz") as loaded:
            for fmt in ("skops", "joblib"):
                np.testing.assert_array_equal(
                    loaded[fmt], expected, err_msg=f"{name} {fmt}", strict=True
                )
                np.testing.assert_array_equal(
                    loaded[f"{fmt}_pred"], model.predict(X), err_msg=f"{name} {fmt}"
                )
