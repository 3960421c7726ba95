"""Class weights on an imbalanced problem: accuracy against minority recall
========================================================================

Nine samples in ten belong to the majority class and the two classes overlap.
Fitted as is, ``MLPAutogradClassifier`` is accurate overall but misses many
samples of the minority class. ``class_weight`` (which scikit-learn's
MLPClassifier does not have) multiplies each sample's weight in the loss by the
weight of its class: ``"balanced"`` weights the classes inversely to their
frequencies, so both count as much in total; a dict sets the weights by hand,
here a middle way. The figure shows, for each, the predicted probability of the
minority class, the decision boundary (the black line where it is 0.5) and the
held-out samples; the held-out accuracy and the recall of the minority class
(the fraction of its samples that are found) are printed.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/plot_class_weight.py [--output DIR] [--quick]``: ``--quick``
runs fewer iterations, in seconds; the files go to DIR (default:
``skvgrad_examples`` in the system's temporary folder), and the script prints
their paths.
"""

# %%
# Options
# -------
import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split

from skvgrad import MLPAutogradClassifier

CLASS_WEIGHTS = {
    "class_weight=None": None,
    'class_weight="balanced"': "balanced",
    "class_weight={0: 1, 1: 3}": {0: 1, 1: 3},
}


parser = argparse.ArgumentParser(description="Class weights on an imbalanced problem")
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer iterations, seconds")
args = parser.parse_args()

# %%
# An imbalanced problem
# ---------------------
# Nine samples in ten of class 0, two overlapping classes; a quarter is held
# out, with the same proportions.
X, y = make_classification(
    n_samples=1000,
    n_features=2,
    n_redundant=0,
    n_informative=2,
    n_clusters_per_class=1,
    weights=[0.9],
    class_sep=0.5,
    flip_y=0,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
n_minority = int(y_train.sum())
print(f"training set: {len(y_train) - n_minority} : {n_minority} samples")

# %%
# Three weightings
# ----------------
# The same network, L-BFGS and a strong L2 penalty for smooth boundaries. Each
# panel shows the predicted probability of the minority class, the decision
# boundary (the black line, where it is 0.5) and the held-out samples.
fig, axes = plt.subplots(1, len(CLASS_WEIGHTS), figsize=(13, 4.6), layout="constrained")
for ax, (label, class_weight) in zip(axes, CLASS_WEIGHTS.items()):
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(16, 16),
        solver="lbfgs",
        alpha=3.0,  # smooth boundaries: the classes overlap
        max_iter=150 if args.quick else 500,
        class_weight=class_weight,
        random_state=0,
    )
    with warnings.catch_warnings():
        # A fixed budget of iterations: enough for the boundary to settle.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    recall = recall_score(y_test, clf.predict(X_test))
    print(f"{label:>26}: accuracy = {accuracy:.3f}, recall = {recall:.3f}")

    display = DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        cmap="RdBu_r",
        alpha=0.7,
        vmin=0,
        vmax=1,
        ax=ax,
    )
    ax.contour(display.xx0, display.xx1, display.response, levels=[0.5], colors="k")
    ax.scatter(*X_test.T, c=y_test, cmap="bwr", edgecolors="k", s=18)
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    ax.set_title(f"{label}\naccuracy {accuracy:.3f}, minority recall {recall:.3f}")
fig.colorbar(axes[-1].collections[0], ax=axes, label="predicted probability of class 1")

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "plot_class_weight.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
