"""The course homework the engine grew from, run on skvgrad's engine
==================================================================

skvgrad's engine grew from a course homework on vectorized reverse-mode automatic
differentiation: an ``AutogradValue`` class with vector-Jacobian products, a
``pad`` operation that appends a column of ones for the bias, and a
``NeuralNetwork`` with sigmoid hidden layers trained by gradient descent on two
moons. This script is that homework's program with its imports changed: the
``AutogradValue`` it differentiates is :class:`skvgrad.engine.Tensor`, and
``pad``, ``matmul``, ``sigmoid`` and ``log`` come from :mod:`skvgrad.engine`.
Everything else (the network, its negative log-likelihood, ``nll_and_grad``
calling ``backward()`` and reading ``.grad``) is the homework's code as written.

The support functions the homework imported, a gradient-descent loop with a
tqdm progress bar and a plot of the decision boundary, are written out below.

It needs the ``plot`` and ``progress`` extras (``pip install -e
".[plot,progress]"``). Run it with ``python examples/seed_network.py [--output
DIR] [--quick]``: ``--quick`` takes fewer steps; the figure goes to DIR
(default: ``skvgrad_examples`` in the system's temporary folder), and the
script prints its path and the final accuracy.
"""

# %%
# Options, and the engine in place of the homework's own
# ------------------------------------------------------
# The last two imports replace the homework's own definitions of
# ``AutogradValue``, ``pad``, ``matmul``, ``sigmoid`` and ``log``.
import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from tqdm.auto import tqdm

from skvgrad.engine import Tensor as AutogradValue
from skvgrad.engine import log, matmul, pad, sigmoid

parser = argparse.ArgumentParser(description="The course homework's network")
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer steps, seconds")
args = parser.parse_args()


# %%
# The homework's program, unchanged
# ---------------------------------
# A network of sigmoid layers, its negative log-likelihood, and
# ``nll_and_grad``, which calls ``backward()`` and reads ``.grad``.


class NeuralNetwork:
    def __init__(self, dims, hidden_sizes=[]):  # noqa: B006  (the homework's signature)
        # Create a list of all layer dimensions (including input and output)
        sizes = [dims] + hidden_sizes + [1]
        # Create each layer weight matrix (including bias dimension)
        self.weights = [
            np.random.normal(scale=1.0, size=(i + 1, o))  # noqa: NPY002
            for (i, o) in zip(sizes[:-1], sizes[1:])
        ]

    def prediction_function(self, X, w):
        """
        Get the result of our base function for prediction (i.e. x^t w)

        Args:
            X (array): An N x d matrix of observations.
            w (list of arrays): A list of weight matrices
        Returns:
            pred (array): An N x 1 matrix of f(X).
        """
        # Iterate through the weights of each layer and apply the linear function
        # and activation
        for wi in w[:-1]:
            X = pad(X)  # Only if we're using bias
            X = sigmoid(matmul(X, wi))

        # For the output layer, we don't apply the activation
        X = pad(X)
        return matmul(X, w[-1])

    def predict(self, X):
        """
        Predict labels given a set of inputs.

        Args:
            X (array): An N x d matrix of observations.
        Returns:
            pred (array): An N x 1 column vector of predictions in {0, 1}
        """
        return self.prediction_function(X, self.weights) > 0

    def predict_probability(self, X):
        """
        Predict the probability of each class given a set of inputs

        Args:
            X (array): An N x d matrix of observations.
        Returns:
            probs (array): An N x 1 column vector of predicted class probabilities
        """
        return sigmoid(self.prediction_function(X, self.weights))

    def accuracy(self, X, y):
        """
        Compute the accuracy of the model's predictions on a dataset

        Args:
            X (array): An N x d matrix of observations.
            y (array): A length N vector of labels.
        Returns:
            acc (float): The accuracy of the classifier
        """
        y = y.reshape((-1, 1))
        return (self.predict(X) == y).mean()

    def nll(self, X, y, w=None):
        """
        Compute the negative log-likelihood loss.

        Args:
            X (array): An N x d matrix of observations.
            y (array): A length N vector of labels.
            w (array, optional): A (d+1) x 1 matrix of weights.
        Returns:
            nll (float): The NLL loss
        """
        if w is None:
            w = self.weights

        y = y.reshape((-1, 1))
        xw = self.prediction_function(X, w)
        py = sigmoid(xw * (2 * y - 1))
        nll = -(log(py))
        return nll.sum()


def nll_and_grad(self, X, y):
    """
    Get the negative log-likelihood loss and its gradient

    Args:
        X (array): An N x d matrix of observations.
        y (array): A length N vector of labels
    Returns:
        nll (float): The negative log-likelihood
        grads (list of arrays): A list of the gradient of the nll with respect
                                to each value in self.weights.
    """
    w = [AutogradValue(wi) for wi in self.weights]
    nll = self.nll(X, y, w)
    nll.backward()
    return nll.value, [wi.grad for wi in w]


NeuralNetwork.nll_and_grad = nll_and_grad

# %%
# The homework's support functions
# --------------------------------
# A gradient-descent loop with a tqdm progress bar, and a plot of the decision
# boundary.


def gradient_descent(model, X, y, lr=3e-2, steps=250):
    """Full-batch gradient descent on ``model.nll``, with a progress bar."""
    bar = tqdm(range(steps))
    for _ in bar:
        loss, grads = model.nll_and_grad(X, y)
        model.weights = [w - lr * g for w, g in zip(model.weights, grads)]
        accuracy = model.accuracy(X, y)
        bar.set_description(f"Loss {loss:.2f}, accuracy: {accuracy:.2f}", refresh=False)
    return model


def plot_boundary(model, X, y, ax, resolution=200):
    """The predicted probability of class 1 over the plane, and the data."""
    x0, x1 = np.meshgrid(
        np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, resolution),
        np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, resolution),
    )
    grid = np.column_stack([x0.ravel(), x1.ravel()])
    proba = model.predict_probability(grid).reshape(x0.shape)
    ax.contourf(x0, x1, proba, levels=20, cmap="RdBu", alpha=0.5)
    ax.contour(x0, x1, proba, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolors="white", s=30)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


# %%
# Training on two moons
# ---------------------
np.random.seed(0)  # noqa: NPY002  (the homework draws from the global generator)
X, y = make_moons(100, noise=0.1, random_state=0)
model = NeuralNetwork(2, [25, 25])
gradient_descent(model, X, y, lr=3e-2, steps=150 if args.quick else 250)
print(f"accuracy {model.accuracy(X, y):.3f}")

# %%
# The decision boundary
# ---------------------
fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
plot_boundary(model, X, y, ax, resolution=100 if args.quick else 200)
ax.set_title("The homework's network: (25, 25) sigmoid, gradient descent")
args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "seed_network.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
