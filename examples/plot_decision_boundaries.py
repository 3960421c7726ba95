"""Decision boundaries on three toy data sets, for two activations
===============================================================

``MLPAutogradClassifier`` learns two moons, two circles and a linearly
separable set (the data sets of scikit-learn's classifier comparison), once
with ``activation="relu"`` and once with ``activation="tanh"``, and
scikit-learn's ``DecisionBoundaryDisplay`` draws the predicted probability of
each.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/plot_decision_boundaries.py [--output DIR] [--quick]``:
``--quick`` uses less data and runs in seconds; the figure goes to DIR
(default: ``skvgrad_examples`` in the system's temporary folder), and the
script prints its path.
"""

# %%
# Options and data
# ----------------
# The three data sets, standardised inside a pipeline below; 40% of each is
# held out to score the fits.
import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier

parser = argparse.ArgumentParser(description="Decision boundaries, two activations")
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="less data, seconds")
args = parser.parse_args()

n_samples = 100 if args.quick else 300
X, y = make_classification(
    n_samples=n_samples,
    n_features=2,
    n_redundant=0,
    n_informative=2,
    n_clusters_per_class=1,
    random_state=1,
)
X += 2 * np.random.RandomState(2).uniform(size=X.shape)
datasets = {
    "moons": make_moons(n_samples, noise=0.3, random_state=0),
    "circles": make_circles(n_samples, noise=0.2, factor=0.5, random_state=1),
    "linearly separable": (X, y),
}

# %%
# Fit and draw
# ------------
# Two hidden layers of 25 units, L-BFGS and a strong L2 penalty (``alpha=1``)
# for smooth boundaries. Each panel shows the predicted probability of the
# blue class, the training points (opaque) and the held-out points (faded),
# with the held-out accuracy in its corner.
activations = ["relu", "tanh"]
fig, axes = plt.subplots(
    len(activations), len(datasets), figsize=(12, 7.5), layout="constrained"
)
for col, (name, (X, y)) in enumerate(datasets.items()):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.4, random_state=42
    )
    for row, activation in enumerate(activations):
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
        ax.scatter(*X_test.T, c=y_test, cmap="bwr_r", edgecolors="k", s=20, alpha=0.5)
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

# %%
# The last pipeline fitted, as a notebook displays it:
clf
