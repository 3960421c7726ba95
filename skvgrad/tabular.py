"""TabularMLPClassifier and TabularMLPRegressor: MLPs good by default on tables.

They are the drop-ins' training machinery with a modern tabular recipe in
front and around it (RealMLP, Holzmüller et al., NeurIPS 2024; numerical
embeddings, Gorishniy et al., NeurIPS 2022): a pandas DataFrame or an array is
taken as it is (robust scaling and smooth clipping of numbers, one-hot codes or
learned embeddings of categories, missing values and unknown categories
handled), numbers go through periodic embeddings trained with the network,
training uses AdamW over a fixed epoch budget with a warm-up and cosine
schedule and keeps the best epoch on an inner validation split, and the
regressor standardises its targets and clips its predictions. Every piece is a
parameter and can be turned off.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from skvgrad import nn, optim
from skvgrad.base import (
    ATTRIBUTES_DOC,
    Activation,
    BaseMLPAutograd,
    BatchSize,
    Dropout,
    HiddenLayerSizes,
    RandomState,
    Scoring,
    store_params,
)
from skvgrad.classifier import MLPAutogradClassifier
from skvgrad.regressor import MLPAutogradRegressor

__all__ = ["TabularMLPClassifier", "TabularMLPRegressor"]


# Preprocessing ---------------------------------------------------------------------


def _is_dataframe(X):
    """Whether X is a pandas (or pandas-like) DataFrame."""
    return hasattr(X, "iloc") and hasattr(X, "dtypes")


def _as_table(X):
    """A DataFrame as it is, anything else as a 2-D array (any dtype)."""
    if _is_dataframe(X):
        return X
    return check_array(X, dtype=None, ensure_all_finite=False)


def _categorical_mask(X, categorical_features, n_features):
    """Which columns are categorical, as a boolean mask (HistGradientBoosting's
    ``categorical_features`` conventions)."""
    if categorical_features is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(categorical_features, str):  # "from_dtype"
        if not _is_dataframe(X):
            return np.zeros(n_features, dtype=bool)
        return np.array(
            [
                dtype.kind in "OUSb" or str(dtype) in ("category", "bool", "string")
                for dtype in X.dtypes
            ],
            dtype=bool,
        )
    given = np.asarray(categorical_features)
    if given.dtype.kind == "b":
        if given.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask must have shape "
                f"({n_features},), got {given.shape}."
            )
        return given
    if given.dtype.kind in "OUS":
        if not _is_dataframe(X):
            raise ValueError(
                "categorical_features names columns, but X has no column names: "
                "pass a DataFrame, or column indices."
            )
        names = [str(c) for c in X.columns]
        unknown = [str(c) for c in given.ravel() if str(c) not in names]
        if unknown:
            raise ValueError(f"categorical_features names unknown columns {unknown}.")
        return np.isin(names, given.astype(str))
    if given.dtype.kind in "iu":
        if given.size and (given.min() < -n_features or given.max() >= n_features):
            raise ValueError(
                f"categorical_features holds indices out of range for {n_features} "
                f"columns: {given.tolist()}."
            )
        mask = np.zeros(n_features, dtype=bool)
        mask[given] = True
        return mask
    raise ValueError(
        "categorical_features must be 'from_dtype', None, a boolean mask, column "
        f"indices or column names; got {categorical_features!r}."
    )


class _TabularEncoder:
    """Turns a table into the network's input matrix (see :class:`nn.InputEmbedding`).

    Columns out: the numbers (scaled, smoothly clipped, missing values at the
    centre), then missing-value indicators and one-hot codes of categories with
    few levels, then integer codes of categories with many (0: missing or
    unknown). Statistics are weighted by the sample weights, with quantiles
    that equal those of repeated rows.
    """

    def __init__(self, categorical_features, one_hot_max_levels, scaling, clip, nan):
        self.categorical_features = categorical_features
        self.one_hot_max_levels = one_hot_max_levels
        self.scaling = scaling
        self.clip = clip
        self.missing_indicator = nan

    def _split(self, X, fitting):
        """The numeric block (float) and the categorical columns of X."""
        X = _as_table(X)
        if fitting:
            self.categorical_ = _categorical_mask(
                X, self.categorical_features, X.shape[1]
            )
        cat = self.categorical_
        if _is_dataframe(X):
            numeric = X.iloc[:, np.flatnonzero(~cat)]
            categories = X.iloc[:, np.flatnonzero(cat)] if cat.any() else None
            all_f32 = len(numeric.columns) and all(
                str(d) == "float32" for d in numeric.dtypes
            )
            dtype = np.float32 if all_f32 else np.float64
            try:
                numeric = numeric.to_numpy(dtype=dtype, na_value=np.nan)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"Could not convert the numeric columns of X to numbers "
                    f"({error}). Name the categorical columns in "
                    "categorical_features, or give them a pandas category, object, "
                    "string or bool dtype."
                ) from error
        else:
            numeric = X[:, ~cat]
            categories = X[:, cat] if cat.any() else None
            if numeric.dtype.kind != "f":
                numeric = check_array(
                    numeric, dtype=np.float64, ensure_all_finite=False
                )
        if numeric.dtype.kind != "f" or numeric.dtype.itemsize < 4:
            numeric = numeric.astype(np.float64)
        if np.isinf(numeric).any():
            raise ValueError(
                f"Input X contains infinity or a value too large for {numeric.dtype!r}."
            )
        return numeric, categories

    def fit_transform(self, X, sample_weight):
        """Learn the statistics on rows of positive weight; return the matrix."""
        numeric, categories = self._split(X, fitting=True)
        keep = sample_weight > 0
        w = sample_weight[keep]
        kept = numeric[keep]
        self.dtype_ = numeric.dtype.name
        p = numeric.shape[1]
        if self.scaling == "robust":
            center, scale = _robust_center_scale(kept, w)
        else:  # "standard"
            present = ~np.isnan(kept)
            total = np.maximum((present * w[:, None]).sum(axis=0), np.finfo(float).tiny)
            center = np.where(present, kept, 0).T @ w / total
            spread = np.where(present, kept - center, 0) ** 2
            scale = np.sqrt(spread.T @ w / total)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.center_ = np.where(np.isfinite(center), center, 0.0)
        self.scale_ = scale
        self.missing_ = (
            np.isnan(kept).any(axis=0)
            if self.missing_indicator
            else (np.zeros(p, dtype=bool))
        )
        self.levels_, self.one_hot_ = [], np.zeros(0, dtype=bool)
        self.cat_missing_ = np.zeros(0, dtype=bool)
        if categories is not None:
            rows = (
                categories.iloc[keep]
                if _is_dataframe(categories)
                else (categories[keep])
            )
            self.ordinal_ = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                encoded_missing_value=-1,
            ).fit(rows)
            codes = self.ordinal_.transform(rows)
            self.levels_ = [
                int(sum(not _is_missing(v) for v in cats))
                for cats in self.ordinal_.categories_
            ]
            self.one_hot_ = np.array(
                [n <= self.one_hot_max_levels for n in self.levels_], dtype=bool
            )
            # Missing categories get an indicator where they are one-hot coded.
            self.cat_missing_ = (
                (codes < 0).any(axis=0) & self.one_hot_ & bool(self.missing_indicator)
            )
        return self._assemble(numeric, categories)

    def transform(self, X):
        """The network's input matrix for new data."""
        numeric, categories = self._split(X, fitting=False)
        if numeric.shape[1] != len(self.center_):  # validate_data checked X's width
            raise ValueError("X does not have the columns the model was fitted on.")
        return self._assemble(numeric, categories)

    def _assemble(self, numeric, categories):
        """Scaled numbers | indicators and one-hot codes | integer codes."""
        dtype = np.result_type(numeric.dtype, self.dtype_)
        missing = np.isnan(numeric)
        x = (numeric - self.center_) / self.scale_
        if self.clip is not None:
            x = x / np.sqrt(1 + (x / self.clip) ** 2)
        x[missing] = 0.0
        blocks = [x, missing[:, self.missing_]]
        coded = []
        if categories is not None:
            codes = self.ordinal_.transform(categories).astype(np.intp) + 1
            for j, n in enumerate(self.levels_):
                if self.one_hot_[j]:
                    blocks.append(np.eye(n + 1)[codes[:, j], 1:])
                    if self.cat_missing_[j]:
                        blocks.append(codes[:, j : j + 1] == 0)
                else:
                    coded.append(codes[:, j : j + 1])
        return np.hstack(blocks + coded).astype(dtype, copy=False)

    @property
    def n_numeric(self):
        """Number of numeric columns."""
        return len(self.center_)

    @property
    def coded_levels(self):
        """Known levels of each integer-coded (embedded) categorical column."""
        return [n for n, hot in zip(self.levels_, self.one_hot_) if not hot]

    @property
    def n_passthrough(self):
        """Number of indicator and one-hot columns."""
        one_hot = sum(n for n, hot in zip(self.levels_, self.one_hot_) if hot)
        return int(self.missing_.sum() + one_hot + self.cat_missing_.sum())


