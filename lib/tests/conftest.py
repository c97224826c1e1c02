"""Shared pytest configuration for the smoothmax test-suite.

* Hypothesis profiles: ``smoothmax`` (default: fast, no deadline) and
  ``thorough`` (many examples).  Select with ``HYPOTHESIS_PROFILE=thorough``.
* Reusable high-precision helpers live in ``tests/_reference.py`` (import them
  with ``from _reference import ...``); the fixtures below wrap them.
"""

import os

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a test extra; property tests skip without it
    settings = None

if settings is not None:
    settings.register_profile(
        "smoothmax",
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "thorough",
        max_examples=1000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "smoothmax"))


@pytest.fixture(scope="session")
def hard_rows():
    """A fixed list of ``(label, row)`` hard inputs (see ``_reference.hard_inputs``)."""
    from _reference import hard_inputs

    return list(hard_inputs(seed=20210401, n_rows=256))
