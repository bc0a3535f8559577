"""Plain text for string fields that carry no PII tag: readable words, cheap to draw."""

from __future__ import annotations

import random
from collections.abc import Callable

WORDS = (
    "amber", "basil", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
    "kestrel", "lagoon", "maple", "nectar", "onyx", "pepper", "quartz", "raven", "saffron",
    "tundra", "umber", "violet", "willow", "xenon", "yarrow", "zephyr", "alpine", "breeze",
    "coral", "dune", "echo", "falcon",
)  # fmt: skip
assert len(WORDS) == 32  # a word is drawn with 5 random bits


def text_maker(rng: random.Random, field_name: str) -> Callable[[], str]:
    """A function returning short readable text such as `status-amber-417`."""
    prefix = field_name or "text"
    bits = rng.getrandbits

    def make() -> str:
        return f"{prefix}-{WORDS[bits(5)]}-{bits(10)}"

    return make
