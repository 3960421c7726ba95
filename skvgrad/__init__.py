"""skvgrad: a scikit-learn MLP classifier trained by its own autodiff engine."""

from skvgrad.classifier import MLPAutogradClassifier

__all__ = ["MLPAutogradClassifier"]
__version__ = "0.1.0"
