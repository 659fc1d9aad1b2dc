"""Writing figures to files."""

from __future__ import annotations

import io
from pathlib import Path


def save_small_png(fig, path: str | Path, dpi: int = 100) -> Path:
    """Save ``fig`` as a PNG with a 256-colour palette (a few times smaller than RGBA).

    Uses Pillow, which matplotlib itself depends on. Returns the path written.
    """
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    path = Path(path)
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)
    return path
