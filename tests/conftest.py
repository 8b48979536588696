"""Shared fixtures: small, fast scenarios for tests that do not need the full scale."""

from __future__ import annotations

from pathlib import Path

import pytest

import govsim

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def baseline() -> govsim.Scenario:
    """The bundled status-quo scenario at its full default scale."""
    return govsim.Scenario.load(ROOT / "scenarios" / "baseline.toml")


@pytest.fixture
def small(baseline) -> govsim.Scenario:
    """The baseline at a tenth of the consumers and three years: fast, same dynamics."""
    return baseline.with_overrides({"consumers.count": 2_000, "run.months": 36})
