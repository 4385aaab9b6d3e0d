"""Where MAGNET keeps its state: $MAGNET_HOME, by default ./.magnet."""

import os
from pathlib import Path


def magnet_home() -> Path:
    return Path(os.environ.get("MAGNET_HOME", ".magnet"))
