"""A grid search of skvgrad on a dask.distributed cluster.

The search of ``grid_search_pipeline.py`` (a ``StandardScaler`` and an
``MLPAutogradClassifier`` in a ``Pipeline``, tuned by ``GridSearchCV`` on the
handwritten digits), with its fits sent to a dask.distributed cluster through
joblib: inside ``joblib.parallel_config(backend="dask")`` every
``n_jobs=-1`` of scikit-learn runs on the cluster's workers.

By default the script starts a ``LocalCluster`` of two worker processes on
127.0.0.1 and shuts it down at the end; with ``--scheduler tcp://HOST:8786`` it
connects to a running cluster instead (every worker needs skvgrad installed).
Worker processes import this script again, hence the ``if __name__ ==
"__main__":`` guard. The table of results goes to DIR as a CSV file.

Run it with
``python examples/distributed_grid_search.py [--scheduler ADDRESS] [--output DIR]
[--quick]``.
"""

import argparse
import time
import warnings
from pathlib import Path

import joblib
import pandas as pd
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: start a LocalCluster of 2 workers on 127.0.0.1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent,
        metavar="DIR",
        help="folder for the CSV of results (default: next to this script)",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller grid, seconds")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    mlp = MLPAutogradClassifier(max_iter=20 if args.quick else 60, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    sizes = [(16,), (64,)] if args.quick else [(16,), (32,), (64,), (128,)]
    rates = [1e-3, 1e-2] if args.quick else [3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
    param_grid = {"mlp__hidden_layer_sizes": sizes, "mlp__learning_rate_init": rates}
    # Every candidate gets the same budget of epochs.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info()["workers"])
        print(f"dask cluster at {client.scheduler.address} with {n_workers} workers")
        search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1)
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            search.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    print(f"{n_fits} fits on the cluster in {elapsed:.1f} s")
    print(f"best parameters: {search.best_params_}")
    print(f"best cross-validated accuracy = {search.best_score_:.3f}")
    test_score = search.score(X_test, y_test)
    print(f"test accuracy of the refitted pipeline = {test_score:.3f}")

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "distributed_grid_search.csv"
    pd.DataFrame(search.cv_results_).to_csv(path, index=False)
    print(f"Results saved to {path.resolve()}")


if __name__ == "__main__":
    main()