def _robust_center_scale(X, w):
    """Weighted median and interquartile range of each column (half the range
    where that is 0; NaN for a column without values), ignoring NaNs."""
    if not X.size:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        q1, median, q3 = np.nanquantile(
            X,
            [0.25, 0.5, 0.75],
            axis=0,
            weights=np.broadcast_to(w[:, None], X.shape),
            method="inverted_cdf",
        )
        half_range = (np.nanmax(X, axis=0) - np.nanmin(X, axis=0)) / 2
    return median, np.where(q3 - q1 > 0, q3 - q1, half_range)


def _is_missing(value):
    """Whether a category is a missing value (None or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


# The shared head ------------------------------------------------------------------

_TABULAR_PARAMETERS_DOC = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, \
default=(128, 128)
        The number of units of each hidden layer of the MLP.
    activation : str or callable, default="relu"
        Activation of the hidden layers (see :class:`MLPAutogradClassifier`).
    categorical_features : "from_dtype", None, array-like of bool, int or str, \
default="from_dtype"
        Which columns are categorical, as in HistGradientBoosting: from the
        DataFrame's dtypes (category, object, string, bool; a NumPy array then
        has none), none, a boolean mask, indices or column names.
    one_hot_max_levels : int, default=8
        Categorical columns with at most this many levels are one-hot coded;
        those with more get a learned embedding of ``embedding_dim`` values.
        Missing values and categories unseen in fit code as no level.
    embedding_dim : int, default=8
        Size of the learned embedding of each category.
    scaling : {"robust", "standard"}, default="robust"
        How numbers are scaled: by the median and the interquartile range
        (half the range where that is 0), or by the mean and standard deviation.
    clip_outliers : float or None, default=3.0
        Smooth clipping of the scaled numbers, ``x / sqrt(1 + (x / c)**2)``,
        which maps outliers into ``(-c, c)``; None to turn it off.
    missing_indicator : bool, default=True
        Add an indicator column for each column with missing values in fit.
        Missing numbers are imputed at the centre (median or mean) either way.
    numeric_embedding : {"periodic"} or None, default="periodic"
        Periodic (PLR) embeddings of the numbers, trained with the network:
        each number ``x`` gets ``relu([cos(2 pi c x), sin(2 pi c x)] W + b)``
        with its own frequencies ``c`` and weights, beside ``x`` itself;
        None to feed the numbers alone.
    n_frequencies : int, default=16
        Frequencies per number of the periodic embeddings.
    frequency_scale : float, default=0.1
        Standard deviation of the initial frequencies.
    numeric_embedding_dim : int, default=8
        Size of each number's periodic embedding.
    max_iter : int, default=40
        The fixed number of epochs.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=0.002
        Peak step size of AdamW.
    lr_schedule : {"cosine", "coslog", "constant"}, default="cosine"
        Learning-rate schedule over the ``max_iter`` epochs: a linear warm-up
        then a half cosine down to 0, RealMLP's "coslog" (4 cosine cycles
        spaced in log-time), or constant after the warm-up.
    warmup : float, default=0.05
        Fraction of the training steps of linear warm-up.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay of every parameter, relative to the
        learning rate.
    beta_1, beta_2 : float, default=0.9, 0.95
        Decay rates of AdamW's moment estimates.
    dropout : float, list of float or None, default=None
        Dropout rate of the hidden layers.
    validation_fraction : float, default=0.2
        Fraction of the training data held out to choose the best epoch,
        whose weights are restored at the end; 0 to train on all the data
        and keep the last epoch. With ``X_val`` given to fit, that is used.
        When fewer than 2 rows would be held out, none are.
    scoring : str, callable or None, default="loss"
        What chooses the best epoch: "loss" (the validation loss), None (the
        default score: accuracy or R²), a scorer name or a callable.
    n_iter_no_change : int or np.inf, default=np.inf
        Stop when the validation score has not improved for this many epochs
        (np.inf: run every epoch of the budget).
    n_ensemble : int, default=1
        Number of networks trained with different seeds and averaged
        (probabilities for the classifier, predictions for the regressor).
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the initial weights, the shuffling and the members.
    verbose : bool or int, default=False
        Show the progress of training.
"""

