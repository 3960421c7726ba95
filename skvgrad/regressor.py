"""MLPAutogradRegressor: scikit-learn's MLPRegressor, trained by skvgrad's engine."""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Real
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions

from skvgrad import nn
from skvgrad.base import (
    ATTRIBUTES_DOC,
    EXTRA_PARAMETERS_DOC,
    PARAMETERS_DOC,
    Activation,
    BaseMLPAutograd,
    BatchSize,
    Dropout,
    HiddenLayerSizes,
    RandomState,
    Scoring,
    _fit_context,
    _placement,
    _ravel,
    _to_numpy,
    partial_fit_available,
    store_params,
)


class MLPAutogradRegressor(RegressorMixin, BaseMLPAutograd):
    __doc__ = f"""Multi-layer perceptron regressor trained by an autodiff engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    the same parameters with the same defaults and meaning, the same fitted
    attributes and methods, and with the same ``random_state`` the same
    results. Beyond MLPRegressor's losses it offers the Huber and pinball
    (quantile) losses and any loss written with :mod:`skvgrad.engine`
    operations, differentiated by the engine.

    Parameters
    ----------
    loss : {{"squared_error", "poisson", "huber", "quantile"}} or callable, \
default="squared_error"
        The training loss. "squared_error" and "poisson" are MLPRegressor's
        (the output layer is the identity, and the exponential for "poisson",
        whose targets must be non-negative); "huber" is quadratic within
        ``huber_delta`` of the target and linear beyond, for targets with
        outliers; "quantile" is the pinball loss, whose minimiser is the
        ``quantile``-th quantile of the target given X. A callable
        ``loss(raw, y)`` receives the output layer's pre-activation (the
        predictions) and the targets, both of shape ``(n_samples,
        n_outputs)``, and returns one loss per sample, written with
        :mod:`skvgrad.engine` operations; sample weights, the penalty and the
        mean are applied by the estimator.
{PARAMETERS_DOC}{EXTRA_PARAMETERS_DOC}    huber_delta : float, default=1.0
        Where the "huber" loss turns from quadratic to linear, in units of y.
    quantile : float, default=0.5
        The quantile that ``loss="quantile"`` estimates, in (0, 1).

    Attributes
    ----------
{ATTRIBUTES_DOC}    out_activation_ : str
        "exp" for ``loss="poisson"``, "identity" otherwise.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.
    MLPAutogradClassifier : The classifier.

    Notes
    -----
    With ``loss="poisson"`` the output layer's intercepts start at the log of
    the (weighted) mean of the targets, so training starts from the mean rate;
    MLPRegressor starts them at random.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skvgrad import MLPAutogradRegressor
    >>> X, y = make_regression(200, n_features=4, noise=1.0, random_state=0)
    >>> reg = MLPAutogradRegressor(
    ...     hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500, random_state=0
    ... ).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.99
    True
    """

    _parameter_constraints: dict = {
        **BaseMLPAutograd._parameter_constraints,
        "loss": [
            StrOptions({"squared_error", "poisson", "huber", "quantile"}),
            callable,
        ],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss: str | Callable[[Any, Any], Any] = "squared_error",
        hidden_layer_sizes: HiddenLayerSizes = (100,),
        activation: Activation = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: BatchSize = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: RandomState = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: float = 10,
        max_fun: int = 15000,
        dropout: Dropout = None,
        scoring: Scoring = None,
        huber_delta: float = 1.0,
        quantile: float = 0.5,
    ) -> None:
        store_params(self, locals())

    @partial_fit_available
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Update the model with one epoch over the given data.

        Only available for the stochastic solvers ("sgd", "adam"). Successive
        calls continue with the optimizer's state; after the solver was
        changed with ``set_params``, the new solver starts afresh.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : MLPAutogradRegressor
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad import MLPAutogradRegressor
        >>> X, y = np.array([[0.0], [1.0]]), np.array([0.0, 1.0])
        >>> reg = MLPAutogradRegressor(random_state=0).partial_fit(X, y)
        >>> reg.n_iter_, reg.t_
        (1, 2)
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Predict the targets of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions (rates for ``loss="poisson"``); float32 when the
            model and X are.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad import MLPAutogradRegressor
        >>> X = np.linspace(-1, 1, 50)[:, np.newaxis]
        >>> reg = MLPAutogradRegressor(hidden_layer_sizes=(10,), solver="lbfgs")
        >>> reg = reg.set_params(random_state=0)
        >>> reg.fit(X, 2 * X.ravel() + 1).predict([[0.0]]).round(2)
        array([1.])
        """
        return self._predictions(self._raw_predict(X))

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Coefficient of determination R² of :meth:`predict` on ``X``.

        For several outputs, the mean of their R² (scikit-learn's
        "uniform_average").

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            1 for perfect predictions, 0 for predicting the mean of ``y``.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad import MLPAutogradRegressor
        >>> X = np.linspace(-1, 1, 50)[:, np.newaxis]
        >>> reg = MLPAutogradRegressor(hidden_layer_sizes=(10,), solver="lbfgs")
        >>> reg = reg.set_params(random_state=0)
        >>> reg.fit(X, X.ravel() ** 2).score(X, X.ravel() ** 2) > 0.99
        True
        """
        if _placement(X) is not None:
            return self._score_on_host(X, y, sample_weight, r2_score)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    # Hooks -------------------------------------------------------------------------

    def _predictions(self, raw):
        """Predictions from raw outputs: the output layer, raveled for one output."""
        y = nn.OUTPUTS[self.out_activation_](raw)
        if y.shape[1] != 1:
            return y
        return y.ravel() if type(y) is np.ndarray else _ravel(y)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _loss(self):
        if callable(self.loss):
            return nn.per_sample(self.loss)
        if self.loss == "huber":
            return nn.per_sample(functools.partial(nn.huber, delta=self.huber_delta))
        if self.loss == "quantile":
            return nn.per_sample(functools.partial(nn.pinball, quantile=self.quantile))
        return nn.LOSSES[self.loss]

    def _reported_loss(self, data, penalty):
        # MLPRegressor reports the squared error averaged over the outputs (and
        # trains on its sum): loss_curve_ follows it.
        if self.loss == "squared_error":
            return data / self.n_outputs_ + penalty
        return data + penalty

    def _init_output(self, Y, sample_weight):
        if self.loss == "poisson":
            mean = np.average(Y, axis=0, weights=sample_weight)
            tiny = np.finfo(Y.dtype).tiny
            self.intercepts_[-1] = np.log(np.maximum(mean, tiny)).astype(Y.dtype)

    def _default_scoring(self):
        # R² for MLPRegressor's losses; the loss itself for the others (a
        # quantile's best epoch by R² drifts towards the mean).
        return None if self.loss in ("squared_error", "poisson") else "loss"

    def _default_score(self, raw, validation):
        # On the host: the predictions of raw outputs of any namespace.
        return r2_score(
            validation.y,
            _to_numpy(self._predictions(raw)),
            sample_weight=_to_numpy(validation.sw),
        )

    def _encode_targets(
        self, y, *, fitting, reset=False, incremental=False, classes=None, name="y"
    ):
        if sp.issparse(y):
            raise ValueError(
                f"{name} is a sparse matrix; {type(self).__name__} needs dense "
                f"targets: pass {name}.toarray()."
            )
        y = np.asarray(y)
        if y.dtype.kind == "c":
            raise ValueError(f"{name} holds complex values; they are not supported.")
        if y.dtype.kind not in "biuf":
            try:
                converted = y.astype(np.float64)
            except (TypeError, ValueError):
                example = y.ravel()[0] if y.size else None
                raise ValueError(
                    f"{type(self).__name__} needs numeric targets, but {name} holds "
                    f"{y.dtype} values such as {str(example)!r}. For class labels, use "
                    "MLPAutogradClassifier."
                ) from None
            y = converted
        if not np.isfinite(y).all():
            raise ValueError(f"Input {name} contains NaN or infinity.")
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                f"loss='poisson' needs non-negative targets, but {name} has "
                f"{int((y < 0).sum())} negative value(s) (smallest {y.min():g})."
            )
        return y, y.reshape(len(y), -1)
