"""UTC timestamps: one ISO 8601 form with a ``Z``, seconds or milliseconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from edgecnn.core.timestamps import utc_iso, utc_now

# 2026-12-01 22:13:55.123456 UTC
MOMENT = datetime(2026, 12, 1, 22, 13, 55, 123456, tzinfo=UTC).timestamp()


def test_seconds_are_truncated_and_marked_utc():
    assert utc_iso(MOMENT) == "2026-12-01T22:13:55Z"
    assert utc_iso(MOMENT + 0.8) == "2026-12-01T22:13:55Z"  # 55.923 s: truncated, not rounded


def test_milliseconds_for_frames():
    assert utc_iso(MOMENT, milliseconds=True) == "2026-12-01T22:13:55.123Z"
    assert utc_iso(0.0, milliseconds=True) == "1970-01-01T00:00:00.000Z"


def test_independent_of_the_local_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        assert utc_iso(MOMENT) == "2026-12-01T22:13:55Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_now_is_the_current_utc_second():
    before = int(time.time())
    text = utc_now()
    after = int(time.time())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
    stamp = int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    assert before <= stamp <= after


def test_frame_records_use_the_millisecond_form():
    import numpy as np

    from edgecnn.device.pipeline import Prediction

    record = Prediction(
        timestamp=MOMENT, frame=3, source="cam", top=[], timings={"total": 0.001}, scores=np.zeros(2)
    ).to_dict()
    assert record["time"] == "2026-12-01T22:13:55.123Z"
    assert record["timestamp"] == round(MOMENT, 6)
