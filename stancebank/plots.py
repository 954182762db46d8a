"""Writing matplotlib figures the way every other output is written: atomically, reproducibly."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def save_png(fig: Figure, path: Path, *, dpi: int = 100) -> None:
    """Save ``fig`` through a temp file and a rename (no software/date metadata, so bytes are stable)."""
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
