"""A grid search over a Pipeline, and a heat map of its scores
===========================================================

``MLPAutogradClassifier`` is a scikit-learn estimator, so it goes into a
``Pipeline`` after a ``StandardScaler`` and ``GridSearchCV`` tunes it like any
other: here over the hidden-layer size and the initial learning rate, on the
handwritten digits, with 3-fold cross-validation run in parallel on every core
(``n_jobs=-1``). The figure is a heat map of the mean cross-validated accuracy;
the best parameters and the accuracy of the refitted model on a held-out test
set are printed.

Run it with ``python examples/grid_search_pipeline.py [--output DIR] [--quick]``.
The figure goes to DIR (default: ``skvgrad_examples`` in the system's
temporary folder), and the script prints its path.
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skvgrad import MLPAutogradClassifier  # noqa: E402


def digits_search(quick):
    """The search of this example, unfitted, and its train/test split of digits.

    ``distributed_grid_search.py`` runs the same search on a dask cluster.
    """
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, random_state=0, stratify=y)
    mlp = MLPAutogradClassifier(max_iter=20 if quick else 60, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    param_grid = {
        "mlp__hidden_layer_sizes": [(16,), (64,)]
        if quick
        else [(16,), (32,), (64,), (128,)],
        "mlp__learning_rate_init": [1e-3, 1e-2]
        if quick
        else [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    }
    # Every candidate gets the same budget of epochs; scikit-learn passes this
    # filter on to the parallel workers.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    return GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1), split


def report(search, X_test, y_test):
    """Print the best parameters and the accuracies of a fitted search."""
    print(f"best parameters: {search.best_params_}")
    print(f"best cross-validated accuracy = {search.best_score_:.3f}")
    test_score = search.score(X_test, y_test)
    print(f"test accuracy of the refitted pipeline = {test_score:.3f}")


def plot_scores(search, title):
    """A heat map of the mean cross-validated accuracy of each grid point."""
    sizes = search.param_grid["mlp__hidden_layer_sizes"]
    rates = search.param_grid["mlp__learning_rate_init"]

    # cv_results_ lists the grid in sorted-key order: sizes vary slowest.
    scores = search.cv_results_["mean_test_score"].reshape(len(sizes), len(rates))
    fig, ax = plt.subplots(
        figsize=(1.2 * len(rates) + 2.5, 0.8 * len(sizes) + 1.5), layout="constrained"
    )
    image = ax.imshow(scores, cmap="viridis", aspect="auto")
    for (i, j), score in np.ndenumerate(scores):
        ax.text(
            j,
            i,
            f"{score:.3f}",
            ha="center",
            va="center",
            color="black" if image.norm(score) > 0.5 else "white",
        )
    ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
    ax.set_yticks(range(len(sizes)), [str(s) for s in sizes])
    ax.set(xlabel="learning_rate_init", ylabel="hidden_layer_sizes", title=title)
    fig.colorbar(image, ax=ax, label="accuracy")
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="A grid search over a Pipeline, and a heat map of its scores"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skvgrad_examples",
        metavar="DIR",
        help="folder for the figure (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller grid, seconds")
    args = parser.parse_args(argv)

    search, (X_train, X_test, y_train, y_test) = digits_search(args.quick)
    search.fit(X_train, y_train)
    report(search, X_test, y_test)
    fig = plot_scores(search, "Mean 3-fold CV accuracy on digits")

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "grid_search_pipeline.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path.resolve()}")


if __name__ == "__main__":
    main()
