"""A grid search through joblib's dask backend on a local dask.distributed cluster.

The search must run on the cluster's workers and choose what the same search
chooses on joblib's default (loky) backend.
"""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier

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
