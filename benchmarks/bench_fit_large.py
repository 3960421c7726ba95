"""Large fit: make_classification 200,000 x 100, 10 classes, (256, 128), adam.

Batch 256, 3 epochs, MLPAutogradClassifier against MLPClassifier in float32 and
float64 (X is cast). Each (estimator, dtype) fit runs in a fresh subprocess
that builds the data, resets its peak RSS, fits, and reports the fit time, the
peak RSS during the fit (data included) and the accuracy on 10% extra hold-out
rows. ``--repeat N`` runs the four subprocesses round-robin N times;
``--quick`` runs all four fits, on 2,000 rows, in a single subprocess.
"""

import statistics

from benchmarks._harness import (
    RATIO,
    Target,
    import_classifier,
    print_table,
    ratio,
    run_in_subprocess,
    spread_of,
)

NAME = "fit_large"
TITLE = "fit make_classification, 100 features, 10 classes, (256, 128), adam"
SKVGRAD = "skvgrad"
SKLEARN = "sklearn"
DTYPES = ("float32", "float64")


def fit_worker(configs, n_samples):
    """Runs in a subprocess: for each ``(estimator, dtype)``, fit and measure."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples + n_samples // 10,
        100,
        n_informative=50,
        n_classes=10,
        random_state=0,
    )
    return [fit_one(name, X.astype(dtype), y, n_samples) for name, dtype in configs]


def fit_one(name, X, y, n_samples):
    """Fit on the first ``n_samples`` rows: time, peak RSS, hold-out accuracy."""
    import time

    from benchmarks._harness import peak_rss_mib, quiet, reset_peak_rss

    if name == SKVGRAD:
        from skvgrad import MLPAutogradClassifier as cls
    else:
        from sklearn.neural_network import MLPClassifier as cls
    clf = cls(
        hidden_layer_sizes=(256, 128),
        solver="adam",
        batch_size=256,
        max_iter=3,
        random_state=0,
    )
    start_rss = reset_peak_rss()
    start = time.perf_counter()
    with quiet():  # ConvergenceWarning: max_iter reached
        clf.fit(X[:n_samples], y[:n_samples])
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    return {
        "seconds": seconds,
        "peak_mib": peak,
        "fit_mib": peak - start_rss,
        "accuracy": clf.score(X[n_samples:], y[n_samples:]),
        "coefs_": str(clf.coefs_[0].dtype),
    }


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 3)
    n_samples = 2_000 if quick else 200_000
    names = [SKLEARN] if import_classifier() is None else [SKVGRAD, SKLEARN]
    configs = [(name, dtype) for dtype in DTYPES for name in names]
    groups = [configs] if quick else [[config] for config in configs]
    runs = {config: [] for config in configs}
    for _ in range(repeat):
        for group in groups:
            results = run_in_subprocess(
                "benchmarks.bench_fit_large:fit_worker",
                configs=group,
                n_samples=n_samples,
            )
            for config, result in zip(group, results):
                runs[config].append(result)
    keys = ("seconds", "peak_mib", "fit_mib", "accuracy")
    summary = {
        config: {k: statistics.median(r[k] for r in rs) for k in keys}
        | {"coefs_": rs[-1]["coefs_"]}
        for config, rs in runs.items()
    }

    def get(name, dtype, key):
        return summary.get((name, dtype), {}).get(key)

    def vs_sklearn(dtype, key):
        """(min, median, max) over the rounds of skvgrad's value over sklearn's."""
        ours, theirs = runs.get((SKVGRAD, dtype)), runs.get((SKLEARN, dtype))
        if not ours:
            return None
        return spread_of([a[key] / b[key] for a, b in zip(ours, theirs)])

    rows = [
        [
            f"{name} {dtype}",
            s["seconds"],
            vs_sklearn(dtype, "seconds") if name == SKLEARN else None,
            100 * s["accuracy"],
            s["peak_mib"],
            s["fit_mib"],
            vs_sklearn(dtype, "peak_mib") if name == SKLEARN else None,
            s["coefs_"],
        ]
        for (name, dtype), s in summary.items()
    ]
    targets = [
        Target(f"fit time vs sklearn, {d}", vs_sklearn(d, "seconds"), 0.65)
        for d in DTYPES
    ] + [
        Target(f"peak RSS vs sklearn, {d}", vs_sklearn(d, "peak_mib"), 1.0)
        for d in DTYPES
    ]
    own = ratio(get(SKVGRAD, "float32", "seconds"), get(SKVGRAD, "float64", "seconds"))
    targets.append(Target("fit time skvgrad float32 / skvgrad float64", own, 0.7))
    gaps = [
        100 * abs(get(SKVGRAD, d, "accuracy") - get(SKLEARN, d, "accuracy"))
        for d in DTYPES
        if (SKVGRAD, d) in summary
    ]
    gap = max(gaps, default=None)
    targets.append(Target("|hold-out accuracy gap| (points)", gap, 0.5))
    where = (
        "all fits in one subprocess (--quick)"
        if quick
        else "a fresh subprocess per fit"
    )
    print_table(
        NAME,
        TITLE,
        [
            "estimator",
            "fit s",
            RATIO,
            "test acc %",
            "peak MiB",
            "+fit MiB",
            "peak " + RATIO,
            "coefs_",
        ],
        rows,
        notes=[
            f"{n_samples:,} training rows, batch 256, 3 epochs; {where}; median of "
            f"{repeat} round(s); ratios against sklearn at the same dtype",
            "peak MiB: RSS high-water mark during fit (data included); +fit MiB: "
            "that peak minus the RSS just before fit",
            "skvgrad = MLPAutogradClassifier, sklearn = MLPClassifier",
        ],
        targets=targets,
    )
