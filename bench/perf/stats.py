"""Pure statistics of the benchmark: medians, percentiles, ratios (NaN when undefined)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile of ``values``, interpolated linearly (NaN if empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """Return the median of ``values`` (NaN when there are none)."""
    return percentile(values, 50)


def ratio(value: float, reference: float) -> float:
    """Return ``value / reference`` (NaN when either is missing or the reference is 0)."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return math.nan
    return value / reference
