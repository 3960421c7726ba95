"""skvgrad beside the tools a user would otherwise reach for, on the same tasks.

For the documentation's page "When to use skvgrad, and when not": fit time and
held-out score of

* skvgrad's ``MLPAutogradClassifier`` / ``MLPAutogradRegressor``;
* scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with the same parameters
  (no quantile loss: its rows of the quantile task are missing);
* skorch on PyTorch (``pip install torch skorch``; a CPU build is enough): the
  same network, Adam, learning rate, batch size and number of epochs, on
  float32 data as PyTorch users train, without the L2 penalty (``alpha``) of the
  others; skipped with a notice when either is not installed;
* scikit-learn's ``HistGradientBoostingClassifier`` / ``Regressor`` with its
  defaults (its quantile loss for the quantile task).

The tasks are data sets that ship with scikit-learn or are generated, so the
benchmark needs no download: the handwritten digits (1,797 images of 8 x 8
pixels), breast cancer (569 rows of 30 measurements: a small tabular data set),
diabetes (442 rows, 10 features, a regression) and the 90% quantile of a
heteroscedastic 1-D target. The networks have one hidden layer of 100 relu
units and train with Adam (learning rate 1e-3, batches of 200) for a fixed
number of epochs. Every score is on a held-out quarter of the data; inputs are
standardised on the training part (the trees get the raw features).
"""

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import mean_pinball_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from benchmarks._harness import RATIO, import_torch, interleaved, print_table, quiet

NAME = "compare"
TITLE = "skvgrad beside MLPClassifier/MLPRegressor, skorch and HistGradientBoosting"
SKVGRAD = "skvgrad"
SKLEARN_MLP = "sklearn MLP"
SKORCH = "skorch (PyTorch)"
HGB = "HistGradientBoosting"
QUANTILE = 0.9
HIDDEN = 100


def load_task(name, quick):
    """(X_train, X_test, y_train, y_test, kind) of a task, standardised later."""
    if name == "quantile":
        rng = np.random.default_rng(0)
        n = 400 if quick else 2000
        x = rng.uniform(0, 10, n)
        y = np.sin(x) + rng.normal(scale=0.1 + 0.1 * x)  # noise grows with x
        X = x[:, None]
        kind = "quantile"
    else:
        loader = {
            "digits": load_digits,
            "breast cancer": load_breast_cancer,
            "diabetes": load_diabetes,
        }[name]
        X, y = loader(return_X_y=True)
        if quick:  # a smoke run: a few hundred rows
            X, y = X[:400], y[:400]
        kind = "regression" if name == "diabetes" else "classification"
    stratify = y if kind == "classification" else None
    split = train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify)
    return (*split, kind)


def skorch_factory(kind, n_features, n_outputs, epochs):
    """A factory of skorch nets with the MLPs' network and optimiser, or None."""
    torch = import_torch()
    if torch is None:
        return None
    try:
        from skorch import NeuralNetClassifier, NeuralNetRegressor
    except ImportError as exc:
        print(f"notice: skorch not importable ({exc}); its rows are skipped.")
        return None

    class PinballLoss(torch.nn.Module):
        """Mean pinball (quantile) loss of the QUANTILE quantile."""

        def forward(self, prediction, target):
            residual = target - prediction
            return torch.maximum(QUANTILE * residual, (QUANTILE - 1) * residual).mean()

    class MLP(torch.nn.Module):
        """One hidden layer of relu units, as the estimators' (100,)."""

        def __init__(self, n_in, n_out):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(n_in, HIDDEN),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN, n_out),
            )

        def forward(self, X):
            return self.layers(X)

    if kind == "classification":
        cls, criterion = NeuralNetClassifier, torch.nn.CrossEntropyLoss
    else:
        cls = NeuralNetRegressor
        criterion = PinballLoss if kind == "quantile" else torch.nn.MSELoss

    def make():
        torch.manual_seed(0)
        return cls(
            MLP,
            module__n_in=n_features,
            module__n_out=n_outputs,
            criterion=criterion,
            max_epochs=epochs,
            lr=1e-3,
            batch_size=200,
            optimizer=torch.optim.Adam,
            iterator_train__shuffle=True,
            train_split=None,  # no internal validation split: train on all rows
            verbose=0,
        )

    return make


