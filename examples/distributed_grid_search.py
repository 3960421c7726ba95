"""A grid search of skvgrad on a dask.distributed cluster
======================================================

A ``StandardScaler`` and an ``MLPAutogradClassifier`` in a ``Pipeline``, tuned
by ``GridSearchCV`` on the handwritten digits, with the fits sent to a
dask.distributed cluster through joblib: inside
``joblib.parallel_config(backend="dask")``, every ``n_jobs=-1`` of
scikit-learn runs on the cluster's workers.

It needs the ``plot`` and ``distributed`` extras
(``pip install -e ".[plot,distributed]"``). Run it with
``python examples/distributed_grid_search.py [--scheduler ADDRESS]
[--output DIR] [--quick]``: by default it starts a local cluster and shuts it
down at the end; with ``--scheduler tcp://HOST:8786`` it uses a running
cluster instead (every worker needs skvgrad installed). The heat map of the
scores and the table of results (a CSV file) go to DIR (default:
``skvgrad_examples`` in the system's temporary folder), and the script prints
their paths.
"""

# %%
# Options and data
# ----------------
import argparse
import csv
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier

parser = argparse.ArgumentParser(description="A grid search on a dask cluster")
parser.add_argument(
    "--scheduler",
    metavar="ADDRESS",
    help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
    "(default: start a local cluster of 2 workers)",
)
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure and the CSV of results (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="a smaller grid, seconds")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)

# %%
# The search
# ----------
# The same for any backend: a fixed budget of epochs per candidate (so the
# ConvergenceWarning is expected), 3-fold cross-validation, ``n_jobs=-1``.
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "mlp",
            MLPAutogradClassifier(max_iter=20 if args.quick else 60, random_state=0),
        ),
    ]
)
sizes = [(16,), (64,)] if args.quick else [(16,), (32,), (64,), (128,)]
rates = [1e-3, 1e-2] if args.quick else [3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
search = GridSearchCV(
    pipe,
    {"mlp__hidden_layer_sizes": sizes, "mlp__learning_rate_init": rates},
    cv=3,
    n_jobs=-1,
)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# On the cluster
# --------------
# The local cluster here runs its two workers as threads of this process
# (``processes=False``), so the script needs no ``if __name__ == "__main__":``
# guard; worker processes (``processes=True``, or a remote cluster) import the
# script that starts them again, and such a script needs one.
if args.scheduler:
    cluster = None
    client = Client(args.scheduler)
else:
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = Client(cluster)
try:
    n_workers = len(client.scheduler_info()["workers"])
    print(f"dask cluster with {n_workers} workers")
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
print(f"test accuracy of the refitted pipeline = {search.score(X_test, y_test):.3f}")

# %%
# The scores, and the table of results
# ------------------------------------
scores = search.cv_results_["mean_test_score"].reshape(len(sizes), len(rates))
fig, ax = plt.subplots(
    figsize=(1.2 * len(rates) + 2.5, 0.8 * len(sizes) + 1.5), layout="constrained"
)
image = ax.imshow(scores, cmap="viridis", aspect="auto")
for (i, j), score in np.ndenumerate(scores):
    color = "black" if image.norm(score) > 0.5 else "white"
    ax.text(j, i, f"{score:.3f}", ha="center", va="center", color=color)
ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
ax.set_yticks(range(len(sizes)), [str(s) for s in sizes])
ax.set(xlabel="learning_rate_init", ylabel="hidden_layer_sizes")
ax.set_title(f"Mean 3-fold CV accuracy, {n_workers} dask workers")
fig.colorbar(image, ax=ax, label="accuracy")

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "distributed_grid_search.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
path = args.output / "distributed_grid_search.csv"
with path.open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(search.cv_results_)
    writer.writerows(zip(*search.cv_results_.values()))
print(f"Results saved to {path.resolve()}")
