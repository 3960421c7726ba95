"""skvgrad beyond one machine's memory and cores, with dask.

A grid search through joblib's dask backend on a local dask.distributed
cluster must run on the cluster's workers and choose what the same search
chooses on joblib's default (loky) backend. Training on dask arrays block by
block through ``partial_fit`` (``examples/out_of_core_dask.py``) must give
the model that ``partial_fit`` gives on the same blocks in memory.
"""

import importlib.util
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """A client of a 2-worker LocalCluster on 127.0.0.1, shut down afterwards."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
    assert client.status == "closed"
    assert cluster.status.name == "closed"


def make_search():
    """A small grid search of a scaled MLPAutogradClassifier."""
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", MLPAutogradClassifier(max_iter=15, random_state=0)),
        ]
    )
    grid = {
        "mlp__hidden_layer_sizes": [(8,), (32,)],
        "mlp__learning_rate_init": [1e-3, 1e-2],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=2)


def test_dask_grid_search_matches_loky(client):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend="loky"):
            on_loky = make_search().fit(X, y)
        with (
            distributed.get_task_stream(client) as tasks,
            joblib.parallel_config(backend="dask"),
        ):
            on_dask = make_search().fit(X, y)

    assert len(tasks.data) > 0, "nothing ran on the dask cluster"
    workers = {task["worker"] for task in tasks.data}
    assert workers <= set(client.scheduler_info()["workers"])
    assert on_dask.best_params_ == on_loky.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_allclose(
            on_dask.cv_results_[key], on_loky.cv_results_[key], rtol=0, atol=1e-12
        )
    assert on_dask.best_params_["mlp__learning_rate_init"] == 1e-2
    assert on_dask.best_score_ > 0.85
    np.testing.assert_array_equal(on_dask.predict(X), on_loky.predict(X))


# Data bigger than memory: dask arrays streamed through partial_fit ------------------


def _example(name):
    """An example script, imported as a module."""
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_out_of_core_training_equals_partial_fit_on_the_same_blocks(kind):
    example = _example("out_of_core_dask")
    X, y_class, y_value = example.make_data(3000, 400, seed=0)
    y = y_class if kind == "classifier" else y_value
    Estimator = MLPAutogradClassifier if kind == "classifier" else MLPAutogradRegressor
    classes = [0, 1] if kind == "classifier" else None
    kwargs = {} if classes is None else {"classes": classes}
    params = dict(hidden_layer_sizes=(8,), random_state=0)

    streamed = Estimator(**params)
    losses = example.fit_out_of_core(streamed, X, y, epochs=2, classes=classes)

    in_memory = Estimator(**params)
    X_blocks = [block.compute() for block in X.blocks]
    y_blocks = [block.compute() for block in y.blocks]
    assert len(X_blocks) == 8 and sum(len(b) for b in X_blocks) == 3000
    expected = []
    for _ in range(2):
        for X_block, y_block in zip(X_blocks, y_blocks):
            in_memory.partial_fit(X_block, y_block, **kwargs)
            expected.append(in_memory.loss_)
    assert losses == expected
    for p, q in zip(
        streamed.coefs_ + streamed.intercepts_,
        in_memory.coefs_ + in_memory.intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(p, q)

    X_all, y_all = X.compute(), y.compute()
    assert example.score_out_of_core(streamed, X, y) == pytest.approx(
        in_memory.score(X_all, y_all), rel=1e-12
    )
