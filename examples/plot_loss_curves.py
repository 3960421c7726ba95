"""Loss curves of skvgrad's training strategies on the digits
==========================================================

The counterpart of scikit-learn's example "Compare Stochastic learning
strategies for MLPClassifier": ``MLPAutogradClassifier`` learns the
handwritten digits with SGD under each learning-rate schedule ("constant",
"invscaling", "adaptive"), each without momentum, with momentum and with
Nesterov's momentum, and with Adam.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/plot_loss_curves.py [--output DIR] [--quick]``: ``--quick``
trains 15 epochs instead of 60; the figure goes to DIR (default:
``skvgrad_examples`` in the system's temporary folder), and the script prints
its path.
"""

# %%
# Options and data
# ----------------
# The digits, scaled to [0, 1] on the training quarter.
import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skvgrad import MLPAutogradClassifier

parser = argparse.ArgumentParser(description="Loss curves of training strategies")
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer epochs, seconds")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Train every strategy
# --------------------
# The same network and initial weights for all, SGD with an initial learning
# rate of 0.2 and Adam with 0.01, for a fixed number of epochs (as in
# scikit-learn's example, so the ConvergenceWarning is expected).
momenta = {
    "no momentum": dict(momentum=0.0),
    "momentum": dict(momentum=0.9, nesterovs_momentum=False),
    "Nesterov's momentum": dict(momentum=0.9, nesterovs_momentum=True),
}
schedules = ["constant", "invscaling", "adaptive"]
curves = {}
for schedule in schedules:
    for name, momentum in momenta.items():
        strategy = dict(
            solver="sgd", learning_rate=schedule, learning_rate_init=0.2, **momentum
        )
        curves[schedule, name] = strategy
curves["adam"] = dict(solver="adam", learning_rate_init=0.01)

for key, strategy in curves.items():
    clf = MLPAutogradClassifier(
        max_iter=15 if args.quick else 60, random_state=0, **strategy
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    label = key if key == "adam" else f"{key[0]}, {key[1]}"
    score = clf.score(X_test, y_test)
    print(f"{label:>35}: accuracy = {score:.3f}, final loss = {clf.loss_:.4f}")
    curves[key] = clf.loss_curve_

# %%
# The loss curves
# ---------------
# One panel per schedule, Adam in black in each for reference. "adaptive"
# keeps the learning rate constant for as long as the training loss falls by
# at least ``tol`` within ``n_iter_no_change`` epochs, and divides it by 5 when
# it does not; the figure says whether that happened here.
fig, axes = plt.subplots(
    1, len(schedules), figsize=(13, 4.5), sharey=True, layout="constrained"
)
for ax, schedule in zip(axes, schedules):
    for (name, _), color in zip(momenta.items(), ["C0", "C1", "C2"]):
        ax.plot(curves[schedule, name], color=color, lw=1.8, label=f"SGD, {name}")
    ax.plot(curves["adam"], color="black", lw=1.2, ls="--", label="Adam")
    ax.set(title=f'learning_rate="{schedule}"', xlabel="epoch", yscale="log")
same = all(
    np.array_equal(curves["adaptive", name], curves["constant", name])
    for name in momenta
)
note = (
    'identical to "constant": the loss never\nstalled for n_iter_no_change epochs, '
    'so\n"adaptive" never lowered the learning rate'
    if same
    else '"adaptive" lowered the learning rate\nwhere its curves leave "constant"'
)
axes[-1].text(0.97, 0.97, note, transform=axes[-1].transAxes, ha="right", va="top")
axes[0].set_ylabel("training loss")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncols=4)

args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "plot_loss_curves.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
