"""A vectorized reverse-mode automatic differentiation engine on NumPy.

One graph node per array operation, one vector-Jacobian product per primitive.
Write plain NumPy code on :class:`Tensor` objects (``np.exp(t)``, ``t @ W``,
``np.sum(t)``, ``t.exp().sum()``) or use the functions here; :func:`grad` and
:func:`value_and_grad` differentiate it. First-order derivatives only:
``grad(grad(f))`` raises NotImplementedError.

Modules: :mod:`~skvgrad.engine.tensor` (the Tensor, ``primitive``, the backward
pass), :mod:`~skvgrad.engine.kernels` (NumPy activation kernels),
:mod:`~skvgrad.engine.ops` (the primitives and composites, Tensor operators and
methods), :mod:`~skvgrad.engine.numpy_api` (NumPy's dispatch protocols),
:mod:`~skvgrad.engine.autodiff` (the function transformations),
:mod:`~skvgrad.engine.tracing` (the record of the primitives a function runs)
and :mod:`~skvgrad.engine.replay` (traced functions run without a graph).
"""

from skvgrad.engine import numpy_api  # noqa: F401  (attaches NumPy's protocols)
from skvgrad.engine.autodiff import (
    check_grad,
    elementwise_grad,
    grad,
    jacobian,
    value_and_grad,
    vjp,
)
from skvgrad.engine.ops import *  # noqa: F403  (the operations: ops.__all__)
from skvgrad.engine.ops import __all__ as _operations
from skvgrad.engine.replay import replayed
from skvgrad.engine.tensor import Tensor, primitive
from skvgrad.engine.tracing import Trace, TraceError, trace

__all__ = [
    "Tensor",
    "primitive",
    "grad",
    "value_and_grad",
    "elementwise_grad",
    "vjp",
    "jacobian",
    "check_grad",
    "trace",
    "replayed",
    "Trace",
    "TraceError",
    *_operations,
]
