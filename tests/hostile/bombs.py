"""Decompression bombs: small, valid PNG files that declare a huge canvas.

The pixels are never held in memory here: the file is written chunk by chunk (signature, IHDR,
one IDAT fed to ``zlib`` a row at a time, IEND), so an 8000x8000 RGBA picture, 256 MB once
decoded, costs a few hundred KB to build and to send.

Usage::

    data = png_bomb(8000, 8000)          # bytes of a valid all-black RGBA PNG
    text = base64.b64encode(data).decode()
"""

from __future__ import annotations

import functools
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour type and bytes per pixel of the modes offered (8 bits a sample).
_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@functools.lru_cache(maxsize=8)
def png_bomb(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels, built without allocating them."""
    colour_type, channels = _COLOUR_TYPES[mode]
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes(width * channels)  # filter type 0, then the row's samples
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def decoded_megabytes(width: int, height: int, mode: str = "RGBA") -> float:
    """What Pillow needs to hold the decoded picture, in MB."""
    return width * height * _COLOUR_TYPES[mode][1] / 2**20
