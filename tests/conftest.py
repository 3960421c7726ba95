"""Hypothesis profiles shared by the suite's property and differential tests.

``ci``, the default, keeps every property test bounded (Hypothesis's 100
examples where a test does not set its own count; the differential tests
scale theirs from it). ``long`` draws fifty times as many:
``SKVGRAD_HYPOTHESIS_PROFILE=long python -m pytest ...``. Neither has a
deadline (the machines that run the suite are shared) or an example database.
"""

import os
import warnings

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("long", max_examples=5_000, **_COMMON)
settings.load_profile(os.environ.get("SKVGRAD_HYPOTHESIS_PROFILE", "ci"))

# To report a failing example, Hypothesis imports libcst, whose import warns
# of a deprecation in mypy_extensions: with every warning an error, that
# would turn the report into an internal error that hides the failure.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import libcst  # noqa: F401
    except ImportError:  # then Hypothesis does without
        pass
