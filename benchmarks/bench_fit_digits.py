"""Fit on digits: MLPAutogradClassifier against MLPClassifier, same parameters.

adam, hidden (100,), 200 epochs; ``n_iter_no_change=max_iter`` so both run
every epoch. Fit time, and accuracy on the training set and on a stratified
hold-out quarter (the data are standardised on the training part).
"""

import functools

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from benchmarks._harness import (
    RATIO,
    Target,
    import_classifier,
    interleaved,
    print_table,
    quiet,
)

NAME = "fit_digits"
TITLE = "fit on digits, adam, (100,), every epoch run"
SKVGRAD = "skvgrad MLPAutogradClassifier"
SKLEARN = "sklearn MLPClassifier"
NUMPY = "hand-written NumPy fit (the floor)"
DTYPES = ("float64", "float32")


def numpy_fit(X, y, epochs, hidden=100, lr=1e-3, alpha=1e-4, seed=0):
    """The same training written directly in NumPy: a floor for the estimators.

    Glorot-uniform weights, relu, softmax, mini-batches of 200 in a shuffled
    order each epoch, Adam, the L2 penalty: the work both estimators do, with
    no estimator machinery (no checks, no graph, no bookkeeping).
    """
    rng = np.random.RandomState(seed)
    n, d = X.shape
    Y = np.eye(int(y.max()) + 1, dtype=X.dtype)[y]
    units = [d, hidden, Y.shape[1]]
    params = []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(6 / (fan_in + fan_out))
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(X.dtype)]
    params += [np.zeros(hidden, X.dtype), np.zeros(Y.shape[1], X.dtype)]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    order, t = np.arange(n), 0
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, n, 200):
            batch = order[start : start + 200]
            Xb, Yb, k = X[batch], Y[batch], len(batch)
            W1, W2, b1, b2 = params
            h = Xb @ W1
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ W2
            z += b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            delta = (p - Yb) / k
            dh = delta @ W2.T
            dh *= h > 0
            grads = [
                Xb.T @ dh + (alpha / k) * W1,
                h.T @ delta + (alpha / k) * W2,
                dh.sum(axis=0),
                delta.sum(axis=0),
            ]
            t += 1
            step = lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            for i, g in enumerate(grads):
                ms[i] = 0.9 * ms[i] + 0.1 * g
                vs[i] = 0.999 * vs[i] + 0.001 * g * g
                params[i] = params[i] - step * ms[i] / (np.sqrt(vs[i]) + 1e-8)
    return params


def load(random_state=0):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 5)
    epochs = 5 if quick else 200
    params = dict(
        hidden_layer_sizes=(100,),
        solver="adam",
        max_iter=epochs,
        n_iter_no_change=epochs,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = load()
    estimators = {SKLEARN: MLPClassifier}
    ours = import_classifier()
    if ours is not None:
        estimators = {SKVGRAD: ours, **estimators}
    fitted = {}

    def fitter(key, cls, X):
        def fit():
            with quiet():  # ConvergenceWarning: max_iter reached
                fitted[key] = cls(**params).fit(X, y_train)

        return fit

    peers = {}
    for dtype in DTYPES:
        X = X_train.astype(dtype)
        for name, cls in estimators.items():
            peers[name, dtype] = fitter((name, dtype), cls, X)
        peers[NUMPY, dtype] = functools.partial(numpy_fit, X, y_train, epochs)
    times = interleaved(peers, repeat, warmup=False)
    rows, accuracy = [], {}
    for (name, dtype), t in times.items():
        ours_key = (SKVGRAD, dtype)
        versus = times.spread(ours_key, (name, dtype)) if ours_key in times else None
        if name == NUMPY:
            rows.append([name, dtype, t, versus, epochs, None, None])
            continue
        clf = fitted[name, dtype]
        accuracy[name, dtype] = clf.score(X_test.astype(dtype), y_test)
        rows.append(
            [
                name,
                dtype,
                t,
                versus,
                clf.n_iter_,
                100 * clf.score(X_train.astype(dtype), y_train),
                100 * accuracy[name, dtype],
            ]
        )
    gap = None
    if ours is not None:
        gap = max(
            100 * abs(accuracy[SKVGRAD, dtype] - accuracy[SKLEARN, dtype])
            for dtype in DTYPES
        )
    targets = [
        Target(
            f"fit time skvgrad / MLPClassifier, {dtype}",
            times.spread((SKVGRAD, dtype), (SKLEARN, dtype)) if ours else None,
            limit,
        )
        for dtype, limit in zip(DTYPES, (0.55, 0.43))
    ]
    targets += [
        Target(
            "fit time skvgrad / hand-written NumPy, float64",
            times.spread((SKVGRAD, "float64"), (NUMPY, "float64")) if ours else None,
            1.05,
        ),
        Target(
            "fit time hand-written NumPy / MLPClassifier, float64 (the floor's ratio)",
            times.spread((NUMPY, "float64"), (SKLEARN, "float64")),
            0.55,
        ),
        Target("|test accuracy gap| (points)", gap, 0.5),
    ]
    print_table(
        NAME,
        TITLE,
        ["estimator", "dtype", "fit s", RATIO, "epochs", "train acc %", "test acc %"],
        rows,
        notes=[
            f"{len(X_train)} training / {len(X_test)} test rows; median of "
            f"{repeat} interleaved rounds; X cast to the dtype, every peer in it"
        ],
        targets=targets,
    )
