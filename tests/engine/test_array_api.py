"""The engine on other Array API namespaces: PyTorch and array-api-strict.

Values and gradients come back in the namespace and on the device of the
arguments, computed there, and equal to the NumPy engine's (a Hypothesis
differential test over random programs, bounded by the profile of
``tests/conftest.py``) and to ``torch.autograd``'s. Mixing namespaces or
devices raises, naming both.
"""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, note, settings
from numpy.testing import assert_allclose

from skvgrad import engine
from skvgrad.engine import Tensor

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
xps = pytest.importorskip(
    "array_api_strict", reason="array-api-strict is not installed"
)


def _torch(a):
    return torch.asarray(np.asarray(a))


def _strict(a):
    return xps.asarray(np.asarray(a))


def _strict_device1(a):
    return xps.asarray(np.asarray(a), device=xps.Device("device1"))


NAMESPACES = {"torch": _torch, "strict": _strict, "strict-device1": _strict_device1}


def _numpy(a):
    """An array of any namespace as NumPy (array-api-strict's device1 refuses
    np.asarray: through DLPack from its CPU device)."""
    if isinstance(a, np.ndarray):
        return a
    if isinstance(a, torch.Tensor):
        return a.numpy()
    return np.from_dlpack(xps.asarray(a, device=xps.Device("CPU_DEVICE")))


def _assert_same_place(result, like):
    """``result`` is of the namespace, device and dtype of ``like``."""
    assert type(result) is type(like)
    assert result.dtype == like.dtype
    if isinstance(like, torch.Tensor):
        assert result.device == like.device
    else:
        assert result.device == like.device


def _network_loss(params, X, y):
    """A small network's loss written with engine functions and operators."""
    h = engine.tanh(engine.matmul(X, params["W1"]) + params["b1"])
    z = h @ params["W2"]
    return (engine.log_softmax(z, axis=1) * y).sum() * -1.0 + (
        params["W1"] ** 2
    ).sum() * 0.01


def _network_data(convert, dtype=np.float64):
    rng = np.random.RandomState(0)
    params = {
        "W1": rng.normal(size=(4, 5)),
        "b1": rng.normal(size=5),
        "W2": rng.normal(size=(5, 3)),
    }
    X = rng.normal(size=(7, 4))
    y = np.eye(3)[rng.randint(3, size=7)]
    params = {k: convert(v.astype(dtype)) for k, v in params.items()}
    return params, convert(X.astype(dtype)), convert(y.astype(dtype))


