"""Estimator-agnostic optimizers: SGD (momentum, Nesterov), Adam, AdamW and L-BFGS.

The optimizers take lists of NumPy arrays (the parameters) and lists of gradient
arrays of the same shapes, and know nothing else. SGD and Adam follow the
mathematics of scikit-learn's MLP solvers, with one difference: parameters are
never modified in place (they may be read-only memmaps); ``update_params``
returns new arrays. AdamW adds decoupled weight decay and a learning-rate
schedule over a fixed number of steps (:data:`STEP_SCHEDULES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Self

import numpy as np
import scipy.optimize
from numpy.typing import NDArray
from sklearn.externals import array_api_compat

from skvgrad.engine.tensor import _is_foreign

LEARNING_RATE_SCHEDULES = ("constant", "invscaling", "adaptive")


def constant_schedule(progress: float, warmup: float = 0.0) -> float:
    """1 throughout, after a linear warm-up over the first ``warmup`` fraction.

    Examples
    --------
    >>> from skvgrad.optim import constant_schedule
    >>> [constant_schedule(p, warmup=0.5) for p in (0.0, 0.25, 0.5, 1.0)]
    [0.0, 0.5, 1.0, 1.0]
    """
    return 1.0 if progress >= warmup else progress / warmup


def cosine_schedule(progress: float, warmup: float = 0.0) -> float:
    """Linear warm-up over ``warmup``, then a half cosine from 1 down to 0.

    ``progress`` is the fraction of the training steps done, in [0, 1].

    Examples
    --------
    >>> from skvgrad.optim import cosine_schedule
    >>> [round(cosine_schedule(p, warmup=0.1), 3) for p in (0.05, 0.1, 0.55, 1.0)]
    [0.5, 1.0, 0.5, 0.0]
    """
    if progress < warmup:
        return progress / warmup
    return 0.5 + 0.5 * math.cos(math.pi * min((progress - warmup) / (1 - warmup), 1))


def coslog_schedule(progress: float, warmup: float = 0.0, cycles: int = 4) -> float:
    """RealMLP's "coslog": ``cycles`` cosine cycles evenly spaced in log-time.

    ``0.5 - 0.5 cos(2 pi log2(1 + (2**cycles - 1) progress))``: each cycle
    rises from 0 to 1 and falls back to 0, and lasts twice as long as the one
    before it; it needs no warm-up (``warmup`` is accepted and ignored).

    Examples
    --------
    >>> from skvgrad.optim import coslog_schedule
    >>> [round(coslog_schedule(p), 3) for p in (0.0, 1 / 30, 1 / 15, 1.0)]
    [0.0, 1.0, 0.0, 0.0]
    """
    phase = math.log2(1 + (2**cycles - 1) * min(max(progress, 0.0), 1.0))
    return 0.5 - 0.5 * math.cos(2 * math.pi * phase)


STEP_SCHEDULES = {
    "constant": constant_schedule,
    "cosine": cosine_schedule,
    "coslog": coslog_schedule,
}
"""Learning-rate factors by name, functions ``(progress, warmup) -> factor``
of the fraction of training done, for :class:`AdamW`."""


_namespace = array_api_compat.array_namespace


def _state_dtype(param):
    """Return the dtype of optimizer state for ``param``: its own if floating."""
    dtype = np.asarray(param).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _zeros(params):
    """Return a fresh zero buffer shaped and typed like each parameter (of its
    Array API namespace and device when it is not a NumPy array)."""
    return [
        _namespace(p).zeros_like(p)
        if _is_foreign(p)
        else np.zeros(np.shape(p), dtype=_state_dtype(p))
        for p in params
    ]


def _copy(buffer):
    """A copy of a state buffer of any namespace."""
    if type(buffer) is np.ndarray:
        return buffer.copy()
    return _namespace(buffer).asarray(buffer, copy=True)


def _written(value, out):
    """``value``, written into ``out`` when given (a step in place)."""
    if out is None:
        return value
    out[...] = value
    return out


class _Optimizer:
    """Shared bookkeeping: learning rate, the step loop and end-of-epoch hooks."""

    _buffers: tuple[
        str, ...
    ] = ()  # names of the per-parameter state lists, shaped like params

    _scratch: list[NDArray[Any]] | None
    _step: Callable[..., Any]
    _step_on_namespace: Callable[..., Any]
    _state: Callable[[], Any]

    def __init__(self, learning_rate_init: float) -> None:
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)

    def state_dict(self) -> dict[str, Any]:
        """The state to continue from later: plain numbers and arrays (shared).

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad.optim import SGD
        >>> opt = SGD([np.zeros(2)], learning_rate_init=0.5, momentum=0.9)
        >>> w = opt.update_params([np.zeros(2)], [np.ones(2)])[0]
        >>> again = SGD.from_state_dict(opt.state_dict())
        >>> again.update_params([w], [np.ones(2)])[0]
        array([-2.305, -2.305])
        """
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Self:
        """An optimizer continuing from ``state_dict()``, with its own copies."""
        optimizer = cls.__new__(cls)
        optimizer.__dict__.update(
            {
                k: [_copy(b) for b in v] if k in cls._buffers else v
                for k, v in state.items()
            }
        )
        optimizer._scratch = None
        return optimizer

    def update_params(
        self, params: Sequence[NDArray[Any]], grads: Sequence[NDArray[Any]]
    ) -> list[NDArray[Any]]:
        """Return the parameters after one step; the inputs are not modified.

        Parameters
        ----------
        params : list of ndarray
            Current parameters (may be read-only).
        grads : list of ndarray
            Gradients, one per parameter, same shapes.

        Returns
        -------
        list of ndarray
            New arrays ``p + update``, with the parameters' dtypes.
        """
        return self._update(params, grads, in_place=False)

    def step(
        self, params: Sequence[NDArray[Any]], grads: Sequence[NDArray[Any]]
    ) -> None:
        """Update the parameters in place by one step.

        The same arithmetic as :meth:`update_params`, without new arrays: for
        parameters that belong to the caller alone.

        Parameters
        ----------
        params : list of ndarray
            Current parameters, writable; updated in place.
        grads : list of ndarray
            Gradients, one per parameter, same shapes.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad.optim import Adam
        >>> w = np.array([1.0, -2.0])
        >>> Adam([w], learning_rate_init=0.1).step([w], [2 * w])
        >>> w
        array([ 0.9, -1.9])
        """
        self._update(params, grads, in_place=True)

    def _update(self, params, grads, in_place):
        """One step: new parameters, or the parameters updated in place."""
        self._start_step()
        if not all(type(p) is np.ndarray for p in params):  # other namespaces
            return [
                self._step_on_namespace(p, g, *state, out=p if in_place else None)
                for p, g, *state in zip(params, grads, *self._state(), strict=True)
            ]
        if self._scratch is None:  # two work arrays per parameter
            self._scratch = [np.empty_like(p) for p in params for _ in range(2)]
        work = iter(self._scratch)
        return [
            self._step(
                p, g, *state, next(work), next(work), out=p if in_place else None
            )
            for p, g, *state in zip(params, grads, *self._state(), strict=True)
        ]

    def _start_step(self):
        """Update per-step scalars before the parameters are stepped."""

    def iteration_ends(self, time_step: int) -> None:
        """Update the learning rate at the end of an epoch (no-op by default).

        Parameters
        ----------
        time_step : int
            Number of training samples seen so far.
        """

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """Decide whether training stops after an epoch without improvement.

        Parameters
        ----------
        msg : str
            Message describing why stopping is considered.
        verbose : bool
            Print the message and the decision when true.

        Returns
        -------
        bool
            True if training should stop.
        """
        if verbose:
            print(msg + " Stopping.")
        return True


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum and optional Nesterov momentum.

    Parameters
    ----------
    params : list of ndarray
        Parameters; only their shapes and dtypes are used (for the velocities).
    learning_rate_init : float, default=0.1
        Initial step size.
    lr_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        "constant" keeps ``learning_rate_init``; "invscaling" sets
        ``learning_rate_init / (time_step + 1) ** power_t`` in ``iteration_ends``;
        "adaptive" divides the rate by 5 each time ``trigger_stopping`` is called,
        and stops once it is at most 1e-6.
    momentum : float, default=0.9
        Momentum coefficient, at least 0.
    nesterov : bool, default=True
        Use Nesterov's momentum.
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.

    Attributes
    ----------
    learning_rate : float
        Current step size.
    velocities : list of ndarray
        Velocities, one per parameter, with its shape and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.optim import SGD
    >>> params = [np.array([1.0, -2.0])]
    >>> opt = SGD(params, learning_rate_init=0.1, momentum=0.9, nesterov=True)
    >>> for _ in range(100):
    ...     params = opt.update_params(params, [2 * params[0]])  # grad of ||p||^2
    >>> print(bool(np.abs(params[0]).max() < 1e-6), params[0].dtype)
    True float64
    """

    def __init__(
        self,
        params: Sequence[NDArray[Any]],
        learning_rate_init: float = 0.1,
        lr_schedule: str = "constant",
        momentum: float = 0.9,
        nesterov: bool = True,
        power_t: float = 0.5,
    ) -> None:
        if lr_schedule not in LEARNING_RATE_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {LEARNING_RATE_SCHEDULES}, "
                f"got {lr_schedule!r}."
            )
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = _zeros(params)
        self._scratch = None

    _buffers = ("velocities",)

    def _state(self):
        """Return the per-parameter buffers."""
        return (self.velocities,)

    def _step(self, p, g, v, lr_g, update, out=None):
        """``p`` plus sklearn's momentum update (into ``out``); ``v`` in place."""
        mom = self.momentum
        np.multiply(g, float(self.learning_rate), out=lr_g)
        v *= mom
        v -= lr_g  # v = momentum * v - lr * g
        if not self.nesterov:
            return np.add(v, p, out=out)
        np.multiply(v, mom, out=update)
        update -= lr_g
        return np.add(update, p, out=out)

    def _step_on_namespace(self, p, g, v, out=None):
        """:meth:`_step` on arrays of another Array API namespace."""
        mom = self.momentum
        lr_g = g * float(self.learning_rate)
        v[...] = v * mom - lr_g
        if not self.nesterov:
            return _written(v + p, out)
        return _written((v * mom - lr_g) + p, out)

    def iteration_ends(self, time_step: int) -> None:
        """Apply the "invscaling" schedule (see ``lr_schedule``).

        Parameters
        ----------
        time_step : int
            Number of training samples seen so far.
        """
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """Stop, or with "adaptive" divide the learning rate by 5 and go on.

        Parameters
        ----------
        msg : str
            Message describing why stopping is considered.
        verbose : bool
            Print the message and the decision when true.

        Returns
        -------
        bool
            True if training should stop.
        """
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"{msg} Setting learning rate to {self.learning_rate:f}")
        return False


