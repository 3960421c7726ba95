"""Loss curves of skvgrad's training strategies on the digits
==========================================================

The counterpart of scikit-learn's example "Compare Stochastic learning
strategies for MLPClassifier": ``MLPAutogradClassifier`` is trained on the
handwritten digits with SGD under each learning-rate schedule ("constant",
"invscaling", "adaptive"), without momentum, with momentum and with Nesterov's
momentum, and with Adam. The figure shows the training loss per epoch of each;
the held-out accuracy of each is printed. "adaptive" keeps the learning rate
constant for as long as the loss keeps falling, so its dotted curves lie on top
of the "constant" ones until the loss stalls.

Run it with ``python examples/plot_loss_curves.py [--output DIR] [--quick]``.
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from skvgrad import MLPAutogradClassifier  # noqa: E402

MOMENTA = {
    "": dict(momentum=0.0),
    " with momentum": dict(momentum=0.9, nesterovs_momentum=False),
    " with Nesterov's momentum": dict(momentum=0.9, nesterovs_momentum=True),
}
STRATEGIES = {
    f"{schedule}{suffix}": dict(
        solver="sgd", learning_rate=schedule, learning_rate_init=0.2, **momentum
    )
    for schedule in ("constant", "invscaling", "adaptive")
    for suffix, momentum in MOMENTA.items()
}
STRATEGIES["adam"] = dict(solver="adam", learning_rate_init=0.01)
STYLES = {"constant": "-", "invscaling": "--", "adaptive": ":", "adam": "-"}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Loss curves of skvgrad's training strategies on the digits"
    )
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
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    for label, params in STRATEGIES.items():
        clf = MLPAutogradClassifier(
            max_iter=15 if args.quick else 60, random_state=0, **params
        )
        with warnings.catch_warnings():
            # A fixed number of epochs, as in scikit-learn's example.
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        score = clf.score(X_test, y_test)
        print(f"{label:>35}: accuracy = {score:.3f}, final loss = {clf.loss_:.4f}")
        schedule = label.split()[0]
        ax.plot(
            clf.loss_curve_,
            label=label,
            ls=STYLES[schedule],
            lw=2.5 if schedule in ("adam", "adaptive") else 1.5,
            color="black" if label == "adam" else None,
        )
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training loss", title="Training on digits")
    ax.legend(ncols=2, fontsize="small")

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "plot_loss_curves.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path.resolve()}")


if __name__ == "__main__":
    main()
