"""A grid search over a Pipeline, and a heat map of its scores
===========================================================

``MLPAutogradClassifier`` is a scikit-learn estimator, so it goes into a
``Pipeline`` after a ``StandardScaler``, and ``GridSearchCV`` tunes it like any
other: here over the hidden-layer size and the initial learning rate, on the
handwritten digits, with 3-fold cross-validation on every core
(``n_jobs=-1``).

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/grid_search_pipeline.py [--output DIR] [--quick]``:
``--quick`` searches a smaller grid with fewer epochs; the figure goes to DIR
(default: ``skvgrad_examples`` in the system's temporary folder), and the
script prints its path.
"""

# %%
# Options and data
# ----------------
# A quarter of the digits is held out to score the refitted pipeline.
import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvgrad import MLPAutogradClassifier

parser = argparse.ArgumentParser(description="A grid search over a Pipeline")
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="a smaller grid, seconds")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)

# %%
# The search
# ----------
# Every candidate gets the same budget of epochs, so the ConvergenceWarning is
# expected; scikit-learn passes the filter that silences it on to the parallel
# workers.
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
search.fit(X_train, y_train)
print(f"best parameters: {search.best_params_}")
print(f"best cross-validated accuracy = {search.best_score_:.3f}")
print(f"test accuracy of the refitted pipeline = {search.score(X_test, y_test):.3f}")

# %%
# The scores as a heat map
# ------------------------
# ``cv_results_`` lists the grid in sorted-key order: the sizes vary slowest.
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
ax.set_title("Mean 3-fold CV accuracy on digits")
fig.colorbar(image, ax=ax, label="accuracy")

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "grid_search_pipeline.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")

# %%
# The best pipeline, refitted on the whole training set:
search.best_estimator_
