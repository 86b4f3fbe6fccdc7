"""A finished job's pictures as a caller asked to receive them (``Rendition``): the stored PNG
itself when nothing changes, else a copy resized and re-encoded, stored beside the job's images
when it must be downloadable. CPU work: callers on an event loop run it in a thread."""

from __future__ import annotations

from selfjourney.domain.errors import ActionUnavailable
from selfjourney.domain.jobs import Job
from selfjourney.domain.params import GridIndex
from selfjourney.domain.renditions import Rendition
from selfjourney.imaging.renditions import render
from selfjourney.storage.base import Storage


class Pictures:
    """Renditions of finished jobs' pictures, over the job's storage.

    Usage::

        pictures = Pictures(storage)
        data = pictures.data(job, GridIndex(1), Rendition(format="jpeg"))     # bytes
        key = pictures.key(job, GridIndex(1), Rendition(size=(512, 512)))    # stored; a URL's key
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def data(self, job: Job, index: GridIndex, wanted: Rendition, *, coarse: int = 1) -> bytes:
        """The encoded picture; ``coarse`` > 1 gives a coarser stage of it (same size)."""
        stored, size = self._stored(job, index)
        if wanted.is_stored(size) and coarse == 1:
            return self._storage.get(stored)
        key = wanted.key(job.id, index, stored=size)
        if coarse == 1 and self._storage.exists(key):
            return self._storage.get(key)
        return render(self._storage.get(stored), wanted, coarse=coarse)

    def key(self, job: Job, index: GridIndex, wanted: Rendition) -> str:
        """A storage key holding the rendition, made and stored now unless already there."""
        stored, size = self._stored(job, index)
        if wanted.is_stored(size):
            return stored
        key = wanted.key(job.id, index, stored=size)
        if not self._storage.exists(key):
            self._storage.put(key, render(self._storage.get(stored), wanted))
        return key

    def _stored(self, job: Job, index: GridIndex) -> tuple[str, tuple[int, int]]:
        result = job.result
        if result is None or job.expired or index.offset >= len(result.images):
            raise ActionUnavailable(
                f"job {job.id} has no picture {int(index)} to send", job.id, "picture"
            )
        return result.images[index.offset], (result.width, result.height)
