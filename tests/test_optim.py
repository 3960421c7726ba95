import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import rosen, rosen_der
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from skvgrad.optim import (
    LEARNING_RATE_SCHEDULES,
    SGD,
    Adam,
    AdamW,
    cosine_schedule,
    coslog_schedule,
    lbfgs,
)

SHAPES = [(3, 4), (4,), (4, 2), (2,)]


def make_arrays(rng, dtype=np.float64, shapes=SHAPES):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def read_only(arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


def run_against_oracle(ours, theirs, rng, n_steps=10, end_epoch=None):
    """Step both optimizers on the same random grads, comparing trajectories."""
    params = make_arrays(rng)
    oracle_params = [p.copy() for p in params]
    for step in range(n_steps):
        grads = make_arrays(rng)
        params = ours.update_params(params, grads)
        theirs.update_params(oracle_params, [g.copy() for g in grads])
        for p, q in zip(params, oracle_params):
            assert_allclose(p, q, rtol=1e-12, atol=0)
        assert_allclose(ours.learning_rate, theirs.learning_rate, rtol=1e-12)
        if end_epoch is not None:
            end_epoch(step)
    return params


@pytest.mark.parametrize("lr_schedule", LEARNING_RATE_SCHEDULES)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_matches_sklearn(lr_schedule, momentum, nesterov):
    rng = np.random.default_rng(0)
    params = make_arrays(rng)
    kwargs = dict(
        learning_rate_init=0.05,
        lr_schedule=lr_schedule,
        momentum=momentum,
        nesterov=nesterov,
        power_t=0.4,
    )
    ours = SGD(params, **kwargs)
    theirs = SGDOptimizer([p.copy() for p in params], **kwargs)

    def end_epoch(step):
        ours.iteration_ends((step + 1) * 32)
        theirs.iteration_ends((step + 1) * 32)
        if step % 3 == 2:
            assert ours.trigger_stopping("m", False) == theirs.trigger_stopping(
                "m", False
            )

    run_against_oracle(ours, theirs, rng, end_epoch=end_epoch)
    if lr_schedule == "constant":
        assert ours.learning_rate == 0.05
    else:
        assert ours.learning_rate < 0.05
    for v, w in zip(ours.velocities, theirs.velocities):
        assert_allclose(v, w, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"learning_rate_init": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-4}],
)
def test_adam_matches_sklearn(kwargs):
    rng = np.random.default_rng(1)
    params = make_arrays(rng)
    ours = Adam(params, **kwargs)
    theirs = AdamOptimizer([p.copy() for p in params], **kwargs)
    run_against_oracle(ours, theirs, rng)
    assert ours.t == theirs.t == 10
    for a, b in zip(ours.ms + ours.vs, theirs.ms + theirs.vs):
        assert_allclose(a, b, rtol=1e-12, atol=0)


def test_sgd_adaptive_divides_by_five_then_stops(capsys):
    opt = SGD([np.zeros(2)], learning_rate_init=1e-5, lr_schedule="adaptive")
    assert opt.trigger_stopping("No improvement.", verbose=True) is False
    assert opt.learning_rate == pytest.approx(2e-6)
    assert opt.trigger_stopping("No improvement.", verbose=False) is False
    assert opt.learning_rate == pytest.approx(4e-7)
    assert opt.trigger_stopping("No improvement.", verbose=True) is True
    assert opt.learning_rate == pytest.approx(4e-7)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "No improvement. Setting learning rate to 0.000002",
        "No improvement. Learning rate too small. Stopping.",
    ]


@pytest.mark.parametrize(
    "opt", [SGD([np.zeros(2)], lr_schedule="invscaling"), Adam([np.zeros(2)])]
)
def test_non_adaptive_trigger_stopping_stops(opt, capsys):
    lr = opt.learning_rate
    assert opt.trigger_stopping("Done.", verbose=False) is True
    assert capsys.readouterr().out == ""
    assert opt.trigger_stopping("Done.", verbose=True) is True
    assert capsys.readouterr().out == "Done. Stopping.\n"
    assert opt.learning_rate == lr