_TABULAR_ATTRIBUTES_DOC = """\
    encoder_ : object
        The fitted preprocessing (its columns' statistics and categories).
    front_params_ : list of ndarray
        The trained input embeddings: the frequencies, weights and biases of
        the periodic embeddings, then the table of category embeddings.
    ensemble_ : list of estimators
        The other members of the ensemble (empty when ``n_ensemble=1``).
"""


if TYPE_CHECKING:  # the mixin goes before a subclass of BaseMLPAutograd
    _Mixin = BaseMLPAutograd
else:
    _Mixin = object


class _TabularMLP(_Mixin):
    """What both tabular estimators add to the drop-ins (a mixin before them)."""

    _fixed_epochs = True
    solver = "adam"
    learning_rate = "constant"
    power_t = 0.5
    shuffle = True
    tol = 0.0
    warm_start = False
    momentum = 0.9
    nesterovs_momentum = True
    epsilon = 1e-8
    max_fun = 15000
    alpha = 0.0
    # The parameters of the tabular recipe, stored by the estimators' __init__.
    categorical_features: str | Sequence[Any] | NDArray[Any] | None
    one_hot_max_levels: int
    embedding_dim: int
    scaling: str
    clip_outliers: float | None
    missing_indicator: bool
    numeric_embedding: str | None
    n_frequencies: int
    frequency_scale: float
    numeric_embedding_dim: int
    max_iter: int
    batch_size: BatchSize
    learning_rate_init: float
    lr_schedule: str
    warmup: float
    weight_decay: float
    beta_1: float
    beta_2: float
    validation_fraction: float
    n_ensemble: int
    random_state: RandomState
    _combine: Callable[[list[Any]], Any]  # the ensemble's raw outputs combined

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(nn.ACTIVATIONS)), callable],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "one_hot_max_levels": [Interval(Integral, 0, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"robust", "standard"})],
        "clip_outliers": [Interval(Real, 0, None, closed="neither"), None],
        "missing_indicator": ["boolean"],
        "numeric_embedding": [StrOptions({"periodic"}), None],
        "n_frequencies": [Interval(Integral, 1, None, closed="left")],
        "frequency_scale": [Interval(Real, 0, None, closed="neither")],
        "numeric_embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(optim.STEP_SCHEDULES))],
        "warmup": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "scoring": [str, callable, None],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @property
    def early_stopping(self) -> bool:
        """Whether the best epoch on validation data is kept (never stops early)."""
        return self.validation_fraction > 0 and not getattr(self, "_keep_last", False)

    def _partial_fit_unavailable(self):
        """partial_fit is unavailable: training follows a fixed epoch budget."""
        return (
            f"{type(self).__name__} has no partial_fit: it trains over a fixed "
            "budget of max_iter epochs with a learning-rate schedule and keeps the "
            "best epoch. Use MLPAutogradClassifier or MLPAutogradRegressor for "
            "incremental training."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.array_api_support = False  # embeddings and AdamW run on NumPy
        return tags

    # Data -----------------------------------------------------------------------

    def _check_X(self, X, name="X"):
        check_is_fitted(self, "encoder_")
        X = validate_data(self, _as_table(X), skip_check_array=True, reset=False)
        return self.encoder_.transform(X)

    def _check_X_y(self, X, y, reset):
        # The encoder was fitted by _train on all the training data.
        X = validate_data(self, _as_table(X), skip_check_array=True, reset=False)
        return self.encoder_.transform(X), y

    def _front(self):
        encoder = self.encoder_
        return nn.InputEmbedding(
            encoder.n_numeric,
            encoder.n_passthrough,
            encoder.coded_levels,
            n_frequencies=self.n_frequencies if self.numeric_embedding else 0,
            frequency_scale=self.frequency_scale,
            numeric_dim=self.numeric_embedding_dim,
            embedding_dim=self.embedding_dim,
        )

    # Training -------------------------------------------------------------------

    def _train(self, X, y, sample_weight, incremental, classes, validation, ctx):
        """Fit the preprocessing, hold out the validation split, train, then the
        other members of the ensemble."""
        X, y = validate_data(self, _as_table(X), y, skip_check_array=True, reset=True)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_consistent_length(X, y)
        everything = (X, y, sample_weight)
        n = len(y)
        weights = _check_sample_weight(
            sample_weight, np.empty((n, 0)), ensure_non_negative=True
        )
        self.encoder_ = _TabularEncoder(
            self.categorical_features,
            self.one_hot_max_levels,
            self.scaling,
            self.clip_outliers,
            self.missing_indicator,
        )
        self.encoder_.fit_transform(X, weights)
        self._fit_targets(y, weights)
        rng = check_random_state(self.random_state)
        train = np.arange(n)
        if validation is None and self.validation_fraction > 0:
            column = y.ndim == 2 and y.shape[1] == 1  # raveled later, with a warning
            train, val = self._split(y.ravel() if column else y, weights, rng)
            if len(val):
                validation = (
                    _rows(X, val),
                    y[val],
                    None if sample_weight is None else weights[val],
                )
        if len(train) < n:
            X, y = _rows(X, train), y[train]
            sample_weight = None if sample_weight is None else weights[train]
        n_train = len(train)
        batch = 200 if self.batch_size == "auto" else self.batch_size
        self._total_steps = self.max_iter * math.ceil(n_train / min(batch, n_train))
        if validation is None:
            self._keep_last = True  # no data to choose the best epoch on
        try:
            super()._train(X, y, sample_weight, incremental, classes, validation, ctx)
        finally:
            self.__dict__.pop("_keep_last", None)
        self.ensemble_ = []
        if self.n_ensemble > 1:
            seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble - 1)
            for seed in seeds:
                member = clone(self).set_params(
                    n_ensemble=1, random_state=int(seed), verbose=False
                )
                self.ensemble_.append(member.fit(*everything))

    def _split(self, y, weights, rng):
        """Indices of the training rows and of the validation rows."""
        n = len(y)
        n_val = math.ceil(self.validation_fraction * n)
        if n_val < 2 or n - n_val < 1:
            return np.arange(n), np.arange(0)
        stratify = self._stratify_split(y, n_val) if y.ndim == 1 else None
        train, val = train_test_split(
            np.arange(n), test_size=n_val, random_state=rng, stratify=stratify
        )
        train, val = self._repair_split(y, train, val)
        if not weights[val].sum() > 0 or not weights[train].sum() > 0:
            return np.arange(n), np.arange(0)
        return np.sort(train), np.sort(val)

    def _stratify_split(self, y, n_val):
        """Hook: labels to stratify the validation split on (none here)."""
        return None

    def _repair_split(self, y, train, val):
        """Hook: move validation rows the model cannot be scored on (none here)."""
        return train, val

    def _fit_targets(self, y, weights):
        """Hook: learn target statistics on all the training data (none here)."""

    def _make_optimizer(self, flat, incremental):
        return optim.AdamW(
            [flat],
            learning_rate_init=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=self.weight_decay,
            schedule=self.lr_schedule,
            total_steps=self._total_steps,
            warmup=self.warmup,
        )

    def _raw_predict(self, X, method="predict"):
        raw = super()._raw_predict(X, method)
        if not getattr(self, "ensemble_", None):
            return raw
        others = [m._raw_predict(X, method) for m in self.ensemble_]
        return self._combine([raw] + others)


