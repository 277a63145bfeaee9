"""The formatter owns the width: ruff's lint and format checks pass on the code.

The rules and the 88-column limit live in pyproject.toml; these tests run ruff
over the package, the tests and the benchmarks with that configuration.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["symbp", "tests", "benchmarks"]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None,
    reason="ruff is not installed (it is in the 'test' extra: pip install '.[test]')",
)


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ruff_check_finds_nothing():
    run = ruff("check")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format_would_change_nothing():
    run = ruff("format", "--check")
    assert run.returncode == 0, run.stdout + run.stderr
