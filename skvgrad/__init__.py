"""skvgrad: scikit-learn MLP estimators trained by their own autodiff engine."""

from skvgrad.classifier import MLPAutogradClassifier
from skvgrad.regressor import MLPAutogradRegressor
from skvgrad.tabular import TabularMLPClassifier, TabularMLPRegressor

__all__ = [
    "MLPAutogradClassifier",
    "MLPAutogradRegressor",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
]
__version__ = "0.1.0"
