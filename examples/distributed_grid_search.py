"""A grid search of skvgrad on a dask.distributed cluster
======================================================

The search of ``grid_search_pipeline.py`` (a ``StandardScaler`` and an
``MLPAutogradClassifier`` in a ``Pipeline``, tuned by ``GridSearchCV`` on the
handwritten digits), with its fits sent to a dask.distributed cluster through
joblib: inside ``joblib.parallel_config(backend="dask")`` every
``n_jobs=-1`` of scikit-learn runs on the cluster's workers.

By default the script starts a ``LocalCluster`` of two worker processes on
127.0.0.1 and shuts it down at the end; with ``--scheduler tcp://HOST:8786`` it
connects to a running cluster instead (every worker needs skvgrad installed).
Worker processes import this script again, hence the ``if __name__ ==
"__main__":`` guard. The heat map of the scores and the table of results (a
CSV file) go to DIR (default: ``skvgrad_examples`` in the system's temporary
folder), and the script prints their paths.

Run it with
``python examples/distributed_grid_search.py [--scheduler ADDRESS] [--output DIR]
[--quick]``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import joblib
import pandas as pd
from dask.distributed import Client, LocalCluster
from grid_search_pipeline import digits_search, plot_scores, report  # same search


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="A grid search of skvgrad on a dask.distributed cluster"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: start a LocalCluster of 2 workers on 127.0.0.1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skvgrad_examples",
        metavar="DIR",
        help="folder for the figure and the CSV of results (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller grid, seconds")
    args = parser.parse_args(argv)

    search, (X_train, X_test, y_train, y_test) = digits_search(args.quick)

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
    report(search, X_test, y_test)

    fig = plot_scores(search, f"Mean 3-fold CV accuracy, {n_workers} dask workers")

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "distributed_grid_search.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path.resolve()}")
    path = args.output / "distributed_grid_search.csv"
    pd.DataFrame(search.cv_results_).to_csv(path, index=False)
    print(f"Results saved to {path.resolve()}")


if __name__ == "__main__":
    main()