class Adam(_Optimizer):
    """Adam: stochastic gradient descent with bias-corrected adaptive moments.

    Parameters
    ----------
    params : list of ndarray
        Parameters; only their shapes and dtypes are used (for the moments).
    learning_rate_init : float, default=0.001
        Initial step size.
    beta_1 : float, default=0.9
        Decay rate of the first-moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay rate of the second-moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Attributes
    ----------
    learning_rate : float
        Bias-corrected step size of the last update.
    t : int
        Number of updates made.
    ms, vs : list of ndarray
        First and second moment estimates, one per parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.optim import Adam
    >>> params = [np.array([1.0, -2.0])]
    >>> opt = Adam(params, learning_rate_init=0.1)
    >>> for _ in range(3):
    ...     params = opt.update_params(params, [2 * params[0]])  # grad of ||p||^2
    >>> print(np.round(params[0], 3), opt.t)
    [ 0.702 -1.701] 3
    """

    def __init__(
        self,
        params: Sequence[NDArray[Any]],
        learning_rate_init: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.ms = _zeros(params)
        self.vs = _zeros(params)
        self._scratch = None

    _buffers = ("ms", "vs")

    def _state(self):
        """Return the per-parameter buffers."""
        return self.ms, self.vs

    def _start_step(self):
        """Advance ``t`` and set the bias-corrected learning rate."""
        self.t += 1
        lr = float(self.learning_rate_init) * math.sqrt(1.0 - self.beta_2**self.t)
        self.learning_rate = lr / (1.0 - self.beta_1**self.t)

    def _step(self, p, g, m, v, buf, update, out=None):
        """``p`` plus sklearn's Adam update (into ``out``); ``m``, ``v`` in place."""
        b1, b2 = self.beta_1, self.beta_2
        m *= b1
        m += np.multiply(g, 1.0 - b1, out=buf)  # m = b1 * m + (1 - b1) * g
        v *= b2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - b2
        v += buf  # v = b2 * v + (1 - b2) * g**2
        np.sqrt(v, out=buf)
        buf += self.epsilon
        np.multiply(m, -self.learning_rate, out=update)
        update /= buf
        return np.add(update, p, out=out)

    def _step_on_namespace(self, p, g, m, v, out=None):
        """:meth:`_step` on arrays of another Array API namespace."""
        xp = _namespace(p)
        b1, b2 = self.beta_1, self.beta_2
        m[...] = m * b1 + g * (1.0 - b1)
        v[...] = v * b2 + (g * g) * (1.0 - b2)
        update = (m * -self.learning_rate) / (xp.sqrt(v) + self.epsilon)
        return _written(update + p, out)


class AdamW(Adam):
    """Adam with decoupled weight decay and a schedule over a fixed step budget.

    Each step multiplies the learning rate by ``schedule(t / total_steps,
    warmup)`` and, apart from Adam's update, shrinks every parameter by
    ``learning_rate_init * factor * weight_decay`` times itself (Loshchilov and
    Hutter's decoupled weight decay, as ``torch.optim.AdamW`` applies it):
    the decay does not go through the adaptive moments.

    Parameters
    ----------
    params : list of ndarray
        Parameters; only their shapes and dtypes are used (for the moments).
    learning_rate_init : float, default=0.001
        Peak step size.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0.01
        Decoupled weight decay, relative to the learning rate.
    schedule : str, default="constant"
        A name in :data:`STEP_SCHEDULES`.
    total_steps : int, default=1
        Number of steps the schedule spans; later steps keep its last factor.
    warmup : float, default=0.0
        Fraction of ``total_steps`` of linear warm-up (schedules that use one).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.optim import AdamW
    >>> params = [np.array([1.0, -2.0])]
    >>> opt = AdamW(params, learning_rate_init=0.1, weight_decay=0.5,
    ...             schedule="cosine", total_steps=100)
    >>> for _ in range(100):
    ...     params = opt.update_params(params, [np.zeros(2)])  # decay alone
    >>> print(np.round(params[0], 3), opt.learning_rate < 1e-4)
    [ 0.076 -0.152] True
    """

    def __init__(
        self,
        params: Sequence[NDArray[Any]],
        learning_rate_init: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: str = "constant",
        total_steps: int = 1,
        warmup: float = 0.0,
    ) -> None:
        if schedule not in STEP_SCHEDULES:
            raise ValueError(
                f"schedule must be one of {tuple(STEP_SCHEDULES)}, got {schedule!r}."
            )
        super().__init__(params, learning_rate_init, beta_1, beta_2, epsilon)
        self.weight_decay = float(weight_decay)
        self.schedule = schedule
        self.total_steps = max(int(total_steps), 1)
        self.warmup = float(warmup)
        self.decay = 0.0

    def _start_step(self):
        """Advance ``t``; set the scheduled, bias-corrected rate and the decay."""
        super()._start_step()
        # The factor of the step being taken: step t covers progress (t - 1) / T.
        progress = (self.t - 1) / self.total_steps
        factor = STEP_SCHEDULES[self.schedule](min(progress, 1.0), self.warmup)
        self.learning_rate *= factor
        self.decay = float(self.learning_rate_init) * factor * self.weight_decay

    def _step(self, p, g, m, v, buf, update, out=None):
        """Adam's new ``p`` less the decoupled decay of ``p`` (into ``out``)."""
        if not self.decay:
            return super()._step(p, g, m, v, buf, update, out=out)
        decay = p * self.decay  # of p before the step, which may be out
        new = super()._step(p, g, m, v, buf, update, out=out)
        new -= decay
        return new


class LbfgsResult(NamedTuple):
    """Outcome of :func:`lbfgs`.

    Attributes
    ----------
    x : ndarray
        Final parameter vector, a fresh array of the starting point's dtype.
    loss : float
        Final loss; non-finite if ``fun`` returned a non-finite loss.
    n_iter : int
        Number of L-BFGS iterations, at most ``max_iter``.
    status : int
        SciPy's status: 0 converged, 1 an iteration or evaluation limit was
        reached, 2 the line search failed or the loss was not finite, 99 a
        callback stopped the optimization.
    message : str
        SciPy's termination message, or a note about a non-finite loss.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.optim import LbfgsResult
    >>> LbfgsResult(np.zeros(2), 0.0, 3, 0, "done").n_iter
    3
    """

    x: np.ndarray
    loss: float
    n_iter: int
    status: int
    message: str


def lbfgs(
    fun: Callable[[NDArray[Any]], tuple[float, NDArray[Any]]],
    x0: NDArray[Any],
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    callback: Callable[[float, NDArray[Any]], bool | None] | None = None,
) -> LbfgsResult:
    """Minimise ``fun`` over a parameter vector with SciPy's L-BFGS-B.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (loss, grad)``: receives a fresh vector in the dtype of
        ``x0`` and returns a scalar loss and a gradient vector of its shape.
    x0 : ndarray of shape (n_params,)
        Starting point; never modified. SciPy works in float64; ``fun`` and the
        result see ``x0``'s dtype.
    max_iter : int
        Maximum number of iterations (SciPy's ``maxiter``).
    max_fun : int
        Maximum number of calls of ``fun`` (SciPy's ``maxfun``; checked at the end
        of each iteration, so the last iteration may exceed it a little).
    tol : float
        Tolerance on the projected gradient (SciPy's ``gtol``).
    callback : callable, optional
        ``callback(loss, x)`` is called once per iteration with that iteration's
        loss and parameters; returning True stops the optimization there.

    Returns
    -------
    LbfgsResult
        ``(x, loss, n_iter, status, message)``. If ``fun`` returned a
        non-finite loss at an iteration, the optimization stops there with
        that loss and status 2.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.optim import lbfgs
    >>> def fun(x):
    ...     return np.sum((x - 1.0) ** 2), 2 * (x - 1.0)
    >>> res = lbfgs(fun, np.zeros(3), max_iter=100, max_fun=1000, tol=1e-8)
    >>> print(res.status, round(res.loss, 8), res.x)
    0 0.0 [1. 1. 1.]
    """
    dtype = _state_dtype(x0)
    state = {"stopped": False}

    def fun_flat(x):
        loss, grad = fun(x.astype(dtype))  # astype copies: never a view of SciPy's x
        return float(loss), np.asarray(grad, dtype=np.float64)

    def scipy_callback(intermediate_result):
        loss = float(intermediate_result.fun)
        if callback is not None and callback(loss, intermediate_result.x.astype(dtype)):
            state["stopped"] = True
            raise StopIteration
        if not math.isfinite(loss):
            raise StopIteration

    res = scipy.optimize.minimize(
        fun_flat,
        np.asarray(x0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=scipy_callback,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    loss, n_iter, message = float(res.fun), min(res.nit, max_iter), str(res.message)
    status = 99 if state["stopped"] else res.status
    if not math.isfinite(loss):
        message, status = f"Non-finite loss ({loss}); {message}", 2
    return LbfgsResult(res.x.astype(dtype), loss, n_iter, status, message)
