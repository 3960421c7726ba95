"""predict_proba throughput: 1,000,000 x 100 rows, (256, 128), float64.

Both estimators are fitted briefly (2,000 rows, one epoch: only throughput
matters). Times come from this process, peers interleaved; the peak RSS of each
comes from a fresh subprocess that builds the same data, fits, resets its peak
RSS and runs one predict_proba.
"""

import time

import numpy as np

from benchmarks._harness import (
    RATIO,
    Target,
    import_classifier,
    interleaved,
    print_table,
    quiet,
    ratio,
    run_in_subprocess,
    speed_spread,
)

NAME = "predict"
TITLE = "predict_proba throughput, 100 features, (256, 128), float64"
SKVGRAD = "skvgrad MLPAutogradClassifier"
SKLEARN = "sklearn MLPClassifier"
MATMUL = "np.matmul alone (the 3 products)"


def make_data(n_rows):
    """A fitted-model training set (2,000 rows) and ``n_rows`` rows to predict."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        2_000, 100, n_informative=50, n_classes=10, random_state=0
    )
    X_big = np.random.default_rng(0).standard_normal((n_rows, 100))
    return X, y, X_big


def fitted(estimator, X, y):
    if estimator == SKVGRAD:
        from skvgrad import MLPAutogradClassifier as cls
    else:
        from sklearn.neural_network import MLPClassifier as cls
    with quiet():  # ConvergenceWarning: one epoch only
        return cls(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0).fit(X, y)


def matmul_only(model, X_big, chunk=1 << 16):
    """The network's matrix products alone, chunk by chunk: the GEMM floor."""
    coefs = model.coefs_
    buffers = [np.empty((chunk, c.shape[1])) for c in coefs]

    def products():
        for start in range(0, len(X_big), chunk):
            h = X_big[start : start + chunk]
            for W, out in zip(coefs, buffers):
                h = np.matmul(h, W, out=out[: len(h)])

    return products


def predict_worker(estimator, n_rows):
    """Runs in a subprocess: peak RSS of one predict_proba on ``n_rows`` rows."""
    from benchmarks._harness import peak_rss_mib, reset_peak_rss

    X, y, X_big = make_data(n_rows)
    clf = fitted(estimator, X, y)
    start_rss = reset_peak_rss()
    start = time.perf_counter()
    clf.predict_proba(X_big)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": peak_rss_mib(), "start_mib": start_rss}


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 3)
    n_rows = 20_000 if quick else 1_000_000
    estimators = [SKLEARN]
    if import_classifier() is not None:
        estimators.insert(0, SKVGRAD)
    X, y, X_big = make_data(n_rows)
    models = {name: fitted(name, X, y) for name in estimators}
    peers = {name: (lambda m=m: m.predict_proba(X_big)) for name, m in models.items()}
    peers[MATMUL] = matmul_only(models[SKLEARN], X_big)
    times = interleaved(peers, repeat, warmup=quick, min_time=0.05)
    memory = {
        name: run_in_subprocess(
            "benchmarks.bench_predict:predict_worker", estimator=name, n_rows=n_rows
        )
        for name in estimators
    }
    skv_time = times.get(SKVGRAD)
    skv_peak = memory.get(SKVGRAD, {}).get("peak_mib")
    rows = []
    for name in estimators:
        m = memory[name]
        rows.append(
            [
                name,
                times[name],
                n_rows / times[name],
                times.spread(SKVGRAD, name) if skv_time is not None else None,
                m["peak_mib"],
                m["peak_mib"] - m["start_mib"],
                ratio(skv_peak, m["peak_mib"]),
            ]
        )
    data_mib = X_big.nbytes / 2**20
    print_table(
        NAME,
        TITLE,
        ["estimator", "s", "rows/s", RATIO, "peak MiB", "+predict MiB", "RSS " + RATIO],
        rows
        + [[MATMUL, times[MATMUL], n_rows / times[MATMUL], None, None, None, None]],
        notes=[
            f"{n_rows:,} rows ({data_mib:,.0f} MiB of input); time: median of "
            f"{repeat} interleaved rounds; memory: one fresh subprocess each",
            "peak MiB: high-water mark during predict_proba (data included); "
            "+predict MiB: that peak minus the RSS just before",
        ],
        targets=[
            Target(
                "time skvgrad / MLPClassifier (throughput >= MLPClassifier's)",
                times.spread(SKVGRAD, SKLEARN) if skv_time is not None else None,
                1.0,
            ),
            Target(
                "throughput skvgrad / the matrix products alone",
                speed_spread(times, SKVGRAD, MATMUL),
                0.9,
                ">=",
            ),
            Target(
                "peak RSS skvgrad / MLPClassifier",
                ratio(skv_peak, memory[SKLEARN]["peak_mib"]),
                1.0,
            ),
        ],
    )