@pytest.mark.parametrize("namespace", list(NAMESPACES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_and_grad_come_back_in_the_namespace_equal_to_numpy(namespace, dtype):
    convert = NAMESPACES[namespace]
    value, grads = engine.value_and_grad(_network_loss)(*_network_data(convert, dtype))
    ref_value, ref = engine.value_and_grad(_network_loss)(
        *_network_data(np.asarray, dtype)
    )
    tol = 1e-12 if dtype == np.float64 else 1e-5
    params, _, _ = _network_data(convert, dtype)
    _assert_same_place(value, params["W1"])
    assert_allclose(_numpy(value), ref_value, rtol=tol)
    for key in ref:
        _assert_same_place(grads[key], params[key])
        assert_allclose(_numpy(grads[key]), ref[key], rtol=tol, atol=tol)


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_vjp_jacobian_and_elementwise_grad_in_the_namespace(namespace):
    convert = NAMESPACES[namespace]
    x = np.array([0.5, -1.0, 2.0])
    A = np.arange(6.0).reshape(2, 3)

    def fun(v):
        return engine.sigmoid(v) * 2.0

    value, pull = engine.vjp(fun, convert(x))
    (g,) = pull(convert(np.array([1.0, 10.0, 100.0])))
    ref_value, ref_pull = engine.vjp(fun, x)
    _assert_same_place(g, convert(x))
    assert_allclose(_numpy(value), ref_value)
    assert_allclose(_numpy(g), ref_pull(np.array([1.0, 10.0, 100.0]))[0])
    jac = engine.jacobian(lambda v: engine.matmul(convert(A), v))(convert(x))
    _assert_same_place(jac, convert(x))
    assert_allclose(_numpy(jac), A)
    d = engine.elementwise_grad(engine.tanh)(convert(x))
    assert_allclose(_numpy(d), engine.elementwise_grad(engine.tanh)(x))
    assert_allclose(
        _numpy(engine.grad(fun_sum := lambda v: fun(v).sum())(convert(x))),
        engine.grad(fun_sum)(x),
    )


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_constants_of_the_namespace_work_on_either_side(namespace):
    convert = NAMESPACES[namespace]
    W, mask = np.arange(6.0).reshape(2, 3), np.array([1.0, 0.0, 1.0])

    def fun(t, W, mask):
        if namespace == "torch":  # PyTorch defers to the Tensor's operators
            return (W @ t).sum() + (t * mask).sum() + (mask * t).sum() + (t @ W.T).sum()
        # array-api-strict raises rather than defer: the engine's functions
        left = engine.matmul(W, t) + engine.multiply(mask, t)[:2]
        return left.sum() + (t * mask).sum() + (t @ W.T).sum()

    t = np.array([1.0, 2.0, 3.0])
    g = engine.grad(fun)(convert(t), convert(W), convert(mask))
    _assert_same_place(g, convert(t))
    assert_allclose(_numpy(g), engine.grad(fun)(t, W, mask))
    plain = engine.exp(convert(np.zeros(2)))  # plain in, plain out, in the namespace
    _assert_same_place(plain, convert(np.zeros(2)))


def test_a_tensor_backward_fills_grad_in_the_namespace():
    t = Tensor(torch.tensor([1.0, 2.0], dtype=torch.float64))
    (t * t).backward(torch.tensor([1.0, 10.0], dtype=torch.float64))
    assert isinstance(t.grad, torch.Tensor)
    assert t.grad.tolist() == [2.0, 40.0]
    with pytest.raises(TypeError, match="numpy and torch"):
        Tensor(torch.ones(2, dtype=torch.float64)).sum().backward(np.ones(()))


@pytest.mark.parametrize(
    "fun",
    [
        lambda t, c: t * c,
        lambda t, c: engine.multiply(c, t),
        lambda t, c: engine.matmul(c, t),
        lambda t, c: engine.maximum(t, c),
        lambda t, c: engine.where(t > 0, t, c),
    ],
)
def test_mixing_namespaces_raises_naming_both(fun):
    # (array-api-strict's own operators refuse a Tensor on their right with a
    # TypeError of theirs: the functions are the way to put a constant first.)
    torch_tensor = Tensor(torch.ones(2, dtype=torch.float64))
    numpy_tensor = Tensor(np.ones(2))
    with pytest.raises(TypeError, match="numpy and torch"):
        fun(torch_tensor, np.ones(2))
    with pytest.raises(TypeError, match="numpy and torch"):
        fun(numpy_tensor, torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="array_api_strict and torch"):
        fun(torch_tensor, xps.ones(2, dtype=xps.float64))
    with pytest.raises(TypeError, match="array_api_strict and torch"):
        fun(Tensor(xps.ones(2, dtype=xps.float64)), torch.ones(2, dtype=torch.float64))


def test_mixing_devices_raises_naming_both():
    t = Tensor(xps.ones(2, dtype=xps.float64))
    other = xps.ones(2, dtype=xps.float64, device=xps.Device("device1"))
    with pytest.raises(ValueError, match="different devices.*device1"):
        t * other


def test_numpy_only_operations_and_traces_refuse_other_namespaces():
    x = torch.ones((2, 2), dtype=torch.float64)
    with pytest.raises(TypeError, match="einsum is not available on torch arrays"):
        engine.grad(lambda v: engine.einsum("ij->", v))(x)
    with pytest.raises(TypeError, match="cannot be traced"):
        engine.trace(lambda v: engine.exp(v).sum(), x)
    with pytest.raises(TypeError, match="integer arrays"):
        engine.grad(lambda v: v[torch.tensor([0, 0])].sum())(x)


def test_gradients_equal_torch_autograd():
    rng = np.random.RandomState(1)
    x = rng.normal(size=(6, 4))
    W = rng.normal(size=(4, 3))

    def ours(w, x):
        z = x @ w
        return (engine.softplus(z) - engine.log_softmax(z, axis=1)).sum() + engine.std(
            engine.sigmoid(z)
        )

    def reference(w, x):
        z = x @ w
        return (
            torch.nn.functional.softplus(z) - torch.log_softmax(z, dim=1)
        ).sum() + torch.std(torch.sigmoid(z), correction=0)

    xt = torch.asarray(x)
    wt = torch.asarray(W).requires_grad_(True)
    reference(wt, xt).backward()
    g = engine.grad(ours)(torch.asarray(W), xt)
    assert isinstance(g, torch.Tensor)
    assert_allclose(g.numpy(), wt.grad.numpy(), rtol=1e-12)
    h = engine.grad(lambda x: engine.relu(x @ torch.asarray(W)).max(axis=0).sum())(xt)
    xr = xt.clone().requires_grad_(True)
    torch.relu(xr @ torch.asarray(W)).max(dim=0).values.sum().backward()
    assert_allclose(h.numpy(), xr.grad.numpy(), rtol=1e-12)


# Differential: random programs on NumPy and on the other namespaces --------------

UNARY = [
    "exp",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "log_sigmoid",
    "square",
    "abs",
    "sin",
    "cos",
    "negative",
]
BINARY = ["add", "subtract", "multiply", "maximum", "minimum"]


@st.composite
def programs(draw):
    """A chain of steps on a (3, 4) input: each is (kind, name, argument)."""
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "linear", "shape"]))
        if kind == "unary":
            steps.append((kind, draw(st.sampled_from(UNARY)), None))
        elif kind == "binary":
            shape = draw(st.sampled_from([(), (4,), (3, 1), (3, 4), "number"]))
            name = draw(st.sampled_from(BINARY))
            steps.append((kind, name, (shape, draw(st.booleans()))))
        elif kind == "reduce":
            name = draw(st.sampled_from(["sum", "mean", "max", "logsumexp"]))
            steps.append((kind, name, None))
        elif kind == "linear":
            steps.append((kind, draw(st.sampled_from(["matmul", "softmax"])), None))
        else:
            steps.append((kind, draw(st.sampled_from(["T", "reshape", "where"])), None))
    return steps


