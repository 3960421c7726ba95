"""Fit on digits: MLPAutogradClassifier against MLPClassifier, same parameters.

adam, hidden (100,), 200 epochs; ``n_iter_no_change=max_iter`` so both run
every epoch. Fit time, and accuracy on the training set and on a stratified
hold-out quarter (the data are standardised on the training part).
"""

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

    def fitter(name, cls):
        def fit():
            with quiet():  # ConvergenceWarning: max_iter reached
                fitted[name] = cls(**params).fit(X_train, y_train)

        return fit

    times = interleaved(
        {name: fitter(name, cls) for name, cls in estimators.items()},
        repeat,
        warmup=False,
    )
    skv = times.get(SKVGRAD)
    rows, accuracy = [], {}
    for name, t in times.items():
        clf = fitted[name]
        accuracy[name] = clf.score(X_test, y_test)
        rows.append(
            [
                name,
                t,
                times.spread(SKVGRAD, name) if skv is not None else None,
                clf.n_iter_,
                100 * clf.score(X_train, y_train),
                100 * accuracy[name],
            ]
        )
    gap = None
    if skv is not None:
        gap = 100 * abs(accuracy[SKVGRAD] - accuracy[SKLEARN])
    print_table(
        NAME,
        TITLE,
        ["estimator", "fit s", RATIO, "epochs", "train acc %", "test acc %"],
        rows,
        notes=[
            f"{len(X_train)} training / {len(X_test)} test rows; median of "
            f"{repeat} interleaved rounds"
        ],
        targets=[
            Target(
                "fit time skvgrad / MLPClassifier",
                times.spread(SKVGRAD, SKLEARN),
                0.5,
            ),
            Target("|test accuracy gap| (points)", gap, 0.5),
        ],
    )
