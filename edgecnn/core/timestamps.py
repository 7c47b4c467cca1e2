"""UTC timestamps in ISO 8601 with a ``Z`` suffix: the one form of every time edgecnn writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utc_iso(timestamp: float, *, milliseconds: bool = False) -> str:
    """``timestamp`` (Unix seconds) as UTC ISO 8601: ``2026-12-01T22:13:55Z``, or ``...T22:13:55.123Z``.

    Args:
        timestamp: Seconds since the epoch, as ``time.time()`` gives them.
        milliseconds: Keep milliseconds (per-frame records); otherwise whole seconds, truncated.
    """
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds" if milliseconds else "seconds").replace("+00:00", "Z")


def utc_now() -> str:
    """The current time as UTC ISO 8601 in whole seconds, e.g. ``2026-12-01T22:13:55Z``."""
    return utc_iso(time.time())
