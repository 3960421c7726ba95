"""Test set-up shared by the whole suite (doctests included).

scikit-learn runs its array-API estimator checks only when SciPy's array API
support is switched on, which SciPy reads once, at its first import: switch it
on here, before anything imports SciPy, so that a plain ``python -m pytest``
runs every check.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")


def pytest_configure(config):
    """Refuse to run with SciPy's array API support off: checks would be skipped."""
    from scipy._lib._array_api import SCIPY_ARRAY_API

    if os.environ["SCIPY_ARRAY_API"] == "1" and not SCIPY_ARRAY_API:
        raise RuntimeError(
            "SciPy was imported before the test set-up could switch on its array "
            "API support (for example by a -W option naming a scikit-learn "
            "warning); run the tests with SCIPY_ARRAY_API=1 in the environment."
        )
