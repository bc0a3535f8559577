"""A slow, obviously right model of offset translation: keep every sync ever written (since
the last upstream rewind) and translate from the newest one at or below the group's offset."""

from __future__ import annotations

from replicator.offsets import OffsetSync


class AllSyncs:
    """Every sync of one partition, in order."""

    def __init__(self) -> None:
        self.syncs: list[OffsetSync] = []

    def add(self, sync: OffsetSync) -> None:
        """Keep the sync; a rewind forgets everything before it."""
        if self.syncs and sync.upstream < self.syncs[-1].upstream:
            self.syncs = []
        self.syncs.append(sync)

    def translate(self, upstream: int) -> int | None:
        """The best translation any kept sync allows."""
        usable = [s for s in self.syncs if s.upstream <= upstream]
        if not usable:
            return None
        best = max(reversed(usable), key=lambda s: s.upstream)  # the newest of equals
        return best.downstream + (0 if best.upstream == upstream else 1)


def true_position(copies: list[tuple[int, int]], upstream: int, downstream_end: int) -> int:
    """Where a group at `upstream` must resume on the target so it skips nothing: the target
    offset of the first copied record at or after `upstream` (the target's end if none)."""
    later = [down for up, down in copies if up >= upstream]
    return min(later) if later else downstream_end
