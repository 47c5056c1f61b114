"""Train the shipped sentiment model into its folder: ``python -m flywheel.feedback.text.build``."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from flywheel.feedback.text.sentiment import MODEL_DIR, build


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="folder to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    model = build(args.out)
    logging.getLogger(__name__).info(
        "sentiment model %s written to %s in %.1f s",
        model.version,
        args.out,
        time.perf_counter() - started,
    )


if __name__ == "__main__":
    main()