def test_sgd_invscaling_and_unknown_schedule():
    opt = SGD([np.zeros(2)], learning_rate_init=0.3, lr_schedule="invscaling")
    opt.iteration_ends(99)
    assert opt.learning_rate == pytest.approx(0.03)
    opt = SGD([np.zeros(2)], learning_rate_init=0.3, lr_schedule="constant")
    opt.iteration_ends(99)
    assert opt.learning_rate == 0.3
    with pytest.raises(ValueError, match="lr_schedule"):
        SGD([np.zeros(2)], lr_schedule="optimal")


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: SGD(p, nesterov=True),
        lambda p: SGD(p, nesterov=False),
        lambda p: Adam(p, learning_rate_init=0.01),
        lambda p: AdamW(p, learning_rate_init=0.01, weight_decay=0.1),
    ],
)
def test_inputs_never_modified_and_outputs_fresh(make_opt, tmp_path):
    rng = np.random.default_rng(2)
    params = read_only(make_arrays(rng))
    np.save(tmp_path / "p0.npy", params[0])
    params[0] = np.load(tmp_path / "p0.npy", mmap_mode="r")  # read-only memmap
    opt = make_opt(params)
    state = [a for a in vars(opt).values() if isinstance(a, list)]
    state = [a for buffers in state for a in buffers]
    for _ in range(3):
        grads = read_only(make_arrays(rng))
        before = [p.copy() for p in params], [g.copy() for g in grads]
        new = opt.update_params(params, grads)
        for p, b in zip(params + grads, before[0] + before[1]):
            assert_array_equal(p, b)
        for p, q in zip(params, new):
            assert q is not p and type(q) is np.ndarray
            assert q.flags.writeable and q.shape == p.shape
            assert not np.any(q == p)  # the step moved every entry
        for buf in state:
            for a in params + grads + new:
                assert not np.shares_memory(buf, a)
        params = read_only(new)


@pytest.mark.parametrize(
    "make_opt",
    [lambda p: SGD(p), lambda p: Adam(p), lambda p: AdamW(p, schedule="cosine")],
)
def test_float32_stays_float32(make_opt):
    rng = np.random.default_rng(3)
    params = make_arrays(rng, np.float32)
    opt = make_opt(params)
    for step in range(5):
        params = opt.update_params(params, make_arrays(rng, np.float32))
        opt.iteration_ends(step)
        assert all(p.dtype == np.float32 for p in params)
    state = [a for a in vars(opt).values() if isinstance(a, list)]
    assert all(b.dtype == np.float32 for buffers in state for b in buffers)
    assert isinstance(opt.learning_rate, float)


