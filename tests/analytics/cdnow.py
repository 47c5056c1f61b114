"""The CDNOW sample (2,357 customers who first bought in Q1 1997, purchases to June 1998), read
from the copy the ``lifetimes`` package ships, without importing lifetimes."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

CALIBRATION_END = np.datetime64("1997-09-30")  # 39 weeks after 1997-01-01 (week 1 starts there)
HOLDOUT_END = np.datetime64("1998-06-30")  # 39 more weeks


def lifetimes_dataset(name: str) -> Path:
    spec = find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (dev extra) ships the CDNOW sample; not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@dataclass(frozen=True)
class Transactions:
    customer: np.ndarray  # the sample's customer id, e.g. "0001"
    day: np.ndarray  # datetime64[D]
    cds: np.ndarray
    amount: np.ndarray

    @property
    def days(self) -> np.ndarray:
        return self.day.astype(np.int64)


def cdnow_transactions() -> Transactions:
    """One row per transaction: master id, sample id, date (YYYYMMDD), CDs, dollar value."""
    rows = lifetimes_dataset("CDNOW_sample.txt").read_text().split()
    table = np.array(rows, dtype=object).reshape(-1, 5)
    dates = [f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in table[:, 2]]
    return Transactions(
        customer=table[:, 1].astype(str),
        day=np.array(dates, dtype="datetime64[D]"),
        cds=table[:, 3].astype(np.int64),
        amount=table[:, 4].astype(np.float64),
    )
