"""skvgrad: scikit-learn MLP estimators trained by their own autodiff engine."""

from skvgrad.classifier import MLPAutogradClassifier
from skvgrad.regressor import MLPAutogradRegressor

__all__ = ["MLPAutogradClassifier", "MLPAutogradRegressor"]
__version__ = "0.1.0"