class Rosenbrock:
    """Rosenbrock over a parameter vector; records the calls."""

    def __init__(self, dtype):
        self.dtype, self.calls = dtype, 0

    def __call__(self, x):
        self.calls += 1
        assert x.dtype == self.dtype
        return rosen(x), rosen_der(x).astype(self.dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lbfgs_minimises_quadratic(dtype):
    target = np.arange(10.0) - 4

    def fun(x):
        assert x.dtype == dtype
        diff = x - target.astype(dtype)
        return np.sum(diff * diff), 2 * diff

    x0 = np.zeros(10, dtype)
    x0.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lbfgs(fun, x0, max_iter=100, max_fun=1000, tol=1e-6)
    assert res.status == 0 and 1 <= res.n_iter <= 5
    assert res.loss == pytest.approx(0, abs=1e-8)
    assert res.x.shape == x0.shape and res.x.dtype == dtype and res.x is not x0
    assert_allclose(res.x, target, atol=1e-4)
    assert not np.any(x0)  # the start is untouched


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lbfgs_minimises_rosenbrock(dtype):
    fun = Rosenbrock(dtype)
    res = lbfgs(fun, np.full(7, -0.5, dtype), max_iter=500, max_fun=5000, tol=1e-10)
    assert res.x.dtype == dtype
    assert_allclose(res.x, 1.0, atol=1e-5 if dtype == np.float64 else 1e-2)
    assert res.loss < (1e-10 if dtype == np.float64 else 1e-3)
    assert isinstance(res.loss, float) and isinstance(res.n_iter, int)


def test_lbfgs_honours_max_iter_and_calls_callback_per_iteration():
    fun = Rosenbrock(np.float64)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer itself never warns
        res = lbfgs(
            fun,
            np.zeros(7),
            max_iter=7,
            max_fun=15000,
            tol=1e-10,
            callback=lambda loss, x: seen.append((loss, x)),
        )
    assert res.n_iter == 7 and res.status == 1
    assert "ITERATIONS REACHED LIMIT" in res.message
    losses = [loss for loss, _ in seen]
    assert len(seen) == 7 and all(isinstance(v, float) for v in losses)
    assert losses[-1] == res.loss
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # L-BFGS descends
    for loss, x in seen:  # each iterate's own loss
        assert loss == pytest.approx(rosen(x), rel=1e-12)
    assert_array_equal(seen[-1][1], res.x)


def test_lbfgs_callback_returning_true_stops_it():
    fun = Rosenbrock(np.float64)
    res = lbfgs(
        fun,
        np.zeros(7),
        max_iter=100,
        max_fun=15000,
        tol=1e-10,
        callback=lambda loss, x: loss < 4.0,
    )
    assert res.status == 99 and res.loss < 4.0
    assert res.n_iter < 100


def test_lbfgs_honours_max_fun():
    fun = Rosenbrock(np.float64)
    res = lbfgs(fun, np.zeros(7), max_iter=1000, max_fun=10, tol=0)
    assert res.status == 1 and "EVALUATIONS EXCEEDS LIMIT" in res.message
    assert res.n_iter < 10
    # SciPy checks max_fun between iterations: the last line search may overrun.
    assert 10 < fun.calls <= 10 + 20


@pytest.mark.parametrize(
    "bad_fun",
    [
        lambda w: (np.nan if w[0] > 1.0 else np.sum((w - 3) ** 2), 2 * (w - 3)),
        lambda w: (np.nan, 2 * (w - 3)),
        lambda w: (np.inf, 2 * (w - 3)),
        lambda w: (np.inf, np.ones_like(w)),  # SciPy alone would use up max_fun
    ],
)
def test_lbfgs_stops_on_non_finite_loss(bad_fun):
    calls = []

    def fun(x):
        calls.append(1)
        return bad_fun(x)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lbfgs(fun, np.zeros(2), max_iter=1000, max_fun=15000, tol=1e-5)
    assert res.status == 2 and not math.isfinite(res.loss)
    assert "Non-finite loss" in res.message
    assert len(calls) < 100 and res.n_iter < 10
    assert res.x.shape == (2,)


def test_lbfgs_survives_infinite_loss_in_line_search():
    def fun(w):
        loss = np.inf if w[0] > 1.0 else np.sum((w - 3.0) ** 2)
        return loss, 2 * (w - 3.0)

    res = lbfgs(fun, np.zeros(2), max_iter=100, max_fun=1000, tol=1e-5)
    assert math.isfinite(res.loss) and res.x[0] <= 1.0


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, momentum=0.9),
        lambda p: Adam(p),
        lambda p: AdamW(p, schedule="coslog", total_steps=5),
    ],
)
def test_state_dict_round_trip_continues_and_does_not_share_buffers(make):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    grads = [[rng.normal(size=p.shape) for p in params] for _ in range(3)]
    first = make(params)
    params = first.update_params(params, grads[0])
    state = first.state_dict()
    assert "_scratch" not in state
    saved = {k: [b.copy() for b in v] for k, v in state.items() if isinstance(v, list)}
    resumed = type(first).from_state_dict(state)
    got = resumed.update_params(params, grads[1])
    resumed.update_params(got, grads[2])
    # The resumed optimizer owns its buffers: its steps leave the state as saved.
    for name, buffers in saved.items():
        for before, after in zip(buffers, state[name]):
            np.testing.assert_array_equal(before, after)
    # And it continues exactly where the first one stopped.
    expected = first.update_params(params, grads[1])
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


