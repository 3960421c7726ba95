"""Training on data bigger than memory: dask arrays through partial_fit
======================================================================

Data that does not fit in memory can still train an MLP: keep it as a dask
array (from files, a database, or generated lazily as here), and stream it
through ``partial_fit`` one block of rows at a time. Each ``partial_fit`` call
is one pass over its block with the optimizer's state carried over, so an epoch
is a loop over the blocks, and only one block is ever in memory. Scores are
computed out of core too, by dask's own reductions over the predictions of
each block.

Nothing here is specific to skvgrad beyond ``partial_fit``: the blocks come
from dask's ``to_delayed``, the progress bar from tqdm. A dask dataframe works
the same way through ``df.to_dask_array(lengths=True)``.

The script trains ``MLPAutogradClassifier`` and ``MLPAutogradRegressor`` on a
lazily generated data set, prints the held-out scores and compares the
process's peak memory with the size of the data.

It needs the ``plot``, ``distributed`` and ``progress`` extras (``pip install
-e ".[plot,distributed,progress]"``). Run it with ``python
examples/out_of_core_dask.py [--rows N] [--output DIR] [--quick]``:
``--quick`` uses 20,000 rows instead of 4 million; the figure of the training
loss block by block goes to DIR (default: ``skvgrad_examples`` in the
system's temporary folder), and the script prints its path.
"""

# %%
# The data, generated lazily
# --------------------------
# Nothing is computed until a block is asked for.

import argparse
import resource
import sys
import tempfile
from pathlib import Path

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor

N_FEATURES = 40


def make_data(n_rows, block_rows, seed):
    """A lazy (X, y_class, y_value) of ``n_rows``, in blocks of ``block_rows``."""
    rs = da.random.RandomState(seed)
    X = rs.normal(size=(n_rows, N_FEATURES), chunks=(block_rows, N_FEATURES))
    w = np.random.default_rng(0).normal(size=N_FEATURES) / np.sqrt(N_FEATURES)
    signal = da.tanh(X @ w) + 0.3 * X[:, 0] * X[:, 1]
    noise = rs.normal(scale=0.2, size=n_rows, chunks=block_rows)
    y_value = signal + noise
    y_class = (y_value > 0).astype(int)
    return X, y_class, y_value


# %%
# Training block by block
# -----------------------
# ``to_delayed`` gives the row blocks; each is computed, passed to
# ``partial_fit`` and dropped before the next.
def blocks(*arrays):
    """The row blocks of dask arrays, computed one at a time as NumPy arrays."""
    parts = [a.to_delayed().ravel() for a in arrays]
    for block in zip(*parts):
        yield dask.compute(*block)


def fit_out_of_core(estimator, X, y, *, epochs=1, classes=None, progress=False):
    """Train ``estimator`` with ``partial_fit`` on each block of (X, y), in turn.

    Returns the training loss after each block (each ``partial_fit`` call).

    Parameters
    ----------
    estimator : MLPAutogradClassifier or MLPAutogradRegressor
        A stochastic-solver estimator; it keeps its state between blocks.
    X, y : dask arrays
        Chunked along the rows only, with the same row chunks.
    epochs : int
        Passes over all the blocks.
    classes : array-like, optional
        Every class (a classifier's first ``partial_fit`` needs them).
    progress : bool
        Show a tqdm progress bar of the blocks.
    """
    kwargs = {} if classes is None else {"classes": classes}
    n_blocks = X.numblocks[0]
    losses = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * n_blocks, desc=type(estimator).__name__)
    for _ in range(epochs):
        for X_block, y_block in blocks(X, y):
            estimator.partial_fit(X_block, y_block, **kwargs)
            losses.append(estimator.loss_)
            if bar is not None:
                bar.set_postfix(loss=f"{estimator.loss_:.4f}", refresh=False)
                bar.update()
    if bar is not None:
        bar.close()
    return losses


# %%
# Scoring out of core
# -------------------
# ``map_blocks`` predicts block by block; dask's reductions add up the score.
def score_out_of_core(estimator, X, y):
    """Accuracy (classifier) or R² (regressor), reduced by dask block by block."""
    predictions = X.map_blocks(estimator.predict, drop_axis=1, dtype=y.dtype)
    if hasattr(estimator, "classes_"):
        return float((predictions == y).mean().compute())
    residual = ((y - predictions) ** 2).sum()
    total = ((y - y.mean()) ** 2).sum()
    residual, total = dask.compute(residual, total)
    return float(1 - residual / total)


def peak_memory_mib():
    """The process's peak resident memory so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


# %%
# Both estimators on the stream
# -----------------------------
# Two epochs over the blocks for each. The functions above are imported by
# skvgrad's own tests, so the run is guarded: it happens when the script runs,
# not when it is imported.
if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Train on dask arrays bigger than memory with partial_fit"
    )
    parser.add_argument("--rows", type=int, default=4_000_000, help="training rows")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skvgrad_examples",
        metavar="DIR",
        help="folder for the figure (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 rows, seconds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args()
    n_rows = 20_000 if args.quick else args.rows
    block_rows = max(n_rows // 40, 500)
    X, y_class, y_value = make_data(n_rows, block_rows, seed=0)
    X_test, y_class_test, y_value_test = make_data(n_rows // 10, block_rows, seed=1)
    size_mib = (X.nbytes + y_class.nbytes + y_value.nbytes) / 2**20
    print(
        f"data: {n_rows:,} rows x {N_FEATURES} features, {size_mib:,.0f} MiB, "
        f"in {X.numblocks[0]} blocks of {block_rows:,} rows"
    )

    params = dict(hidden_layer_sizes=(64,), learning_rate_init=0.003, random_state=0)
    progress = not args.no_progress
    classifier = MLPAutogradClassifier(**params)
    classifier_losses = fit_out_of_core(
        classifier, X, y_class, epochs=2, classes=[0, 1], progress=progress
    )
    regressor = MLPAutogradRegressor(**params)
    regressor_losses = fit_out_of_core(
        regressor, X, y_value, epochs=2, progress=progress
    )
    accuracy = score_out_of_core(classifier, X_test, y_class_test)
    r2 = score_out_of_core(regressor, X_test, y_value_test)
    print(f"MLPAutogradClassifier held-out accuracy {accuracy:.3f}")
    print(f"MLPAutogradRegressor held-out R2 {r2:.3f}")
    print(f"peak memory {peak_memory_mib():,.0f} MiB for {size_mib:,.0f} MiB of data")

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.plot(classifier_losses, label="MLPAutogradClassifier (log-loss)")
    ax.plot(regressor_losses, label="MLPAutogradRegressor (squared error / 2)")
    ax.axvline(X.numblocks[0] - 0.5, color="0.7", ls=":", label="second epoch")
    ax.set(xlabel="block (one partial_fit call)", ylabel="training loss")
    ax.set_title(f"{n_rows:,} rows streamed in blocks of {block_rows:,}")
    ax.legend()
    fig.tight_layout()
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "out_of_core_dask.png"
    fig.savefig(path, dpi=100)
    print(f"Figure saved to {path}")
