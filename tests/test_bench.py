"""`digest bench` wiring: every area reports figures in one shape, and the velocity feed."""

from __future__ import annotations

import importlib
import inspect
from datetime import UTC, datetime, timedelta

import pytest

from digest.bench import AREAS
from digest.editions import upvote_velocity


@pytest.mark.parametrize("area", AREAS)
def test_each_bench_area_has_a_quick_mode(area):
    run = importlib.import_module(f"digest.bench_{area}").run
    assert "quick" in inspect.signature(run).parameters


def test_upvote_velocity_is_the_gain_per_day_between_the_last_two_snapshots():
    t = datetime(2025, 3, 14, tzinfo=UTC)
    snapshots = {
        "rising": [(t, 1), (t + timedelta(hours=12), 10), (t + timedelta(days=1), 30)],
        "flat": [(t, 5), (t + timedelta(days=1), 5)],
        "new": [(t, 50)],
    }
    velocity = upvote_velocity(snapshots)
    assert velocity == {"rising": 40.0, "flat": 0.0}
