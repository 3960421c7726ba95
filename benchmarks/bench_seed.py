"""One training step of the seed task, side by side with every peer.

Two moons, hidden (25, 25) logistic, one logistic output, full-batch gradient
descent on the mean log-loss, float64. A step is forward (including the loss
value), backward and the parameter update. All peers start from the same
parameters; after one step their parameters are compared, so a wrong peer shows.
"""

import numpy as np
from sklearn.datasets import make_moons
from sklearn.neural_network import MLPClassifier

from benchmarks._harness import (
    RATIO,
    Target,
    import_torch,
    interleaved,
    print_table,
    quiet,
    ratio,
)

NAME = "seed"
TITLE = "seed task step, two moons, (25, 25) logistic, full batch, float64"
HIDDEN = (25, 25)
LR = 0.1
GENERIC = "skvgrad, generic engine ops"
GRAPH = "skvgrad, generic engine ops on the graph (no replay)"


def init_params(seed=0):
    """Glorot-uniform weights and biases ``[W1, b1, W2, b2, W3, b3]``."""
    rng = np.random.default_rng(seed)
    sizes = [2, *HIDDEN, 1]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(2 / (fan_in + fan_out))  # sklearn's logistic factor
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        params.append(rng.uniform(-bound, bound, fan_out))
    return params


def _descent_peer(value_and_grad, loss, params, X, y):
    """A step that takes ``value_and_grad`` of ``loss``, then ``W - lr * g``."""
    loss_and_grad = value_and_grad(loss)
    state = [p.copy() for p in params]

    def step():
        _, grads = loss_and_grad(state, X, y)
        state[:] = [p - LR * g for p, g in zip(state, grads)]

    return step, lambda: state


def _differentiate(replay):
    """The engine's ``value_and_grad``, traced once and replayed, or on the graph."""
    from skvgrad.engine import value_and_grad
    from skvgrad.engine.replay import replayed

    return replayed if replay else value_and_grad


def skvgrad_generic_peer(params, X, y, replay=True):
    """Generic engine ops: ``matmul``, ``+ bias``, ``sigmoid``, softplus loss."""
    from skvgrad.engine import matmul, sigmoid, softplus

    def loss(params, X, y):
        W1, b1, W2, b2, W3, b3 = params
        h = sigmoid(matmul(X, W1) + b1)
        h = sigmoid(matmul(h, W2) + b2)
        z = matmul(h, W3) + b3
        return (softplus(z) - y * z).mean()

    return _descent_peer(_differentiate(replay), loss, params, X, y)


def skvgrad_peer(params, X, y):
    """skvgrad as its classifier trains: ``nn.dense`` layers, ``nn.log_loss``.

    Both are engine primitives; the loss is traced once and replayed (as the
    estimators train), then ``W - lr * g``.
    """
    from skvgrad.nn import dense, log_loss

    scale = np.asarray(1.0 / len(X))

    def loss(params, X, y):
        W1, b1, W2, b2, W3, b3 = params
        h = dense(X, W1, b1, "logistic")
        h = dense(h, W2, b2, "logistic")
        z = dense(h, W3, b3, "identity")
        return log_loss(z, y, None, "logistic", scale=scale)

    return _descent_peer(_differentiate(True), loss, params, X, y)


