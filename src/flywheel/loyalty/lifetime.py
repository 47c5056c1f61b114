"""Customer lifetime value of every account: the purchase model (BG/NBD or Pareto/NBD) and the
spend model (Gamma-Gamma) fitted on the company's purchase days, then applied to each account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClvScores:
    """Per account (frame rows), NaN where an account has no purchase to go on. Money is in
    the account's currency units (not cents)."""

    frequency: FloatArray  # repeat purchase days
    recency: FloatArray  # days from the first to the last purchase day
    age: FloatArray  # days from the first purchase day to as_of (the models' T)
    p_alive: FloatArray
    expected_90: FloatArray
    expected_365: FloatArray
    expected_order_value: FloatArray
    clv: FloatArray
    # Purchases a day the model expects of the account while it is alive: the "expected rate"
    # the health score's purchase-recency factor holds the days since the last purchase to.
    expected_rate: FloatArray
    model: str = "bgnbd"
    params: dict[str, float] = field(default_factory=dict)
    spend_params: dict[str, float] = field(default_factory=dict)
    log_likelihood: float | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
