"""Shared test set-up: the hypothesis profile, and tests/ importable for helpers.

The ``ci`` profile (the default) runs 50 examples per property, without a
deadline (the first example of an architecture pays SymPy's derivation), and
derandomised, so that every run draws the same examples. Set
``HYPOTHESIS_PROFILE=dev`` for a quick 10, or ``deep`` for 500 random ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

try:  # hypothesis is a test extra; without it only the property tests skip
    from hypothesis import HealthCheck, settings
except ImportError:
    pass
else:
    _COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
    settings.register_profile("ci", max_examples=50, derandomize=True, **_COMMON)
    settings.register_profile("dev", max_examples=10, derandomize=True, **_COMMON)
    settings.register_profile("deep", max_examples=500, **_COMMON)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
