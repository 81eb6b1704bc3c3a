"""Draw Meter Hub's brand icon (a meter dial with a needle) as PNG, with the standard library only.

Run once when the design changes: python scripts/make_icon.py custom_components/meterhub/brand
"""

import math
from pathlib import Path
import struct
import sys
import zlib


def pixel(x: float, y: float, size: int) -> tuple[int, int, int, int]:
    c = size / 2
    dx, dy = (x - c) / c, (y - c) / c
    r = math.hypot(dx, dy)
    # Rounded-square background.
    corner = 0.22
    qx, qy = max(abs(dx) - (1 - corner), 0), max(abs(dy) - (1 - corner), 0)
    if math.hypot(qx, qy) > corner:
        return (0, 0, 0, 0)
    bg = (18, 120, 190, 255)
    angle = math.degrees(math.atan2(-dy, dx))
    # Dial arc from 210 to -30 degrees, thick white, with a green-to-orange tint.
    if 0.55 < r < 0.72 and (angle >= -30 or angle <= -150):
        a = angle if angle >= -30 else angle + 360
        t = (210 - a) / 240
        return (int(80 + 175 * t), int(220 - 90 * t), 90, 255)
    # Needle towards 60 degrees.
    nx, ny = math.cos(math.radians(60)), -math.sin(math.radians(60))
    along = dx * nx + dy * ny
    across = abs(-dx * ny + dy * nx)
    if 0 <= along <= 0.62 and across < 0.06 * (1 - along / 0.8):
        return (255, 255, 255, 255)
    if r < 0.11:
        return (255, 255, 255, 255)
    # A lightning bolt below the hub.
    if 0.25 < dy < 0.62 and abs(dx + (dy - 0.43) * 0.5) < 0.07:
        return (255, 214, 0, 255)
    return bg


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x + 0.5, y + 0.5, size)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "custom_components/meterhub/brand")
    out.mkdir(parents=True, exist_ok=True)
    (out / "icon.png").write_bytes(png(256))
    (out / "icon@2x.png").write_bytes(png(512))