def numpy_peer(params, X, y):
    """Hand-written backprop: preallocated buffers, in-place sigmoid.

    The sigmoid is the engine's formula (full relative accuracy in its tail),
    so that both compute the same thing; ``0.5 + 0.5 tanh(x / 2)`` would be
    faster and wrong below x = -38.
    """
    W1, b1, W2, b2, W3, b3 = state = [p.copy() for p in params]
    grads = [np.empty_like(p) for p in state]
    gW1, gb1, gW2, gb2, gW3, gb3 = grads
    n = len(X)
    A1, A2, D, T = (np.empty((n, 25)) for _ in range(4))  # both layers 25 wide
    z, t = np.empty((n, 1)), np.empty((n, 1))
    U = np.empty((n, 25))  # the sigmoid's numerator

    def sigmoid_(a, u):  # max(e, [a >= 0]) / (1 + e), e = exp(-|a|): accurate tail
        np.greater_equal(a, 0, out=u)
        np.abs(a, out=a)
        np.negative(a, out=a)
        np.exp(a, out=a)
        np.maximum(a, u, out=u)
        a += 1
        np.divide(u, a, out=a)

    def backprop_(delta, A):  # delta *= A * (1 - A) = A - A**2
        np.multiply(A, A, out=T)
        np.subtract(A, T, out=T)
        delta *= T

    def step():
        np.matmul(X, W1, out=A1)
        np.add(A1, b1, out=A1)
        sigmoid_(A1, U)
        np.matmul(A1, W2, out=A2)
        np.add(A2, b2, out=A2)
        sigmoid_(A2, U)
        np.matmul(A2, W3, out=z)
        np.add(z, b3, out=z)
        # loss = mean(max(z, 0) + log1p(exp(-|z|)) - y z)
        np.abs(z, out=t)
        np.negative(t, out=t)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        loss = (t.sum() + np.maximum(z, 0).sum() - np.dot(y[:, 0], z[:, 0])) / n
        sigmoid_(z, t)  # z is now p; the output delta is (p - y) / n
        np.subtract(z, y, out=z)
        np.multiply(z, 1.0 / n, out=z)
        np.matmul(A2.T, z, out=gW3)
        np.sum(z, axis=0, out=gb3)
        np.matmul(z, W3.T, out=D)
        backprop_(D, A2)
        np.matmul(A1.T, D, out=gW2)
        np.sum(D, axis=0, out=gb2)
        np.matmul(D, W2.T, out=A2)  # A2 is free: reuse it as the layer-1 delta
        backprop_(A2, A1)
        np.matmul(X.T, A2, out=gW1)
        np.sum(A2, axis=0, out=gb1)
        for p, g in zip(state, grads):
            g *= LR
            p -= g
        return loss

    return step, lambda: state


def autograd_peer(params, X, y):
    """HIPS autograd with the same (stable, accurate) formulation."""
    import autograd.numpy as anp
    from autograd import value_and_grad

    def sigmoid(x):
        return anp.exp(anp.minimum(x, 0)) / (1 + anp.exp(-anp.abs(x)))

    def loss(params, X, y):
        W1, b1, W2, b2, W3, b3 = params
        h = sigmoid(anp.dot(X, W1) + b1)
        h = sigmoid(anp.dot(h, W2) + b2)
        z = anp.dot(h, W3) + b3
        softplus = anp.maximum(z, 0) + anp.log1p(anp.exp(-anp.abs(z)))
        return anp.mean(softplus - y * z)

    return _descent_peer(value_and_grad, loss, params, X, y)


def sklearn_peer(params, X, y):
    """MLPClassifier: one full-batch SGD iteration per ``partial_fit`` call."""
    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation="logistic",
        solver="sgd",
        alpha=0.0,
        batch_size=len(X),
        learning_rate_init=LR,
        momentum=0.0,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
    )
    labels = y[:, 0].astype(int)
    with quiet():
        clf.partial_fit(X, labels, classes=[0, 1])
    for i in range(3):  # start from the shared parameters
        clf.coefs_[i][...] = params[2 * i]
        clf.intercepts_[i][...] = params[2 * i + 1]

    def step():
        with quiet():
            clf.partial_fit(X, labels)

    def state():
        return [p for pair in zip(clf.coefs_, clf.intercepts_) for p in pair]

    return step, state


def torch_peer(torch, params, X, y):
    """PyTorch on CPU, float64, autograd and a manual SGD update."""
    import torch.nn.functional as F

    state = [torch.tensor(p, requires_grad=True) for p in params]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        W1, b1, W2, b2, W3, b3 = state
        h = torch.sigmoid(torch.addmm(b1, Xt, W1))
        h = torch.sigmoid(torch.addmm(b2, h, W2))
        z = torch.addmm(b3, h, W3)
        F.binary_cross_entropy_with_logits(z, yt).backward()
        with torch.no_grad():
            for p in state:
                p.add_(p.grad, alpha=-LR)
                p.grad = None

    return step, lambda: [p.detach().numpy() for p in state]


