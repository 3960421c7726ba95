"""Engine overhead: a chain of 1,000 tiny elementwise ops, forward plus backward.

On a (3,) array the arithmetic is nothing; what is left is the cost of
recording a node and of calling its VJP: microseconds per op. A second skvgrad
row switches Python's cyclic garbage collector off during the chain, to show
how much of the cost is the collector traversing the graph's objects; a third
calls NumPy's own ``np.tanh`` on the Tensor, which NumPy hands to the engine
(``__array_ufunc__``): the price of that dispatch, for a third of the ops.
"""

import gc

import numpy as np

from benchmarks._harness import RATIO, Target, import_torch, interleaved, print_table

NAME = "engine_overhead"
TITLE = "chain of 1,000 elementwise ops on a (3,) array, forward + backward"
N_OPS = 1_000
SKVGRAD = "skvgrad (Tensor.backward)"


def chain(x, tanh):
    """``* 1.0001``, ``tanh``, ``+ 0.1`` in turn, ``N_OPS`` ops in all."""
    for i in range(N_OPS):
        if i % 3 == 0:
            x = x * 1.0001
        elif i % 3 == 1:
            x = tanh(x)
        else:
            x = x + 0.1
    return x


def make_peers(torch):
    from autograd import grad as autograd_grad
    from autograd import numpy as anp

    from skvgrad.engine import Tensor, tanh

    x0 = np.array([0.1, -0.2, 0.3])

    def skvgrad_step():
        x = Tensor(x0)
        chain(x, tanh).sum().backward()
        return x.grad

    def skvgrad_step_without_gc():
        gc.disable()
        try:
            return skvgrad_step()
        finally:
            gc.enable()

    def skvgrad_numpy_step():
        x = Tensor(x0)
        chain(x, np.tanh).sum().backward()
        return x.grad

    autograd_fun = autograd_grad(lambda x: anp.sum(chain(x, anp.tanh)))

    peers = {
        SKVGRAD: skvgrad_step,
        "skvgrad, garbage collector off": skvgrad_step_without_gc,
        "skvgrad, np.tanh dispatched to the engine": skvgrad_numpy_step,
        "HIPS autograd (grad)": lambda: autograd_fun(x0),
    }
    if torch is not None:

        def torch_step():
            x = torch.tensor(x0, requires_grad=True)
            chain(x, torch.tanh).sum().backward()
            return x.grad

        peers[f"PyTorch {torch.__version__}"] = torch_step
    peers["NumPy, forward only (no graph)"] = lambda: chain(x0, np.tanh)
    return peers


def run(quick=False, repeat=None):
    repeat = repeat or (1 if quick else 7)
    peers = make_peers(import_torch())
    times = interleaved(peers, repeat, min_time=0.02 if quick else 0.1)
    ours = times[SKVGRAD]
    rows = [[name, t / N_OPS * 1e6, ours / t] for name, t in times.items()]
    print_table(
        NAME,
        TITLE,
        ["peer", "us/op", RATIO],
        rows,
        notes=[f"median of {repeat} interleaved rounds"],
        targets=[Target("skvgrad us/op", ours / N_OPS * 1e6, 2.0)],
    )
