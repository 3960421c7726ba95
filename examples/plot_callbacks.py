"""scikit-learn's callbacks: score every epoch, stop on a condition, show progress
===============================================================================

scikit-learn 1.9's ``sklearn.callback`` API lets code watch and steer a fit.
Both skvgrad estimators make each epoch (each L-BFGS iteration) a subtask of
their fit, so:

* ``ScoringMonitor`` set on the estimator logs a score after every epoch;
* a callback of your own can stop training, here once the training loss falls
  below a threshold (``on_fit_task_end`` returns True);
* ``ProgressBar`` (it needs ``rich``: ``pip install "skvgrad[callbacks]"``) set
  on a ``GridSearchCV`` shows the fits of every candidate with their epochs,
  also when the search runs in parallel.

Run it with ``python examples/plot_callbacks.py [--output DIR] [--quick]``; the
figure goes to DIR (default: ``skvgrad_examples`` in the system's temporary
folder), and the script prints its path. The figure's title and the printed
lines say what ended the fit: the callback, or ``max_iter`` if the loss never
fell below the threshold. Written to a log or to this page, the progress bars
are drawn 120 columns wide, so that their rows fit.
"""

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.callback import ProgressBar, ScoringMonitor  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skvgrad import MLPAutogradClassifier  # noqa: E402


class StopBelowLoss:
    """Stop training once an epoch ends with a training loss below ``threshold``."""

    def __init__(self, threshold):
        self.threshold = threshold
        self.stopped_after = None  # the epoch at which it stopped a fit, if it did

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch" and estimator.loss_ < self.threshold:
            self.stopped_after = estimator.n_iter_
            return True
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description="scikit-learn's callbacks")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skvgrad_examples",
        metavar="DIR",
        help="folder for the figure (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer epochs, seconds")
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    max_iter = 20 if args.quick else 100
    if not sys.stdout.isatty():
        # rich lays a log (or the gallery's page) out 80 columns wide, too narrow
        # for the rows of a search's progress bars: they would read "1…".
        import rich

        rich.reconfigure(width=120)

    # 1. A score after every epoch, and a stop on a condition.
    monitor = ScoringMonitor(scoring="accuracy")
    stop = StopBelowLoss(threshold=0.1)
    clf = MLPAutogradClassifier(
        (32,), learning_rate_init=0.01, max_iter=max_iter, random_state=0
    )
    clf.set_callbacks(monitor, stop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    epochs = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    accuracy = [row["accuracy"] for row in epochs]
    if stop.stopped_after is None:
        ended = f"max_iter={max_iter} ended the fit before StopBelowLoss(0.1) did"
    else:
        ended = f"StopBelowLoss(0.1) stopped the fit after {stop.stopped_after} epochs"
    print(f"{ended}; training loss {clf.loss_:.3f}")
    print(f"training accuracy after epoch 1: {accuracy[0]:.3f}")
    print(f"final training accuracy {accuracy[-1]:.3f}")

    # 2. Progress bars of a parallel search, epochs included.
    search = GridSearchCV(
        MLPAutogradClassifier(max_iter=max_iter // 2, random_state=0),
        {"hidden_layer_sizes": [(16,), (64,)]},
        cv=3,
        n_jobs=2,
    ).set_callbacks(ProgressBar())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    print(f"best {search.best_params_}")
    print(f"cross-validated accuracy {search.best_score_:.3f}")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(accuracy) + 1), accuracy, marker="o", ms=3)
    ax.set(
        xlabel="epoch",
        ylabel="training accuracy",
        title=f"ScoringMonitor's log: {ended}",
    )
    fig.tight_layout()
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "plot_callbacks.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path}")
    return clf.n_iter_, accuracy, ended


if __name__ == "__main__":
    main()
