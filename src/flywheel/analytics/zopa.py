"""The zone of possible agreement of one negotiated issue, from both sides' walk-away points."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Zopa:
    """The closed interval [low, high] both sides would accept; ``width`` is high − low."""

    low: Decimal
    high: Decimal

    @property
    def width(self) -> Decimal:
        return self.high - self.low


def zone_of_agreement(
    our_walkaway: Decimal | None,
    their_walkaway: Decimal | None,
    *,
    higher_is_better: bool,
) -> Zopa | None:
    """The ZOPA, or None when either walk-away is unknown or the walk-aways do not overlap.

    When more is better for us (price), we accept anything at or above our walk-away and they
    anything at or below theirs: the zone is [ours, theirs] if ours ≤ theirs. When less is
    better for us (payment days we give), it is the mirror: [theirs, ours] if theirs ≤ ours.
    """
    if our_walkaway is None or their_walkaway is None:
        return None
    if higher_is_better:
        low, high = our_walkaway, their_walkaway
    else:
        low, high = their_walkaway, our_walkaway
    if low > high:
        return None
    return Zopa(low=low, high=high)


def position_in_zone(agreed: Decimal, zone: Zopa | None, *, higher_is_better: bool) -> float | None:
    """Where an agreed value landed for us: 0 at our walk-away, 1 at theirs (the most we could
    have had); below 0 or above 1 when outside the zone; None without a zone of any width."""
    if zone is None or zone.width == 0:
        return None
    share = (agreed - zone.low) / zone.width
    return float(share if higher_is_better else 1 - share)
