"""skvgrad: a scikit-learn MLP classifier trained by its own autodiff engine."""

__version__ = "0.1.0"
