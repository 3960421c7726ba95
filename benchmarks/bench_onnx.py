"""Serving latency: onnxruntime on converted models against predict_proba.

One row and 1,000 rows, (100,) hidden relu units, 20 features, 3 classes:
onnxruntime on skvgrad's converted model (float and double graphs), skvgrad's
own ``predict_proba`` and ``predict``, MLPClassifier's, and onnxruntime on
MLPClassifier's model converted by skl2onnx. The models are fitted briefly
(only latency matters); onnxruntime gets float32 rows for a float graph and
float64 rows for a double graph, the estimators float64 rows. onnxruntime runs
on as many threads as the BLAS (``--threads``), its default otherwise.
"""

import math
import statistics
import time

import numpy as np

from benchmarks import _harness
from benchmarks._harness import (
    RATIO,
    Target,
    import_classifier,
    interleaved,
    print_table,
    quiet,
)

NAME = "onnx"
TITLE = "serving latency, (100,) hidden, 20 features, 3 classes: onnxruntime vs NumPy"
ORT_OURS = "onnxruntime, skvgrad's graph (float)"
ORT_OURS_DOUBLE = "onnxruntime, skvgrad's graph (double)"
ORT_SKLEARN = "onnxruntime, MLPClassifier's graph (float)"
PROBA, SK_PROBA = "skvgrad predict_proba", "MLPClassifier predict_proba"
PREDICT, SK_PREDICT = "skvgrad predict", "MLPClassifier predict"
PAIRS = {  # row: the peer its ratio is taken against
    ORT_OURS: ORT_SKLEARN,
    ORT_OURS_DOUBLE: ORT_SKLEARN,
    PROBA: SK_PROBA,
    PREDICT: SK_PREDICT,
}
BATCHES = (1, 1_000)


def make_models():
    """Both estimators, fitted briefly on the same data, and rows to predict."""
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier

    from skvgrad import MLPAutogradClassifier

    X, y = make_classification(2_000, 20, n_informative=10, n_classes=3, random_state=0)
    with quiet():  # ConvergenceWarning: a few epochs only
        ours = MLPAutogradClassifier((100,), max_iter=5, random_state=0).fit(X, y)
        theirs = MLPClassifier((100,), max_iter=5, random_state=0).fit(X, y)
    return ours, theirs, X


def session(model, sample):
    """An onnxruntime session of ``model`` (labels and probabilities, no ZipMap)."""
    import onnxruntime as ort
    from skl2onnx import to_onnx

    import skvgrad.onnx  # noqa: F401  (registers the converters)

    onx = to_onnx(model, sample, options={"zipmap": False})
    options = ort.SessionOptions()
    if _harness.THREADS is not None:
        options.intra_op_num_threads = _harness.THREADS
        options.inter_op_num_threads = 1
    return ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def make_peers(ours, theirs, X, rows):
    """Zero-argument callables predicting ``rows`` rows, by peer name."""
    X64 = np.ascontiguousarray(X[:rows])
    X32 = X64.astype(np.float32)
    sessions = {
        ORT_OURS: (session(ours, X32[:1]), X32),
        ORT_OURS_DOUBLE: (session(ours, X64[:1]), X64),
        ORT_SKLEARN: (session(theirs, X32[:1]), X32),
    }
    peers = {
        name: (lambda s=s, x=x: s.run(None, {"X": x}))
        for name, (s, x) in sessions.items()
    }
    peers[PROBA] = lambda: ours.predict_proba(X64)
    peers[SK_PROBA] = lambda: theirs.predict_proba(X64)
    peers[PREDICT] = lambda: ours.predict(X64)
    peers[SK_PREDICT] = lambda: theirs.predict(X64)
    return peers


def cpu_times(peers, repeat, min_time):
    """Median CPU seconds per call of each peer (process time), interleaved."""
    number = {}
    for name, fn in peers.items():
        start = time.process_time()
        fn()
        first = time.process_time() - start
        number[name] = max(1, math.ceil(min_time / max(first, 1e-6)))
    samples = {name: [] for name in peers}
    for _ in range(repeat):
        for name, fn in peers.items():
            start = time.process_time()
            for _ in range(number[name]):
                fn()
            samples[name].append((time.process_time() - start) / number[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def check_outputs(peers, ours, X):
    """The graphs compute what the estimators compute (a benchmark of a wrong
    graph would mean nothing)."""
    rows = len(X)
    label, proba = peers[ORT_OURS_DOUBLE]()
    assert np.array_equal(label, ours.predict(X[:rows]))
    assert np.allclose(proba, ours.predict_proba(X[:rows]), rtol=0, atol=1e-10)


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 7)
    try:
        import onnxruntime  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError as exc:
        print(f"notice: the onnx extra is not installed ({exc}); no table.")
        print(_harness.header(NAME, TITLE))
        return
    if import_classifier() is None:
        return
    ours, theirs, X = make_models()
    times, cpu = {}, {}
    for rows in BATCHES:
        peers = make_peers(ours, theirs, X, rows)
        check_outputs(peers, ours, X[:rows])
        min_time = 0.02 if quick else 0.2
        times[rows] = interleaved(peers, repeat, min_time=min_time)
        cpu[rows] = cpu_times(peers, repeat, min_time)
    table = []
    for name in times[BATCHES[0]]:
        row = [name]
        for rows in BATCHES:
            row += [times[rows][name] * 1e6, cpu[rows][name] * 1e6]
        for rows in BATCHES:
            peer = PAIRS.get(name)
            row.append(None if peer is None else times[rows].spread(name, peer))
        row.append(PAIRS.get(name, ""))
        table.append(row)
    print_table(
        NAME,
        TITLE,
        ["method", "1 row us", "CPU us", "1,000 rows us", "CPU us"]
        + ["1 row " + RATIO, "1,000 rows", "peer"],
        table,
        notes=[
            f"median of {repeat} interleaved rounds; ratios are the median "
            "(min-max) of the per-round ratios against the peer named last",
            "CPU us: the process's CPU time per call (a busy machine inflates it "
            "less than the elapsed time; with --threads 1 both count one thread)",
            "onnxruntime's times include its Python call; float graphs get float32 "
            "rows, the rest float64 rows",
        ],
        targets=[
            Target(
                "one row: skvgrad predict / MLPClassifier predict",
                times[1].spread(PREDICT, SK_PREDICT),
                1.0,
            ),
            Target(
                "one row: skvgrad predict_proba / MLPClassifier predict_proba",
                times[1].spread(PROBA, SK_PROBA),
                1.0,
            ),
            Target(
                "one row: onnxruntime on skvgrad's graph / on MLPClassifier's",
                times[1].spread(ORT_OURS, ORT_SKLEARN),
                1.2,
            ),
        ],
    )
