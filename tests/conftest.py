"""Suite-wide test settings: one deterministic Hypothesis profile, or HYPOTHESIS_PROFILE's."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# The default run is deterministic (the same examples every time) and keeps no example database,
# so a failure in CI reproduces on any machine and the tree stays clean.
settings.register_profile(
    "default-deterministic", derandomize=True, deadline=None, max_examples=100, database=None
)
# HYPOTHESIS_PROFILE=thorough: many more examples, freshly random each run (print_blob says how to
# replay a failure); for a nightly job or before touching frame assembly, not for every commit.
settings.register_profile(
    "thorough", derandomize=False, deadline=None, max_examples=2_000, database=None, print_blob=True
)

_PROFILES = ("default-deterministic", "thorough")
_name = os.environ.get("HYPOTHESIS_PROFILE", "") or "default-deterministic"
if _name not in _PROFILES:
    raise pytest.UsageError(f"HYPOTHESIS_PROFILE={_name!r} is not one of {', '.join(_PROFILES)}")
settings.load_profile(_name)
