"""A hidden-layer activation of your own, differentiated by the engine
===================================================================

SiLU (also called swish), ``z * sigmoid(z)``, written from engine operations
as a plain module-level function: the engine differentiates it with no
derivative written by hand, ``skvgrad.engine.check_grad`` checks that
gradient, and ``MLPAutogradClassifier(activation=silu)`` trains with it on the
handwritten digits, beside ``activation="relu"``.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/custom_activation.py [--output DIR] [--quick]``: ``--quick``
trains 20 epochs instead of 100; the figure goes to DIR (default:
``skvgrad_examples`` in the system's temporary folder), and the script prints
its path.
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

from skvgrad import MLPAutogradClassifier, engine

parser = argparse.ArgumentParser(description="An activation of your own")
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
# The activation
# --------------
# Engine operations work on Tensors (while training) and on plain arrays. A
# module-level function, not a lambda or a nested function, keeps the fitted
# model picklable and loadable with skops.
def silu(z):
    """SiLU, ``z * sigmoid(z)``: works on Tensors and on plain arrays."""
    return z * engine.sigmoid(z)


# %%
# Its gradient, checked
# ---------------------
# ``check_grad`` compares the engine's gradient with central finite
# differences (in float64: in float32 they are too coarse to check much).
rng = np.random.default_rng(0)
z = rng.normal(scale=3.0, size=(5, 4))
weights = rng.normal(size=(5, 4))
error = engine.check_grad(lambda t: (silu(t) * weights).sum(), z)
print(f"check_grad of silu: max error {error:.2e} (finite differences agree)")

# %%
# Training with it, and with relu
# -------------------------------
# The same network, initial weights and budget of epochs for both.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, random_state=0, stratify=y
)
models = {}
for name, activation in {"silu (yours)": silu, "relu": "relu"}.items():
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(64,),
        activation=activation,
        learning_rate_init=0.003,
        max_iter=20 if args.quick else 100,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget
        clf.fit(X_train, y_train)
    models[name] = clf
    score = clf.score(X_test, y_test)
    print(f"{name:>12}: accuracy = {score:.3f}, final loss = {clf.loss_:.4f}")

# %%
# The activations, their derivatives and the loss curves
# ------------------------------------------------------
# ``engine.grad`` of the sum gives the elementwise derivative.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
z = np.linspace(-5, 5, 401)
for name, fn, color in [("silu", silu, "C0"), ("relu", engine.relu, "C1")]:
    derivative = engine.grad(lambda t, fn=fn: engine.sum(fn(t)))(z)
    left.plot(z, fn(z), color=color, label=name)
    left.plot(z, derivative, color=color, ls="--", label=f"d {name} / dz")
left.axhline(0, color="0.8", lw=0.8, zorder=0)
left.set(xlabel="z", title="Activations and their engine gradients")
left.legend()
for (name, clf), color in zip(models.items(), ["C0", "C1"]):
    right.plot(clf.loss_curve_, color=color, label=name)
right.set(xlabel="epoch", ylabel="training loss", yscale="log")
right.set_title("Training on digits")
right.legend()

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "custom_activation.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
