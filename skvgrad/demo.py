"""The demo that ``python -m skvgrad [--output PATH] [--quick]`` runs.

Trains :class:`skvgrad.MLPAutogradClassifier` and scikit-learn's
``MLPClassifier`` with the same parameters on two data sets that ship with
scikit-learn (two moons and the handwritten digits), prints their accuracy on a
held-out split and their fit time side by side, and, when matplotlib is
installed, writes one figure: the decision boundaries on the moons and the loss
curves of both estimators. The figure goes to the system's temporary folder
unless ``--output`` says otherwise, so running the demo inside a checkout leaves
the checkout as it was; the demo prints where the figure went.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skvgrad import MLPAutogradClassifier

ESTIMATORS = {"skvgrad": MLPAutogradClassifier, "MLPClassifier": MLPClassifier}
"""The two estimators compared, by the name shown in the table."""

DEFAULT_FILENAME = "skvgrad_demo.png"
"""The figure's file name in the temporary folder, unless ``--output`` is given."""


def default_output():
    """Where the figure goes unless ``--output`` says otherwise."""
    return os.path.join(tempfile.gettempdir(), DEFAULT_FILENAME)


def _datasets(quick):
    """``(name, X_train, X_test, y_train, y_test, params)`` for each data set."""
    X, y = make_moons(n_samples=300 if quick else 1000, noise=0.25, random_state=0)
    moons = dict(
        hidden_layer_sizes=(25, 25),
        activation="tanh",
        learning_rate_init=0.01,
        max_iter=60 if quick else 500,
        random_state=0,
    )
    X_digits, y_digits = load_digits(return_X_y=True)
    digits = dict(
        hidden_layer_sizes=(64,) if quick else (100,),
        max_iter=20 if quick else 300,
        random_state=0,
    )
    return [
        ("moons", *train_test_split(X, y, random_state=0, stratify=y), moons),
        (
            "digits",
            *train_test_split(
                X_digits / 16.0, y_digits, random_state=0, stratify=y_digits
            ),
            digits,
        ),
    ]


class _Progress:
    """A tqdm bar over the demo's fits, or plain lines when tqdm is missing."""

    def __init__(self, total):
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc="Training", unit="fit")
        self.total, self.done = total, 0

    def start(self, what):
        """Announce the fit about to run."""
        if self.bar is not None:
            self.bar.set_postfix_str(what)
        else:
            print(f"[{self.done + 1}/{self.total}] fitting {what} ...", flush=True)

    def finish(self):
        """Count one fit as done."""
        self.done += 1
        if self.bar is not None:
            self.bar.update()

    def close(self):
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def _run(quick):
    """Fit both estimators on every data set; one result dict per fit."""
    datasets = _datasets(quick)
    progress = _Progress(len(datasets) * len(ESTIMATORS))
    results = []
    # Networks this small train fastest on one BLAS thread per process, and
    # multi-threaded BLAS slows down badly on a busy machine: time both on one.
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        # The quick mode stops before convergence on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            for name, X_train, X_test, y_train, y_test, params in datasets:
                for label, cls in ESTIMATORS.items():
                    progress.start(f"{label} on {name}")
                    estimator = cls(**params)
                    start = time.perf_counter()
                    estimator.fit(X_train, y_train)
                    fit_time = time.perf_counter() - start
                    results.append(
                        dict(
                            dataset=name,
                            estimator=label,
                            accuracy=estimator.score(X_test, y_test),
                            fit_time=fit_time,
                            epochs=estimator.n_iter_,
                            model=estimator,
                            data=(X_train, X_test, y_train, y_test),
                        )
                    )
                    progress.finish()
        finally:
            progress.close()
    return results


def _format_table(results):
    """The results as an aligned plain-text table."""
    header = ("dataset", "estimator", "accuracy", "fit time", "epochs")
    rows = [
        (
            r["dataset"],
            r["estimator"],
            f"{r['accuracy']:.3f}",
            f"{r['fit_time']:.2f} s",
            str(r["epochs"]),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plot(results, path):
    """Decision boundaries on the moons and every loss curve, in one PNG."""
    from matplotlib.figure import Figure
    from sklearn.inspection import DecisionBoundaryDisplay

    fig = Figure(figsize=(15, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    moons = [r for r in results if r["dataset"] == "moons"]
    for ax, r in zip(axes, moons):
        X_train, X_test, y_train, y_test = r["data"]
        DecisionBoundaryDisplay.from_estimator(
            r["model"],
            np.vstack([X_train, X_test]),
            response_method="predict_proba",
            grid_resolution=200,
            cmap="RdBu",
            alpha=0.8,
            ax=ax,
            xlabel="x1",
            ylabel="x2",
        )
        ax.scatter(*X_train.T, c=y_train, cmap="bwr_r", edgecolors="k", s=18)
        ax.scatter(*X_test.T, c=y_test, cmap="bwr_r", edgecolors="k", s=18, alpha=0.5)
        ax.set_title(f"{r['estimator']} on moons: accuracy {r['accuracy']:.3f}")
    ax = axes[2]
    colors = {"moons": "tab:blue", "digits": "tab:orange"}
    styles: dict[str, dict[str, Any]] = {
        "skvgrad": dict(lw=3, alpha=0.6),
        "MLPClassifier": dict(ls="--", lw=1.5),
    }
    for r in results:
        ax.plot(
            r["model"].loss_curve_,
            color=colors[r["dataset"]],
            label=f"{r['estimator']}, {r['dataset']}",
            **styles[r["estimator"]],
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("Loss curves")
    ax.legend()
    fig.savefig(path, dpi=100)
    return path


def main(argv=None):
    """Run the demo: train, print the comparison table, write the figure.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments (``--output PATH``, ``--quick``); ``None`` reads
        ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, the process exit code.

    Examples
    --------
    >>> import os, tempfile
    >>> from skvgrad.demo import main
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     status = main(["--quick", "--output", os.path.join(tmp, "demo.png")])
    skvgrad demo: ...
    dataset  estimator      accuracy  fit time  epochs
    ...
    >>> status
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m skvgrad",
        description=(
            "Train skvgrad's MLPAutogradClassifier and scikit-learn's "
            "MLPClassifier with the same parameters on two moons and digits, "
            "print accuracy and fit time side by side, and plot the decision "
            "boundaries and loss curves."
        ),
    )
    parser.add_argument(
        "--output",
        default=default_output(),
        metavar="PATH",
        help="where to write the PNG figure (default: %(default)s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller data and fewer epochs: runs in seconds",
    )
    args = parser.parse_args(argv)

    print(
        "skvgrad demo: MLPAutogradClassifier vs scikit-learn's MLPClassifier, "
        "same parameters, accuracy on a held-out quarter of the data"
        + (" (quick mode)" if args.quick else ""),
        flush=True,
    )
    results = _run(args.quick)
    print()
    print(_format_table(results))
    print()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            "matplotlib is not installed, so no figure was written. To get it: "
            'pip install matplotlib (or skvgrad\'s "plot" extra: '
            'pip install "skvgrad[plot]" from a package index, '
            'pip install -e ".[plot]" in a checkout of skvgrad)'
        )
        return 0
    path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _plot(results, path)
    print(f"Figure saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