def _rows(X, index):
    """Rows of a DataFrame or an array-like."""
    if _is_dataframe(X):
        return X.iloc[index]
    return np.asarray(X)[index] if not hasattr(X, "shape") else X[index]


class TabularMLPClassifier(_TabularMLP, MLPAutogradClassifier):
    __doc__ = f"""MLP classifier with a modern tabular recipe as its defaults.

    Takes a pandas DataFrame (numeric and categorical columns, missing values)
    or an array as it is, and trains, by default: robust scaling and smooth
    clipping of numbers, one-hot codes or learned embeddings of categories,
    periodic embeddings of numbers, AdamW with a warm-up and cosine schedule
    over a fixed number of epochs, and the epoch of lowest validation
    log-loss on an inner split. Each piece is a parameter. It is
    :class:`MLPAutogradClassifier`'s machinery underneath (its methods,
    attributes, class weights, callbacks and persistence), without
    ``partial_fit`` and ``warm_start``.

    Parameters
    ----------
{_TABULAR_PARAMETERS_DOC}    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    label_smoothing : float or "auto", default="auto"
        Train on targets ``(1 - eps) * onehot + eps / n_classes`` (binary and
        multilabel outputs: ``eps / 2``). "auto" is 0 when ``scoring`` is
        "loss" or "neg_log_loss" (smoothing costs log-loss) and 0.1 otherwise.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, the label indices).
{_TABULAR_ATTRIBUTES_DOC}{ATTRIBUTES_DOC}    out_activation_ : str
        "logistic" for binary and multilabel targets, "softmax" otherwise.

    See Also
    --------
    TabularMLPRegressor : The regressor.
    MLPAutogradClassifier : The drop-in for scikit-learn's MLPClassifier.

    Notes
    -----
    The defaults were chosen on the data sets of skvgrad's tabular benchmark
    (``benchmarks/bench_tabular.py``), so its figures are in-sample for that
    choice. ``loss_`` and ``loss_curve_`` are the training loss on the
    smoothed targets when ``label_smoothing`` is on.

    Examples
    --------
    >>> import pandas as pd
    >>> from skvgrad import TabularMLPClassifier
    >>> X = pd.DataFrame({{"size": [1.0, 2.5, None, 4.0] * 25,
    ...                   "color": ["red", "blue", "red", "green"] * 25}})
    >>> y = (X["color"] == "red").to_numpy()
    >>> clf = TabularMLPClassifier(max_iter=10, random_state=0).fit(X, y)
    >>> clf.predict(X.head(2)).tolist(), clf.score(X, y)
    ([True, False], 1.0)
    """

    _parameter_constraints: dict = {
        **_TabularMLP._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "label_smoothing": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
    }
    loss = "log_loss"

    def __init__(
        self,
        hidden_layer_sizes: HiddenLayerSizes = (128, 128),
        activation: Activation = "relu",
        *,
        categorical_features: str | Sequence[Any] | NDArray[Any] | None = "from_dtype",
        one_hot_max_levels: int = 8,
        embedding_dim: int = 8,
        scaling: str = "robust",
        clip_outliers: float | None = 3.0,
        missing_indicator: bool = True,
        numeric_embedding: str | None = "periodic",
        n_frequencies: int = 16,
        frequency_scale: float = 0.1,
        numeric_embedding_dim: int = 8,
        max_iter: int = 40,
        batch_size: BatchSize = "auto",
        learning_rate_init: float = 0.002,
        lr_schedule: str = "cosine",
        warmup: float = 0.05,
        weight_decay: float = 0.01,
        beta_1: float = 0.9,
        beta_2: float = 0.95,
        dropout: Dropout = None,
        validation_fraction: float = 0.2,
        scoring: Scoring = "loss",
        n_iter_no_change: float = np.inf,
        n_ensemble: int = 1,
        random_state: RandomState = None,
        verbose: bool | int = False,
        class_weight: Mapping[Any, float] | Literal["balanced"] | None = None,
        label_smoothing: float | Literal["auto"] = "auto",
    ) -> None:
        store_params(self, locals())

    def _label_smoothing(self):
        """The smoothing rate in use."""
        if self.label_smoothing != "auto":
            return float(self.label_smoothing)
        return 0.0 if self.scoring in ("loss", "neg_log_loss") else 0.1

    def _encode_targets(self, y, *, fitting, **kwargs):
        y, Y = super()._encode_targets(y, fitting=fitting, **kwargs)
        eps = self._label_smoothing()
        if fitting and eps:
            k = Y.shape[1] if self._target_type == "multiclass" else 2
            Y = (1 - eps) * Y + eps / k
        return y, Y

    def _stratify_split(self, y, n_val):
        _, counts = np.unique(y, return_counts=True)
        possible = counts.min() >= 2 and min(n_val, len(y) - n_val) >= len(counts)
        return y if possible else None

    def _repair_split(self, y, train, val):
        if y.ndim != 1:
            return train, val
        unseen = ~np.isin(y[val], y[train])
        return np.concatenate([train, val[unseen]]), val[~unseen]

    def _combine(self, raws):
        """Raw outputs whose probabilities are the members' mean probabilities."""
        proba = np.mean([nn.OUTPUTS[self.out_activation_](r) for r in raws], axis=0)
        tiny = np.finfo(proba.dtype).tiny
        with np.errstate(divide="ignore"):
            if self.out_activation_ == "softmax":
                return np.log(np.maximum(proba, tiny))
            return np.log(np.maximum(proba, tiny)) - np.log(np.maximum(1 - proba, tiny))


