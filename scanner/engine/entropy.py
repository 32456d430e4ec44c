"""Shannon entropy, the noise floor for random-looking secrets."""
from __future__ import annotations

import functools
import math
from collections import Counter


# Cached: in a crafted or repetitive log the same value recurs at thousands of hints (200 KB of
# `token=` in JSON spent half its time here).
@functools.lru_cache(maxsize=4096)
def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())
