#!/usr/bin/env python
"""Write the committed corpus of hostile and unlucky image files in tests/data/hostile/ (deterministic).

Each file is something a moderation queue really receives: empty or truncated uploads, other formats under an image
name, crafted headers Pillow chokes on, decompression bombs, odd modes (CMYK, 16-bit, float with NaN), animations,
rotated and extreme-aspect images. ``good_*`` files must always be scored; every other file either scored or
reported with an error naming it. Run: ``python tests/make_hostile_corpus.py``.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "data" / "hostile"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def build() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    files: dict[str, bytes] = {}

    def save(image: Image.Image, fmt: str, **options) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        return buffer.getvalue()

    good_jpeg = save(Image.fromarray(pixels), "JPEG", quality=90)
    files["good_photo.jpg"] = good_jpeg
    files["good_photo.png"] = save(Image.fromarray(pixels), "PNG")
    files["empty.jpg"] = b""
    files["truncated.jpg"] = good_jpeg[: len(good_jpeg) // 3]
    files["text_named.jpg"] = b"this is a text file, not a photo\n" * 4
    files["qoi_named.png"] = b"qoif\x00\x00\x00\x10\x00\x00\x00\x10\x03\x00" + bytes(26)
    files["dds_named.jpg"] = b"DDS |" + bytes(187)
    files["cmyk.jpg"] = save(Image.fromarray(pixels).convert("CMYK"), "JPEG")
    files["deep_16bit.png"] = save(Image.fromarray(np.linspace(0, 65535, 48 * 64, dtype=np.uint16).reshape(48, 64)), "PNG")
    nan = np.ones((16, 16), dtype=np.float32)
    nan[3, 3] = np.nan
    files["nan_float.tif"] = save(Image.fromarray(nan, mode="F"), "TIFF")
    frames = [Image.fromarray(np.roll(pixels, shift, axis=1)) for shift in (0, 8, 16)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    files["animated.gif"] = buffer.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90
    files["rotated_exif.jpg"] = save(Image.fromarray(pixels), "JPEG", exif=exif.tobytes())
    files["strip_1x5000.png"] = save(Image.new("RGB", (5000, 1), (120, 30, 200)), "PNG")
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # 10^10 pixels announced, no data
    files["bomb_header.png"] = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")
    files["alpha.png"] = save(Image.fromarray(np.dstack([pixels, np.full((48, 64), 128, np.uint8)])), "PNG")
    webp = bytearray(save(Image.fromarray(pixels), "WEBP", quality=80))
    webp[40:48] = b"\xff" * 8
    files["damaged.webp"] = bytes(webp)
    return files


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        (OUT / name).write_bytes(data)
    print(f"{len(build())} files in {OUT}")


if __name__ == "__main__":
    main()
