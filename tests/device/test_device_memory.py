"""Resident memory stays flat over 10,000 frames of `edgecnn run` with every output on (slow: run with -m slow).

Uses the tiny test model so that it takes about half a minute; ``tools/bench_memory.py`` runs the same
measurement on the int8 MobileNet V2 for the documented number.
"""

from __future__ import annotations

import sys

import pytest
from device_helpers import REPO, write_video


@pytest.mark.slow
def test_rss_grows_less_than_5_mb_over_10k_frames(models, tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    from bench_memory import measure

    video = write_video(tmp_path / "loop.avi", colours=["red", "green", "blue", "dark"] * 10, size=(640, 480))
    report = measure(models["int8"], video, frames=10_000, every=500, settle=1000, progress=False)
    assert report["frames"] == 10_000
    assert report["growth_mb"] < 5.0, report["samples"]
