"""Prediction intervals with the quantile loss, and a fit that outliers do not drag
================================================================================

``MLPAutogradRegressor`` trains on losses that scikit-learn's MLPRegressor does
not have, differentiated by skvgrad's engine:

* ``loss="quantile"`` (the pinball loss) makes the network predict a quantile
  of the target given X instead of its mean. Two networks, at the 10% and the
  90% quantile, give a band that should hold about 80% of new points, and on
  heteroscedastic data the band widens where the noise grows.
* ``loss="huber"`` is quadratic for residuals within ``huber_delta`` and
  linear beyond, so a tenth of the points far above the line barely moves the
  fit, where the squared error is dragged up toward them.

The script prints the coverage of the band on held-out points and how far
each fit ends up from the true line.

It needs the ``plot`` extra (``pip install -e ".[plot]"``). Run it with
``python examples/plot_quantile_and_huber.py [--output DIR] [--quick]``:
``--quick`` trains fewer epochs, in seconds; the files go to DIR (default:
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
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skvgrad import MLPAutogradRegressor


# %%
# Two data sets
# -------------
# A sine whose noise grows with x, for the quantiles; a line with a tenth of
# its points far above it, for the robust loss.
def heteroscedastic(n, rng):
    """A sine whose noise grows from left to right."""
    X = rng.uniform(0, 5, size=(n, 1))
    y = np.sin(X[:, 0]) + rng.normal(scale=0.05 + 0.25 * X[:, 0])
    return X, y


def line_with_outliers(n, rng):
    """``y = 2x + 1`` with small noise, and a tenth of the points far above."""
    X = rng.uniform(-2, 2, size=(n, 1))
    y = 2 * X[:, 0] + 1 + rng.normal(scale=0.2, size=n)
    outliers = rng.choice(n, n // 10, replace=False)
    y[outliers] += rng.uniform(15, 30, size=len(outliers))
    return X, y


# %%
# The models
# ----------
# Two networks at the 10% and 90% quantiles; a huber and a squared-error fit
# of the same small network.
def quantile_band(X, y, quick):
    """Networks at the 10% and 90% quantiles, fitted on (X, y)."""
    params = dict(
        loss="quantile",
        hidden_layer_sizes=(32, 32),
        learning_rate_init=0.01,
        max_iter=60 if quick else 400,
        random_state=0,
    )
    return [MLPAutogradRegressor(quantile=q, **params).fit(X, y) for q in (0.1, 0.9)]


def robust_and_plain(X, y):
    """A huber fit and a squared-error fit of the same small network."""
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    return (
        MLPAutogradRegressor(loss="huber", huber_delta=1.0, **params).fit(X, y),
        MLPAutogradRegressor(**params).fit(X, y),
    )


parser = argparse.ArgumentParser(
    description="Quantile bands and a robust fit with MLPAutogradRegressor"
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
rng = np.random.default_rng(0)

# %%
# A prediction band from the quantile loss
# ----------------------------------------
# The band should hold about 80% of held-out points.
X, y = heteroscedastic(1000 if args.quick else 4000, rng)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    low, high = quantile_band(X_train, y_train, args.quick)
inside = (low.predict(X_test) <= y_test) & (y_test <= high.predict(X_test))
coverage = inside.mean()
print(f"10%-90% band coverage {coverage:.3f} of held-out points (0.8 expected)")

# %%
# Outliers, with and without the huber loss
# -----------------------------------------
# How far each fit ends up from the true line, on average over [-2, 2].
X_out, y_out = line_with_outliers(400, rng)
huber, squared = robust_and_plain(X_out, y_out)
grid = np.linspace(-2, 2, 101)[:, np.newaxis]
truth = 2 * grid[:, 0] + 1
errors = {
    name: float(np.abs(model.predict(grid) - truth).max())
    for name, model in (("huber", huber), ("squared_error", squared))
}
for name, error in errors.items():
    print(f"{name:<13} distance {error:.2f} (largest, to the true line)")

# %%
# The figure
# ----------
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
order = np.argsort(X_test[:, 0])
left.scatter(X_test[:, 0], y_test, s=4, color="0.6", label="held-out points")
left.fill_between(
    X_test[order, 0],
    low.predict(X_test)[order],
    high.predict(X_test)[order],
    alpha=0.35,
    label=f"10%-90% band ({coverage:.0%} inside)",
)
left.set(title="loss='quantile'", xlabel="x", ylabel="y")
left.legend(loc="upper left")
right.scatter(X_out[:, 0], y_out, s=6, color="0.6", label="data, 10% outliers")
right.plot(grid, truth, "k--", label="true line")
right.plot(grid, huber.predict(grid), label="loss='huber'")
right.plot(grid, squared.predict(grid), label="loss='squared_error'")
right.set(title="a tenth of the points far above the line", xlabel="x")
right.legend(loc="upper left")
fig.tight_layout()
args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "plot_quantile_and_huber.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path}")
