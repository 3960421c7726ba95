"""GEMM-bound training step: how close the engine gets to BLAS.

Batch 512, 1024 input features, hidden (1024, 1024) relu, 10 classes, float32,
softmax cross-entropy. A step has 8 matrix products: 3 forward and 5 backward
(the input's gradient is not needed). Achieved FLOP/s counts 2 m n k per
product; the reference is ``np.matmul`` alone on the same 8 shapes, into
preallocated outputs.
"""

import numpy as np

from benchmarks._harness import (
    RATIO,
    Target,
    import_classifier,
    import_torch,
    interleaved,
    print_table,
    quiet,
    ratio,
    speed_spread,
)

NAME = "gemm"
TITLE = "GEMM-bound training step, wide relu net, 10 classes, float32"
LR = 1e-3
N_CLASSES = 10


def gemm_shapes(batch, n_in, width):
    """``(m, k, n, a_transposed, b_transposed)`` of the 8 products of one step.

    The flags give the operand layouts a step has: weight gradients multiply a
    transposed activation, input gradients a transposed weight (BLAS reads
    both without a copy).
    """
    return [
        (batch, n_in, width, False, False),  # X @ W1
        (batch, width, width, False, False),  # H1 @ W2
        (batch, width, N_CLASSES, False, False),  # H2 @ W3
        (width, batch, N_CLASSES, True, False),  # H2.T @ D3 -> grad W3
        (batch, N_CLASSES, width, False, True),  # D3 @ W3.T -> grad H2
        (width, batch, width, True, False),  # H1.T @ D2 -> grad W2
        (batch, width, width, False, True),  # D2 @ W2.T -> grad H1
        (n_in, batch, width, True, False),  # X.T @ D1 -> grad W1
    ]


def matmul_only(shapes, rng):
    """The 8 products alone, into preallocated outputs, in a step's layouts."""

    def operand(rows, cols, transposed):
        if transposed:
            return rng.standard_normal((cols, rows), dtype=np.float32).T
        return rng.standard_normal((rows, cols), dtype=np.float32)

    operands = [
        (operand(m, k, ta), operand(k, n, tb), np.empty((m, n), np.float32))
        for m, k, n, ta, tb in shapes
    ]

    def step():
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    return step


def init(n_in, width, rng):
    params = []
    for fan_in, fan_out in [(n_in, width), (width, width), (width, N_CLASSES)]:
        bound = np.sqrt(6 / (fan_in + fan_out))
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(np.zeros(fan_out, np.float32))
    return params


def engine_step(params, X, Y):
    from skvgrad.engine import log_softmax, matmul, relu, value_and_grad

    def loss(params, X, Y):
        W1, b1, W2, b2, W3, b3 = params
        h = relu(matmul(X, W1) + b1)
        h = relu(matmul(h, W2) + b2)
        z = matmul(h, W3) + b3
        return -(log_softmax(z, axis=1) * Y).sum() / len(X)

    loss_and_grad = value_and_grad(loss)
    state = [p.copy() for p in params]

    def step():
        _, grads = loss_and_grad(state, X, Y)
        state[:] = [p - LR * g for p, g in zip(state, grads)]
        assert state[0].dtype == np.float32

    return step


def partial_fit_step(cls, X, y, width):
    clf = cls(hidden_layer_sizes=(width, width), solver="adam", batch_size=len(X))
    clf.partial_fit(X, y, classes=np.arange(N_CLASSES))

    def step():
        with quiet():
            clf.partial_fit(X, y)

    return step


def torch_step(torch, params, X, y):
    import torch.nn.functional as F

    state = [torch.tensor(p, requires_grad=True) for p in params]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        W1, b1, W2, b2, W3, b3 = state
        h = torch.relu(torch.addmm(b1, Xt, W1))
        h = torch.relu(torch.addmm(b2, h, W2))
        F.cross_entropy(torch.addmm(b3, h, W3), yt).backward()
        with torch.no_grad():
            for p in state:
                p.add_(p.grad, alpha=-LR)
                p.grad = None

    return step


MATMUL = "np.matmul alone (8 products)"
CLASSIFIER = "MLPAutogradClassifier.partial_fit (adam)"


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 5)
    batch, n_in, width = (64, 128, 128) if quick else (512, 1024, 1024)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, n_in), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, batch)
    Y = np.eye(N_CLASSES, dtype=np.float32)[y]
    params = init(n_in, width, rng)
    shapes = gemm_shapes(batch, n_in, width)
    flops = sum(2 * m * k * n for m, k, n, _, _ in shapes)

    peers = {
        MATMUL: matmul_only(shapes, rng),
        "skvgrad engine step (SGD)": engine_step(params, X, Y),
    }
    ours = import_classifier()
    if ours is not None:
        peers[CLASSIFIER] = partial_fit_step(ours, X, y, width)
    from sklearn.neural_network import MLPClassifier

    peers["MLPClassifier.partial_fit (adam)"] = partial_fit_step(
        MLPClassifier, X, y, width
    )
    torch = import_torch()
    if torch is not None:
        peers[f"PyTorch {torch.__version__} step (SGD)"] = torch_step(
            torch, params, X, y
        )
    times = interleaved(peers, repeat, min_time=0.02 if quick else 0.5)
    floor = times[MATMUL]
    skv = times["skvgrad engine step (SGD)"]
    rows = [
        [name, t * 1e3, flops / t / 1e9, 100 * floor / t, ratio(skv, t)]
        for name, t in times.items()
    ]
    print_table(
        NAME,
        TITLE,
        ["peer", "ms/step", "GFLOP/s", "% of np.matmul", RATIO],
        rows,
        notes=[
            f"batch {batch}, {n_in} inputs, hidden ({width}, {width}): "
            f"{flops / 1e9:.2f} GFLOP per step; median of {repeat} interleaved "
            "rounds; skvgrad = the engine step",
            "the partial_fit rows include input validation and Adam's update",
        ],
        targets=[
            Target(
                "engine step FLOP/s / np.matmul FLOP/s",
                speed_spread(times, "skvgrad engine step (SGD)", MATMUL),
                0.9,
                ">=",
            ),
            Target(
                "MLPAutogradClassifier.partial_fit FLOP/s / np.matmul FLOP/s",
                speed_spread(times, CLASSIFIER, MATMUL),
                0.8,
                ">=",
            ),
        ],
    )
