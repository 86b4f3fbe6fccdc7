"""A caller's copy of a stored picture: its format, its exact size, its encoder quality.

A job's pictures are stored once, as PNG at the size the engine drew them, so every button
(U/V, pan, zoom) starts from the same pixels whatever a client asked to receive. A dialect that
promises another format or an exact size (the OpenAI Images API) asks for a rendition: made
from the stored picture and, when it must be downloadable by URL, stored beside the job's
images under a stable name and purged with them.

Usage::

    wanted = Rendition(format="webp", size=(512, 512), quality=80)
    key = wanted.key(job_id, 2, stored=(1024, 1024))   # images/renditions/<job>/2-512x512-q80.webp
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selfjourney.domain.errors import InvalidInput

ImageFormat = Literal["png", "jpeg", "webp"]
IMAGE_FORMATS: tuple[ImageFormat, ...] = ("png", "jpeg", "webp")
#: Renditions live under this folder, beside the job's images (so served with them).
RENDITIONS = "images/renditions/"


def renditions_folder(job_id: str) -> str:
    """Every rendition of one job is under this prefix; purging the job removes the folder."""
    return f"{RENDITIONS}{job_id}/"


@dataclass(frozen=True)
class Rendition:
    """How a stored picture should reach a caller."""

    format: ImageFormat = "png"
    #: (width, height) to resize to exactly; None keeps the stored picture's size.
    size: tuple[int, int] | None = None
    #: JPEG and WebP encoder quality, 0-100 (100 best); PNG is lossless and ignores it.
    quality: int = 100

    def __post_init__(self) -> None:
        if self.format not in IMAGE_FORMATS:
            raise InvalidInput(f"image format must be png, jpeg or webp, not {self.format}")
        if not 0 <= self.quality <= 100:
            raise InvalidInput(f"image quality must be 0-100, not {self.quality}")
        if self.size is not None and min(self.size) < 1:
            raise InvalidInput(f"image size must be positive, not {self.size}")

    def size_of(self, stored: tuple[int, int]) -> tuple[int, int]:
        """The rendition's pixel size for a picture stored at ``stored``."""
        return self.size or stored

    def is_stored(self, stored: tuple[int, int]) -> bool:
        """Whether the stored PNG itself is this rendition (no resize, no re-encode)."""
        return self.format == "png" and self.size_of(stored) == stored

    def key(self, job_id: str, index: int, *, stored: tuple[int, int]) -> str:
        """A stable storage key: the same rendition of the same picture is made once."""
        width, height = self.size_of(stored)
        quality = "" if self.format == "png" else f"-q{self.quality}"
        return f"{renditions_folder(job_id)}{index}-{width}x{height}{quality}.{self.format}"
