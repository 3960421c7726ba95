"""Save and load a fitted model with joblib and with skops
=======================================================

A fitted ``MLPAutogradClassifier`` holds only NumPy arrays, lists, numbers and
strings, so it round-trips through both formats unchanged: the loaded model
predicts exactly what the original predicts, which this script checks.

joblib (pickle) is the usual way, but loading a pickle runs whatever code the
file names: load only files you made yourself. skops' format stores the model
as data and refuses to build any type you have not trusted: ask
``skops.io.get_untrusted_types`` what a file contains, read the list, and pass
it as ``trusted=`` only if you expect every type in it.

The figure shows twelve held-out digits, each with the digit that the original,
the joblib-loaded and the skops-loaded model predict.

It needs the ``plot`` and ``persist`` extras (``pip install -e
".[plot,persist]"``). Run it with ``python examples/persistence.py [--output
DIR] [--quick]``: ``--quick`` trains fewer epochs, in seconds; the files go to
DIR (default: ``skvgrad_examples`` in the system's temporary folder), and the
script prints their paths.
"""

# %%
# Options
# -------
import argparse
import tempfile
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skvgrad import MLPAutogradClassifier

parser = argparse.ArgumentParser(
    description="Save and load a fitted model with joblib and with skops"
)
parser.add_argument(
    "--output",
    type=Path,
    default=Path(tempfile.gettempdir()) / "skvgrad_examples",
    metavar="DIR",
    help="folder for the model files and the figure (default: %(default)s)",
)
parser.add_argument("--quick", action="store_true", help="fewer epochs, seconds")
args = parser.parse_args()

# %%
# A fitted model
# --------------
# A fixed budget of epochs is enough to show the round trips.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, random_state=0, stratify=y
)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
clf = MLPAutogradClassifier(
    hidden_layer_sizes=(64,), max_iter=20 if args.quick else 200, random_state=0
).fit(X_train, y_train)
print(f"fitted model: accuracy = {clf.score(X_test, y_test):.3f}")
expected = clf.predict_proba(X_test)
args.output.mkdir(parents=True, exist_ok=True)

# %%
# joblib
# ------
# Fast and general, but never load a file you did not write.
joblib_path = args.output / "model.joblib"
joblib.dump(clf, joblib_path)
from_joblib = joblib.load(joblib_path)
assert np.array_equal(from_joblib.predict_proba(X_test), expected)
assert np.array_equal(from_joblib.predict(X_test), clf.predict(X_test))
print(
    f"joblib: {joblib_path.stat().st_size:,} bytes, identical predictions, "
    f"accuracy = {from_joblib.score(X_test, y_test):.3f}"
)

# %%
# skops
# -----
# Ask what types the file would build, read the list, then trust exactly that.
skops_path = args.output / "model.skops"
sio.dump(clf, skops_path)
untrusted = sio.get_untrusted_types(file=skops_path)
print(f"skops: the file needs these types trusted: {untrusted}")
from_skops = sio.load(skops_path, trusted=untrusted)
assert np.array_equal(from_skops.predict_proba(X_test), expected)
assert np.array_equal(from_skops.predict(X_test), clf.predict(X_test))
print(
    f"skops: {skops_path.stat().st_size:,} bytes, identical predictions, "
    f"accuracy = {from_skops.score(X_test, y_test):.3f}"
)
print(f"Model files saved to {joblib_path.resolve()} and {skops_path.resolve()}")

# %%
# Twelve held-out digits
# ----------------------
# Each with the digit that the original, the joblib-loaded and the
# skops-loaded models predict.
models = {"original": clf, "joblib": from_joblib, "skops": from_skops}
predictions = [model.predict(X_test[:12]) for model in models.values()]
fig, axes = plt.subplots(2, 6, figsize=(9, 3.9), layout="constrained")
for i, ax in enumerate(axes.flat):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=" / ".join(str(p[i]) for p in predictions))
fig.suptitle("Digit predicted by the " + " / ".join(models) + " model")
path = args.output / "persistence.png"
fig.savefig(path, dpi=100)
print(f"Figure saved to {path.resolve()}")