class TabularMLPRegressor(_TabularMLP, MLPAutogradRegressor):
    __doc__ = f"""MLP regressor with a modern tabular recipe as its defaults.

    Takes a pandas DataFrame (numeric and categorical columns, missing values)
    or an array as it is, and trains, by default: robust scaling and smooth
    clipping of numbers, one-hot codes or learned embeddings of categories,
    periodic embeddings of numbers, standardised targets (each output),
    AdamW with a warm-up and cosine schedule over a fixed number of epochs,
    the epoch of lowest validation loss on an inner split, and predictions
    clipped to a margin around the training targets' range. Each piece is a
    parameter. It is :class:`MLPAutogradRegressor`'s machinery underneath,
    with the squared error, without ``partial_fit`` and ``warm_start``.

    Parameters
    ----------
{_TABULAR_PARAMETERS_DOC}    standardize_target : bool, default=True
        Train on targets centred and scaled to unit variance (each output,
        weighted by the sample weights); predictions are scaled back.
    clip_predictions : float or None, default=0.1
        Clip predictions to the training targets' range widened by this
        fraction of it on each side; None for no clipping.

    Attributes
    ----------
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        What the targets were standardised with (0 and 1 without).
    target_range_ : ndarray of shape (2, n_outputs)
        The range predictions are clipped to.
{_TABULAR_ATTRIBUTES_DOC}{ATTRIBUTES_DOC}    out_activation_ : str
        "identity".

    See Also
    --------
    TabularMLPClassifier : The classifier.
    MLPAutogradRegressor : The drop-in for scikit-learn's MLPRegressor.

    Notes
    -----
    The defaults were chosen on the data sets of skvgrad's tabular benchmark
    (``benchmarks/bench_tabular.py``), so its figures are in-sample for that
    choice. ``loss_`` and ``loss_curve_`` are in units of the standardised
    targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad import TabularMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-2, 2, (300, 2))
    >>> y = 100 + 10 * np.sin(2 * X[:, 0]) + X[:, 1]
    >>> reg = TabularMLPRegressor(random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_TabularMLP._parameter_constraints,
        "standardize_target": ["boolean"],
        "clip_predictions": [Interval(Real, 0, None, closed="left"), None],
    }
    loss = "squared_error"
    huber_delta = 1.0
    quantile = 0.5

    def __init__(
        self,
        hidden_layer_sizes: HiddenLayerSizes = (128, 128),
        activation: Activation = "relu",
        *,
        categorical_features: str | Sequence[Any] | NDArray[Any] | None = "from_dtype",
        one_hot_max_levels: int = 8,
        embedding_dim: int = 8,
        scaling: str = "robust",
        clip_outliers: float | None = 3.0,
        missing_indicator: bool = True,
        numeric_embedding: str | None = "periodic",
        n_frequencies: int = 16,
        frequency_scale: float = 0.1,
        numeric_embedding_dim: int = 8,
        max_iter: int = 40,
        batch_size: BatchSize = "auto",
        learning_rate_init: float = 0.002,
        lr_schedule: str = "cosine",
        warmup: float = 0.05,
        weight_decay: float = 0.01,
        beta_1: float = 0.9,
        beta_2: float = 0.95,
        dropout: Dropout = None,
        validation_fraction: float = 0.2,
        scoring: Scoring = "loss",
        n_iter_no_change: float = np.inf,
        n_ensemble: int = 1,
        random_state: RandomState = None,
        verbose: bool | int = False,
        standardize_target: bool = True,
        clip_predictions: float | None = 0.1,
    ) -> None:
        store_params(self, locals())

    def _fit_targets(self, y, weights):
        _, Y = MLPAutogradRegressor._encode_targets(self, y, fitting=True)
        kept = Y[weights > 0]
        w = weights[weights > 0]
        if self.standardize_target:
            mean = np.average(kept, axis=0, weights=w)
            std = np.sqrt(np.average((kept - mean) ** 2, axis=0, weights=w))
            self.target_mean_ = mean
            self.target_scale_ = np.where(std > 0, std, 1.0)
        else:
            self.target_mean_ = np.zeros(Y.shape[1])
            self.target_scale_ = np.ones(Y.shape[1])
        low, high = kept.min(axis=0), kept.max(axis=0)
        margin = 0.0 if self.clip_predictions is None else self.clip_predictions
        width = margin * (high - low)
        if self.clip_predictions is None:
            low, high, width = np.full_like(low, -np.inf), np.full_like(high, np.inf), 0
        self.target_range_ = np.array([low - width, high + width])

    def _encode_targets(self, y, *, fitting, **kwargs):
        y, Y = super()._encode_targets(y, fitting=fitting, **kwargs)
        return y, (Y - self.target_mean_) / self.target_scale_

    def _predictions(self, raw):
        y = raw * self.target_scale_ + self.target_mean_
        y = np.clip(y, *self.target_range_).astype(raw.dtype, copy=False)
        return y.ravel() if y.shape[1] == 1 else y

    def _combine(self, raws):
        """The members' mean raw output (the same target scaling for all)."""
        return np.mean(raws, axis=0)
