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


#: Version 4, RFC 4122 variant: the bits `uuid.UUID(int=..., version=4)` sets.
UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)
UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


def random_uuid(bits: Callable[[int], int]) -> str:
    """A random version-4 UUID as text, from a `getrandbits` (faster than `uuid.UUID`)."""
    h = f"{bits(128) & UUID_MASK | UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def text_maker(rng: random.Random, field_name: str) -> Callable[[], str]:
    """A function returning short readable text such as `status-amber-417`."""
    prefix = field_name or "text"
    bits = rng.getrandbits

    def make() -> str:
        return f"{prefix}-{WORDS[bits(5)]}-{bits(10)}"

    return make