def peers_of(kind, epochs, quick):
    """{peer name: factory of an unfitted estimator} for a kind of task."""
    from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor

    mlp = dict(
        hidden_layer_sizes=(HIDDEN,),
        solver="adam",
        max_iter=epochs,
        n_iter_no_change=epochs,  # every epoch runs, as in skorch
        random_state=0,
    )
    hgb = dict(random_state=0, max_iter=5 if quick else 100)
    if kind == "classification":
        return {
            SKVGRAD: lambda: MLPAutogradClassifier(**mlp),
            SKLEARN_MLP: lambda: MLPClassifier(**mlp),
            HGB: lambda: HistGradientBoostingClassifier(**hgb),
        }
    if kind == "regression":
        return {
            SKVGRAD: lambda: MLPAutogradRegressor(**mlp),
            SKLEARN_MLP: lambda: MLPRegressor(**mlp),
            HGB: lambda: HistGradientBoostingRegressor(**hgb),
        }
    return {
        SKVGRAD: lambda: MLPAutogradRegressor(
            loss="quantile", quantile=QUANTILE, **mlp
        ),
        HGB: lambda: HistGradientBoostingRegressor(
            loss="quantile", quantile=QUANTILE, **hgb
        ),
    }


def score(kind, prediction, y):
    """The held-out score: accuracy, R², or pinball loss and coverage."""
    if kind == "classification":
        return f"accuracy {np.mean(prediction == y):.3f}"
    if kind == "regression":
        r2 = 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)
        return f"R2 {r2:.3f}"
    loss = mean_pinball_loss(y, prediction, alpha=QUANTILE)
    return f"pinball {loss:.3f}, coverage {np.mean(y <= prediction):.2f}"


def fitter(fitted, name, make, X, y):
    """A call that fits a new ``make()`` on ``(X, y)`` into ``fitted[name]``."""

    def fit():
        with quiet():  # ConvergenceWarning: a fixed number of epochs
            fitted[name] = make().fit(X, y)

    return fit


def run(quick=False, repeat=None):
    if quick:
        # A smoke run: one OpenMP thread, since on a busy machine gradient
        # boosting's thread pool can wait for minutes on cores it does not get.
        with threadpool_limits(1, user_api="openmp"):
            return _run(True, repeat or 1)
    return _run(False, repeat or 3)


def _run(quick, repeat):
    """Measure every task and print the table."""
    epochs = 5 if quick else 200
    rows = []
    for task in ("digits", "breast cancer", "diabetes", "quantile"):
        X_train, X_test, y_train, y_test, kind = load_task(task, quick)
        # The networks get standardised inputs (and targets, for regression);
        # the trees get the data as they are.
        x_scale = StandardScaler().fit(X_train)
        y_scale = None
        if kind != "classification":
            y_scale = StandardScaler().fit(y_train[:, None])
        data = {
            "trees": (X_train, y_train, X_test),
            "float64": (
                x_scale.transform(X_train),
                y_train
                if y_scale is None
                else y_scale.transform(y_train[:, None])[:, 0],
                x_scale.transform(X_test),
            ),
        }
        X64, y64, X64_test = data["float64"]
        y32 = (
            y64.astype(np.int64) if y_scale is None else y64.astype(np.float32)[:, None]
        )
        data["float32"] = (X64.astype(np.float32), y32, X64_test.astype(np.float32))

        factories = {
            name: (make, "float64")
            for name, make in peers_of(kind, epochs, quick).items()
        }
        factories[HGB] = (factories[HGB][0], "trees")
        n_outputs = len(np.unique(y_train)) if y_scale is None else 1
        make_net = skorch_factory(kind, X_train.shape[1], n_outputs, epochs)
        if make_net is not None:
            factories[SKORCH] = (make_net, "float32")

        fitted = {}
        calls = {
            name: fitter(fitted, name, make, *data[form][:2])
            for name, (make, form) in factories.items()
        }
        times = interleaved(calls, repeat, warmup=False)
        for name, (_, form) in factories.items():
            prediction = np.asarray(fitted[name].predict(data[form][2]), dtype=float)
            prediction = prediction.reshape(len(X_test), -1)
            if y_scale is not None and form != "trees":
                prediction = y_scale.inverse_transform(prediction)
            rows.append(
                [
                    task,
                    name,
                    times[name],
                    None if name == SKVGRAD else times.spread(SKVGRAD, name),
                    score(kind, prediction[:, 0], y_test),
                ]
            )
    print_table(
        NAME,
        TITLE,
        ["task", "estimator", "fit s", RATIO, "held-out score"],
        rows,
        notes=[
            f"(100,) relu, adam, lr 1e-3, batch 200, {epochs} epochs for every "
            f"network; trees with their defaults; median of {repeat} interleaved "
            "rounds",
            "skorch trains on float32 without the L2 penalty, the other networks "
            "on float64; a missing row: that peer has no such loss, or is not "
            "installed",
        ],
    )
