"""Serve a pipeline with onnxruntime, custom activation included
==============================================================

A pipeline of a scaler and an ``MLPAutogradClassifier`` whose hidden
activation is a function of your own is converted to ONNX with skl2onnx
(``import skvgrad.onnx`` registers the converter), saved, and served with
onnxruntime. The activation is traced through the engine into ONNX nodes, so
the file needs neither Python nor skvgrad to run. The script checks that
onnxruntime's labels equal ``predict`` and its probabilities
``predict_proba``, and times both for one row and for 1,000 rows.

It needs the ``plot`` and ``onnx`` extras (``pip install -e
".[plot,onnx]"``). Run it with ``python examples/onnx_serving.py [--output
DIR] [--quick]``. The ONNX file
and the figure go to DIR (default: ``skvgrad_examples`` in the system's
temporary folder), and the script prints their paths.
"""

# %%
# The command line: where the files go, and a quick mode for the gallery.

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skvgrad.onnx  # noqa: F401  (registers the converters with skl2onnx)
from skvgrad import MLPAutogradClassifier, engine

parser = argparse.ArgumentParser(
    description="Convert a pipeline to ONNX and serve it with onnxruntime"
)
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the ONNX file and the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer epochs, seconds")
if __name__ == "__main__":  # run as a script, or by the gallery: read the options
    args = parser.parse_args()
else:  # imported: the defaults, quickly
    args = parser.parse_args(["--quick"])

# %%
# Train a pipeline whose activation is your own
# ---------------------------------------------
# A "kinked" swish: ``z * sigmoid(z)`` above 0, a tenth of it below. The
# branch is ``engine.where`` on a comparison, which stays a branch in the
# ONNX graph: each value takes its own side, whatever the rows the graph was
# converted on.


def kinked_swish(z):
    """``z * sigmoid(z)``, scaled by 0.1 where ``z`` is negative."""
    swish = z * engine.sigmoid(z)
    return engine.where(z > 0, swish, 0.1 * swish)


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed budget
pipe = make_pipeline(
    StandardScaler(),
    MLPAutogradClassifier(
        hidden_layer_sizes=(64,),
        activation=kinked_swish,
        max_iter=30 if args.quick else 200,
        random_state=0,
    ),
).fit(X_train, y_train)
print(f"pipeline: accuracy = {pipe.score(X_test, y_test):.3f}")

# %%
# Convert and save
# ----------------
# The sample passed to ``to_onnx`` sets the input's type: float32 rows give a
# float graph (what runtimes serve fastest), float64 rows a double graph.
# ``zipmap=False`` makes the probabilities a plain (n, 10) tensor.

X_test32 = X_test.astype(np.float32)
onx = to_onnx(pipe, X_test32[:1], options={"zipmap": False})
args.output.mkdir(parents=True, exist_ok=True)
path = args.output / "pipeline.onnx"
path.write_bytes(onx.SerializeToString())
print(f"graph: {', '.join(sorted({node.op_type for node in onx.graph.node}))}")
print(f"Model file saved to {path.resolve()}")

# %%
# Serve it, and compare
# ---------------------
# onnxruntime needs only the file. Its labels are ``predict``'s, and its
# probabilities agree with ``predict_proba`` to float32's precision (a double
# graph agrees to 1e-10).

session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
label, proba = session.run(None, {"X": X_test32})
expected = pipe.predict_proba(X_test32)
print(f"onnxruntime: accuracy = {np.mean(label == y_test):.3f}")
print(f"labels equal predict: {np.array_equal(label, pipe.predict(X_test32))}")
print(f"largest probability difference: {np.abs(proba - expected).max():.1e}")

onx64 = to_onnx(pipe, X_test[:1], options={"zipmap": False})
session64 = ort.InferenceSession(
    onx64.SerializeToString(), providers=["CPUExecutionProvider"]
)
_, proba64 = session64.run(None, {"X": X_test})
difference = np.abs(proba64 - pipe.predict_proba(X_test)).max()
print(f"double graph, largest probability difference: {difference:.1e}")

# %%
# Latency
# -------
# One row, as a web service sees it, and 1,000 rows. The figures are the
# median of several rounds; on a busy machine they vary.


def latency(function, rounds):
    """Median seconds of one call of ``function``, over ``rounds`` rounds."""
    function()  # warm-up
    times = []
    for _ in range(rounds):
        calls = 20
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


rounds = 5 if args.quick else 30
rows = np.resize(X_test, (1000, X_test.shape[1]))
results = {}
for n, batch in [(1, X_test[:1]), (1000, rows)]:
    batch32 = batch.astype(np.float32)
    results[n] = {
        "onnxruntime": latency(lambda b=batch32: session.run(None, {"X": b}), rounds),
        "predict_proba": latency(lambda b=batch: pipe.predict_proba(b), rounds),
    }
    ort_us, numpy_us = (1e6 * t for t in results[n].values())
    print(
        f"{n:>5} row(s): onnxruntime {ort_us:8.1f} us, predict_proba {numpy_us:8.1f} us"
    )

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for ax, (n, timings) in zip(axes, results.items()):
    names = list(timings)
    bars = ax.barh(names, [1e6 * timings[name] for name in names], color=["C0", "C1"])
    ax.bar_label(bars, fmt="%.0f µs", padding=3)
    ax.margins(x=0.25)
    ax.set(xlabel="microseconds per call", title="1 row" if n == 1 else f"{n:,} rows")
fig.suptitle("The same pipeline: onnxruntime on its ONNX file, and in Python")
figure = args.output / "onnx_serving.png"
fig.savefig(figure, dpi=100)
print(f"Figure saved to {figure.resolve()}")
