"""Where shipped and shared data live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shared_data_dir() -> Path:
    """The team's third-party data folder (``../shared/data`` beside the checkout).

    ``NUANLIU_SHARED_DATA`` overrides it. Only tests and benchmarks read it; whatever the
    platform needs at run time is shipped inside the package.
    """
    if "NUANLIU_SHARED_DATA" in os.environ:
        return Path(os.environ["NUANLIU_SHARED_DATA"])
    return PACKAGE_DIR.parents[2] / "shared" / "data"
