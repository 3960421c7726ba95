"""Early stopping on a validation set of your own, watching accuracy or loss
=========================================================================

``MLPAutogradClassifier.fit`` takes ``X_val`` and ``y_val`` (as scikit-learn's
HistGradientBoosting does): with ``early_stopping=True`` they replace the random
split of the training data, and after every epoch the model records
``validation_scores_`` and ``validation_loss_curve_`` next to the training
``loss_curve_``. ``scoring`` chooses what early stopping watches: ``"accuracy"``
(MLPClassifier's choice), ``"loss"`` (the negated validation log-loss), any
scikit-learn scorer name or a callable. The returned weights are those of the
best epoch.

A wide network is trained on 400 handwritten digits, validated on another 857
and tested on the rest, once per ``scoring``. Both runs train identically (the
same data, initial weights and shuffling); ``scoring`` only decides which epoch
is kept and when to stop. The figure shows, for each, the training loss, the
validation loss and the validation score per epoch, with the best epoch marked.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/plot_validation.py [--output DIR] [--quick]``: ``--quick``
trains fewer epochs, in seconds; the files go to DIR (default:
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
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skvgrad import MLPAutogradClassifier

SCORINGS = {"accuracy": "validation accuracy", "loss": "- validation log-loss"}


parser = argparse.ArgumentParser(
    description="Early stopping on a validation set of your own"
)
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer epochs, seconds")
args = parser.parse_args()

# %%
# Three sets
# ----------
# 400 digits to train on, 857 to validate on, and 30% of them to test on.
X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(
    X / 16.0, y, test_size=0.3, random_state=0, stratify=y
)
X_train, X_val, y_train, y_val = train_test_split(
    X_rest, y_rest, train_size=400, random_state=0, stratify=y_rest
)

# %%
# One fit per scoring
# -------------------
# Both fits train identically; ``scoring`` only decides which epoch is kept
# (marked by the dotted line) and when to stop. Top: the training and
# validation losses; bottom: the validation score early stopping watches.
fig, axes = plt.subplots(
    2, len(SCORINGS), figsize=(11, 7), sharex="col", layout="constrained"
)
for (top, bottom), (scoring, score_label) in zip(axes.T, SCORINGS.items()):
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(100,),
        alpha=0.0,
        learning_rate_init=0.01,
        early_stopping=True,
        n_iter_no_change=10 if args.quick else 20,
        scoring=scoring,
        max_iter=60 if args.quick else 300,
        random_state=0,
    )
    with warnings.catch_warnings():
        # --quick may end before early stopping does.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    best = int(np.argmax(clf.validation_scores_))  # the epoch kept
    score = clf.score(X_test, y_test)
    print(
        f"scoring={scoring:>8}: best epoch {best + 1:>2} of {clf.n_iter_}, "
        f"validation loss {clf.validation_loss_curve_[best]:.4f}, "
        f"test accuracy = {score:.3f}"
    )

    epochs = np.arange(1, clf.n_iter_ + 1)
    top.plot(epochs, clf.loss_curve_, label="training loss (loss_curve_)")
    top.plot(
        epochs,
        clf.validation_loss_curve_,
        label="validation loss (validation_loss_curve_)",
    )
    top.set_yscale("log")
    top.set(ylabel="log-loss", title=f'scoring="{scoring}"')
    bottom.plot(
        epochs,
        clf.validation_scores_,
        color="C2",
        label=f"{score_label} (validation_scores_)",
    )
    bottom.plot(best + 1, clf.validation_scores_[best], "o", color="C2")
    bottom.set(xlabel="epoch", ylabel=score_label)
    for ax in (top, bottom):
        ax.axvline(
            best + 1,
            color="0.3",
            ls=":",
            label=f"best epoch {best + 1}, kept: test accuracy {score:.3f}",
        )
    top.legend(loc="upper right")
    bottom.legend(loc="lower right")

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "plot_validation.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
