"""A hidden-layer activation of your own, differentiated by the engine
===================================================================

SiLU (also called swish), ``z * sigmoid(z)``, is written here from engine
operations as a plain module-level function. The engine differentiates it with
no derivative written by hand; ``skvgrad.engine.check_grad`` compares that
gradient with central finite differences. Then
``MLPAutogradClassifier(activation=silu)`` is trained on the handwritten digits
and compared with ``activation="relu"``. The figure shows both activations
with their derivatives (computed by ``skvgrad.engine.grad``) and the two loss
curves.

A module-level function (not a lambda or a nested function) keeps the fitted
model picklable and loadable with skops.

Run it with ``python examples/custom_activation.py [--output DIR] [--quick]``.
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
from sklearn.model_selection import train_test_split  # noqa: E402

from skvgrad import MLPAutogradClassifier, engine  # noqa: E402


def silu(z):
    """SiLU, ``z * sigmoid(z)``: works on Tensors and on plain arrays."""
    return z * engine.sigmoid(z)


def derivative(activation, z):
    """The elementwise derivative of ``activation`` at ``z``, by the engine."""
    return engine.grad(lambda t: engine.sum(activation(t)))(z)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train with an activation written from engine operations"
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

    # 1. The gradient the engine derives, against finite differences (float64:
    # finite differences in float32 are too coarse to check much).
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3.0, size=(5, 4))
    weights = rng.normal(size=(5, 4))
    error = engine.check_grad(lambda t: (silu(t) * weights).sum(), z)
    print(f"check_grad of silu: max error {error:.2e} (finite differences agree)")

    # 2. Train with it, and with relu for comparison.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, random_state=0, stratify=y
    )
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed budget
    models = {}
    for name, activation in {"silu (yours)": silu, "relu": "relu"}.items():
        clf = MLPAutogradClassifier(
            hidden_layer_sizes=(64,),
            activation=activation,
            learning_rate_init=0.003,
            max_iter=20 if args.quick else 100,
            random_state=0,
        ).fit(X_train, y_train)
        models[name] = clf
        score = clf.score(X_test, y_test)
        print(f"{name:>12}: accuracy = {score:.3f}, final loss = {clf.loss_:.4f}")

    # 3. The figure: the functions and their derivatives, then the loss curves.
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    z = np.linspace(-5, 5, 401)
    for name, fn, color in [("silu", silu, "C0"), ("relu", engine.relu, "C1")]:
        left.plot(z, fn(z), color=color, label=name)
        left.plot(z, derivative(fn, z), color=color, ls="--", label=f"d {name} / dz")
    left.axhline(0, color="0.8", lw=0.8, zorder=0)
    left.set(xlabel="z", title="Activations and their engine gradients")
    left.legend()
    for (name, clf), color in zip(models.items(), ["C0", "C1"]):
        right.plot(clf.loss_curve_, color=color, label=name)
    right.set_yscale("log")
    right.set(xlabel="epoch", ylabel="training loss", title="Training on digits")
    right.legend()

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "custom_activation.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path.resolve()}")


if __name__ == "__main__":
    main()