def _apply(steps, x, convert, rng_seed):
    rng = np.random.RandomState(rng_seed)
    v = x
    for kind, name, arg in steps:
        if kind == "unary":
            if name in ("exp", "square"):  # bounded inputs: no overflow in chains
                v = engine.tanh(v)
            v = getattr(engine, name)(v) if name != "negative" else -v
        elif kind == "binary":
            shape, left = arg
            c = rng.uniform(-2, 2) if shape == "number" else rng.uniform(-2, 2, shape)
            c = c if shape == "number" else convert(c)
            op = getattr(engine, name)
            v = op(c, v) if left else op(v, c)  # the functions: strict never defers
        elif kind == "reduce":
            # keep 2-D: reduce along the last axis with keepdims
            if name == "logsumexp":
                v = engine.logsumexp(v, axis=-1, keepdims=True) * engine.sigmoid(v)
            else:
                v = getattr(engine, name)(v, axis=-1, keepdims=True) + v
        elif kind == "linear":
            if name == "matmul":
                n = v.shape[-1]
                v = v @ convert(rng.uniform(-1, 1, (n, n)))
            else:
                v = engine.softmax(v, axis=-1)
        elif name == "T":
            v = v.T.T * 1.0
        elif name == "reshape":
            v = engine.reshape(v, (-1,)).reshape(v.shape)
        else:
            v = engine.where(v > 0, v, v * 0.5)
    return (v * v).sum()


@pytest.mark.parametrize("namespace", list(NAMESPACES))
@settings(max_examples=settings().max_examples // 3)  # scaled by the profile
@given(steps=programs(), seed=st.integers(0, 2**16))
def test_random_programs_have_the_numpy_engines_gradients(namespace, steps, seed):
    note(repr(steps))
    convert = NAMESPACES[namespace]
    x = np.random.RandomState(seed).uniform(-2, 2, (3, 4))
    ref_value, ref = engine.value_and_grad(
        lambda v: _apply(steps, v, np.asarray, seed)
    )(x)
    value, g = engine.value_and_grad(lambda v: _apply(steps, v, convert, seed))(
        convert(x)
    )
    _assert_same_place(g, convert(x))
    scale = max(1.0, float(np.abs(ref).max()))
    assert_allclose(_numpy(value), ref_value, rtol=1e-10)
    assert_allclose(_numpy(g), ref, rtol=1e-10, atol=1e-10 * scale)