# AdamW and the step schedules -------------------------------------------------------


def test_cosine_schedule_warms_up_then_falls_to_zero():
    assert cosine_schedule(0.0) == 1.0 and cosine_schedule(1.0) == 0.0
    assert cosine_schedule(0.5) == pytest.approx(0.5)
    assert cosine_schedule(0.05, warmup=0.1) == pytest.approx(0.5)
    assert cosine_schedule(0.1, warmup=0.1) == 1.0
    values = [cosine_schedule(p, warmup=0.1) for p in np.linspace(0.1, 1, 50)]
    assert np.all(np.diff(values) < 0)


def test_coslog_schedule_has_four_cycles_doubling_in_length():
    # Zero where log2(1 + 15 p) is an integer: p = 0, 1/15, 3/15, 7/15, 1.
    for p in [0, 1 / 15, 3 / 15, 7 / 15, 1]:
        assert coslog_schedule(p) == pytest.approx(0.0, abs=1e-12)
    # One at the middle of each cycle (log2(1 + 15 p) = j + 1/2).
    for j in range(4):
        p = (2 ** (j + 0.5) - 1) / 15
        assert coslog_schedule(p) == pytest.approx(1.0)


def test_adamw_without_decay_and_schedule_is_adam():
    rng = np.random.default_rng(4)
    params = make_arrays(rng)
    ours = AdamW(params, learning_rate_init=0.01, weight_decay=0.0)
    adam = Adam(params, learning_rate_init=0.01)
    p, q = params, params
    for _ in range(5):
        grads = make_arrays(rng)
        p, q = ours.update_params(p, grads), adam.update_params(q, grads)
    for a, b in zip(p, q):
        assert_array_equal(a, b)


def test_adamw_decay_is_decoupled_and_scheduled():
    # Zero gradients: Adam's step is zero and only the decay moves the weights,
    # by the factor (1 - lr * schedule(progress) * weight_decay) at each step.
    opt = AdamW(
        [np.ones(3)],
        learning_rate_init=0.1,
        weight_decay=0.5,
        schedule="cosine",
        total_steps=10,
        warmup=0.2,
    )
    params, expected = [np.ones(3)], 1.0
    for t in range(12):
        params = opt.update_params(params, [np.zeros(3)])
        expected *= 1 - 0.1 * 0.5 * cosine_schedule(min(t / 10, 1), 0.2)
        assert_allclose(params[0], expected, rtol=1e-12)
    assert expected < 0.8 and opt.learning_rate == 0.0  # past the budget


def test_adamw_refuses_an_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be one of"):
        AdamW([np.zeros(2)], schedule="linear")


def test_adamw_matches_torch():
    torch = pytest.importorskip(
        "torch", reason="PyTorch is not a test dependency: run where installed"
    )
    rng = np.random.default_rng(5)
    params = make_arrays(rng)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    torch_opt = torch.optim.AdamW(
        theirs, lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        torch_opt, lambda step: cosine_schedule(min(step / 8, 1), 0.25)
    )
    ours = AdamW(
        params,
        learning_rate_init=0.01,
        beta_2=0.95,
        weight_decay=0.1,
        schedule="cosine",
        total_steps=8,
        warmup=0.25,
    )
    for _ in range(8):
        grads = make_arrays(rng)
        params = ours.update_params(params, grads)
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        torch_opt.step()
        scheduler.step()
    for p, t in zip(params, theirs):
        # Adam's epsilon sits inside the bias correction here, outside in torch.
        assert_allclose(p, t.detach().numpy(), rtol=1e-6, atol=1e-9)
