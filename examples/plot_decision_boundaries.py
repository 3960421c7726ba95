"""Decision boundaries on three toy data sets, for two activations
===============================================================

Trains ``MLPAutogradClassifier`` on two moons, two circles and a linearly
separable set (the data sets of scikit-learn's classifier comparison), once
with ``activation="relu"`` and once with ``activation="tanh"``, and draws the
predicted probability of each with scikit-learn's ``DecisionBoundaryDisplay``:
one panel per data set and activation, the held-out accuracy in the corner.

Run it with ``python examples/plot_decision_boundaries.py [--output DIR] [--quick]``.
The figure goes to DIR (default: ``skvgrad_examples`` in the system's
temporary folder), and the script prints its path.
"""

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_circles, make_classification, make_moons  # noqa: E402
from sklearn.inspection import DecisionBoundaryDisplay  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skvgrad import MLPAutogradClassifier  # noqa: E402

ACTIVATIONS = ["relu", "tanh"]


def make_datasets(n_samples):
    """Moons, circles and a linearly separable set, as (name, X, y)."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=2,
        n_redundant=0,
        n_informative=2,
        n_clusters_per_class=1,
        random_state=1,
    )
    X += 2 * np.random.RandomState(2).uniform(size=X.shape)
    return [
        ("moons", *make_moons(n_samples, noise=0.3, random_state=0)),
        ("circles", *make_circles(n_samples, noise=0.2, factor=0.5, random_state=1)),
        ("linearly separable", X, y),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Decision boundaries on three toy data sets, for two activations"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skvgrad_examples",
        metavar="DIR",
        help="folder for the figure (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="less data, seconds")
    args = parser.parse_args(argv)

    datasets = make_datasets(100 if args.quick else 300)
    fig, axes = plt.subplots(
        len(ACTIVATIONS), len(datasets), figsize=(12, 7.5), layout="constrained"
    )
    for col, (name, X, y) in enumerate(datasets):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.4, random_state=42
        )
        for row, activation in enumerate(ACTIVATIONS):
            clf = make_pipeline(
                StandardScaler(),
                MLPAutogradClassifier(
                    hidden_layer_sizes=(25, 25),
                    activation=activation,
                    solver="lbfgs",
                    alpha=1.0,
                    max_iter=1000,
                    random_state=0,
                ),
            ).fit(X_train, y_train)
            score = clf.score(X_test, y_test)
            print(f"{name:>18}, {activation}: accuracy = {score:.3f}")

            ax = axes[row, col]
            DecisionBoundaryDisplay.from_estimator(
                clf, X, response_method="predict_proba", cmap="RdBu", alpha=0.8, ax=ax
            )
            ax.scatter(*X_train.T, c=y_train, cmap="bwr_r", edgecolors="k", s=20)
            ax.scatter(
                *X_test.T, c=y_test, cmap="bwr_r", edgecolors="k", s=20, alpha=0.5
            )
            ax.text(
                0.97,
                0.03,
                f"{score:.2f}",
                transform=ax.transAxes,
                ha="right",
                size=14,
                weight="bold",
            )
            ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
            ax.set_title(f"{name}, {activation}")

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "plot_decision_boundaries.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path.resolve()}")


if __name__ == "__main__":
    main()