def make_peers(n, torch):
    """``{name: (step, get_params)}`` for the seed task with ``n`` samples."""
    X, labels = make_moons(n, noise=0.1, random_state=0)
    y = labels.astype(np.float64)[:, np.newaxis]
    params = init_params()
    peers = {
        "skvgrad": skvgrad_peer(params, X, y),
        GENERIC: skvgrad_generic_peer(params, X, y),
        GRAPH: skvgrad_generic_peer(params, X, y, replay=False),
        "hand-written NumPy": numpy_peer(params, X, y),
        "HIPS autograd": autograd_peer(params, X, y),
        "sklearn MLPClassifier": sklearn_peer(params, X, y),
    }
    if torch is not None:
        peers[f"PyTorch {torch.__version__}"] = torch_peer(torch, params, X, y)
    return peers


def check_agreement(peers):
    """Largest parameter difference to the hand-written step after one step."""
    for step, _ in peers.values():
        step()
    reference = peers["hand-written NumPy"][1]()
    return {
        name: max(
            float(np.max(np.abs(np.asarray(a) - b))) for a, b in zip(get(), reference)
        )
        for name, (_, get) in peers.items()
    }


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 7)
    sizes = (100, 1_000) if quick else (100, 10_000)
    torch = import_torch()
    times, notes = {}, []
    for n in sizes:
        peers = make_peers(n, torch)
        diffs = check_agreement(peers)
        worst = max(diffs, key=diffs.get)
        notes.append(
            f"N={n}: after one step from the same parameters, the largest "
            f"difference to hand-written NumPy is {diffs[worst]:.1e} ({worst})"
        )
        steps = {name: step for name, (step, _) in peers.items()}
        times[n] = interleaved(steps, repeat, min_time=0.02 if quick else 0.2)
    rows = []
    for name in times[sizes[0]]:
        row = [name]
        for n in sizes:
            row += [times[n][name] * 1e6, ratio(times[n]["skvgrad"], times[n][name])]
        rows.append(row)
    columns = ["peer"]
    for n in sizes:
        columns += [f"N={n:,} us/step", RATIO]

    def vs(n, prefix, ours="skvgrad"):
        """``ours / peer`` at size n, the peer named by the start of its name."""
        peer = next((p for p in times[n] if p.startswith(prefix)), None)
        return ratio(times[n][ours], times[n].get(peer))

    small, large = sizes
    targets = [
        Target(f"skvgrad / hand-written at N={small:,}", vs(small, "hand"), 1.3),
        Target(f"skvgrad / hand-written at N={large:,}", vs(large, "hand"), 1.1),
        Target(
            f"generic engine ops / hand-written at N={small:,}",
            vs(small, "hand", GENERIC),
            1.3,
        ),
        Target(
            f"generic engine ops / hand-written at N={large:,}",
            vs(large, "hand", GENERIC),
            1.1,
        ),
    ]
    for peer in ("sklearn", "HIPS autograd", "PyTorch"):
        for n in sizes:
            targets.append(Target(f"skvgrad / {peer} at N={n:,}", vs(n, peer), 1, "<"))
    notes.append(
        f"median of {repeat} interleaved rounds; {RATIO} < 1: skvgrad faster; "
        "skvgrad = its fused engine primitives nn.dense and nn.log_loss, traced "
        "once and replayed, as the classifier trains; the generic rows build the "
        "same step from matmul, + bias, sigmoid and a softplus loss, replayed "
        "(engine.replay.replayed) or differentiated on the graph every step "
        "(engine.value_and_grad); every sigmoid is the accurate "
        "exp(min(x, 0)) / (1 + exp(-|x|))"
    )
    print_table(NAME, TITLE, columns, rows, notes, targets)
