"""Array API: fit and predict on NumPy, PyTorch CPU, and a GPU where there is one.

``MLPAutogradClassifier`` (hidden (256, 256), adam, batch 256) fits a few
epochs of ``make_classification`` data and predicts it, in float32, with the
data as a NumPy array (NumPy's engine path), as a PyTorch CPU tensor and, where
present, as a PyTorch CUDA tensor and a CuPy array (under
``sklearn.config_context(array_api_dispatch=True)``: the arithmetic runs in
that namespace). Each place runs in a fresh subprocess, round-robin over
``--repeat`` rounds. Without a GPU its rows say "no GPU here".

Defaults fit a 2-core machine in a minute or two (200,000 x 100, 2 epochs);
``--full`` is the 1,000,000 x 100 problem, ``--rows`` and ``--epochs`` set
them. ``python benchmarks/bench_array_api.py --help``.
"""

import argparse
import statistics

from benchmarks._harness import (
    Target,
    print_table,
    quiet,
    run_in_subprocess,
    spread_of,
)

NAME = "array_api"
TITLE = "fit + predict, 100 features, 10 classes, (256, 256), adam, float32"
PLACES = ("numpy", "torch cpu", "torch cuda", "cupy")
NO_GPU = "no GPU here"


def available(place):
    """Why ``place`` cannot run here (a short reason), or None if it can."""
    if place == "numpy":
        return None
    if place.startswith("torch"):
        try:
            import torch
        except ImportError:
            return "PyTorch not installed"
        if place == "torch cuda" and not torch.cuda.is_available():
            return NO_GPU
        return None
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 (not installed, or no device)
        return NO_GPU
    return None


def fit_worker(place, n_samples, epochs):
    """Runs in a subprocess: fit and predict on ``place``; times and accuracy."""
    import os
    import time

    os.environ["SCIPY_ARRAY_API"] = "1"  # before SciPy's first import: dispatch

    import numpy as np
    import sklearn
    from sklearn.datasets import make_classification

    from skvgrad import MLPAutogradClassifier

    X, y = make_classification(
        n_samples, 100, n_informative=50, n_classes=10, random_state=0
    )
    X = X.astype(np.float32)
    if place == "numpy":
        convert, sync = (lambda a: a), (lambda: None)
    elif place.startswith("torch"):
        import torch

        device = "cuda" if place == "torch cuda" else "cpu"
        convert = lambda a: torch.asarray(a, device=device)  # noqa: E731
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    else:
        import cupy

        convert, sync = cupy.asarray, cupy.cuda.Device().synchronize
    X_in, y_in = convert(X), convert(y)
    sync()
    clf = MLPAutogradClassifier(
        hidden_layer_sizes=(256, 256),
        solver="adam",
        batch_size=256,
        max_iter=epochs,
        random_state=0,
    )
    with sklearn.config_context(array_api_dispatch=place != "numpy"), quiet():
        start = time.perf_counter()
        clf.fit(X_in, y_in)
        sync()
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = clf.predict(X_in)
        sync()
        predict_seconds = time.perf_counter() - start
        accuracy = clf.score(X_in, y_in)
    return {
        "fit": fit_seconds,
        "predict": predict_seconds,
        "accuracy": accuracy,
        "predicted_as": type(predicted).__module__.partition(".")[0],
    }


def run(quick=False, repeat=None, n_samples=None, epochs=None):
    repeat = repeat or 1
    n_samples = n_samples or (2_000 if quick else 200_000)
    epochs = epochs or (1 if quick else 2)
    reasons = {place: available(place) for place in PLACES}
    runs = {place: [] for place in PLACES if reasons[place] is None}
    for _ in range(repeat):
        for place in runs:
            runs[place].append(
                run_in_subprocess(
                    "benchmarks.bench_array_api:fit_worker",
                    place=place,
                    n_samples=n_samples,
                    epochs=epochs,
                )
            )

    def vs_numpy(place, key):
        """(min, median, max) over the rounds of ``place``'s time over NumPy's."""
        if place not in runs:
            return None
        return spread_of(
            [a[key] / b[key] for a, b in zip(runs[place], runs["numpy"], strict=True)]
        )

    rows = []
    for place in PLACES:
        if place not in runs:
            rows.append([place, reasons[place], None, None, None, None, None])
            continue
        median = {
            k: statistics.median(r[k] for r in runs[place])
            for k in ("fit", "predict", "accuracy")
        }
        rows.append(
            [
                place,
                median["fit"],
                vs_numpy(place, "fit"),
                median["predict"],
                vs_numpy(place, "predict"),
                100 * median["accuracy"],
                runs[place][-1]["predicted_as"],
            ]
        )
    accuracy = {
        place: statistics.median(r["accuracy"] for r in rs)
        for place, rs in runs.items()
    }
    gaps = [100 * abs(a - accuracy["numpy"]) for a in accuracy.values()]
    targets = [Target("|train accuracy gap| to NumPy (points)", max(gaps), 0.5)]
    if "torch cuda" in runs:
        targets.append(
            Target("torch cuda fit / numpy fit", vs_numpy("torch cuda", "fit"), 0.5)
        )
    print_table(
        NAME,
        TITLE,
        [
            "X as",
            "fit s",
            "fit / numpy",
            "predict s",
            "predict / numpy",
            "train acc %",
            "predictions",
        ],
        rows,
        notes=[
            f"{n_samples:,} rows, batch 256, {epochs} epoch(s), float32; a fresh "
            f"subprocess per place; median of {repeat} round(s)",
            "ratios are place / numpy: below 1 is faster than NumPy; rows without "
            f"times say why ({NO_GPU!r} where no CUDA device is present)",
        ],
        targets=targets,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 1 epoch")
    parser.add_argument("--full", action="store_true", help="1,000,000 rows")
    parser.add_argument("--rows", type=int, help="training rows (default 200,000)")
    parser.add_argument("--epochs", type=int, help="epochs (default 2)")
    parser.add_argument("--repeat", type=int, help="interleaved rounds (default 1)")
    args = parser.parse_args(argv)
    rows = 1_000_000 if args.full else args.rows
    run(quick=args.quick, repeat=args.repeat, n_samples=rows, epochs=args.epochs)


if __name__ == "__main__":
    main()
