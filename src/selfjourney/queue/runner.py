"""One job, start to finish: claim, render, store the images, then COMPLETED or FAILED.

Safe to run twice for the same id: the claim lets one worker in, and output keys are
deterministic (``images/{job_id}-{n}.png``), so a re-run overwrites and never duplicates.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from PIL import Image

from selfjourney.core.errors import InvalidInput, Retry
from selfjourney.core.jobs import Job, JobKind, JobStatus, Result
from selfjourney.core.render import blend_references, compose_grid, refine_upscale, render_grid
from selfjourney.core.rules import check_upscale_image
from selfjourney.core.sizes import grid_image_size
from selfjourney.core.watermark import apply_watermark
from selfjourney.engines.base import Engine, Picture, Reference
from selfjourney.engines.upscale import Lanczos, Upscaler
from selfjourney.storage.base import Storage
from selfjourney.storage.fetch import FetchError
from selfjourney.store import Store
from selfjourney.webhooks.events import Events

log = logging.getLogger(__name__)

#: Called to put a job back in the queue after ``defer`` seconds (a Retry).
Requeue = Callable[[str, float], None]
MAX_RETRIES = 3


class SourceImageError(Exception):
    """A caller's image that cannot be upscaled; the message is the job's error as it is."""


def image_key(job_id: str, n: int) -> str:
    return f"images/{job_id}-{n}.png"


def grid_key(job_id: str) -> str:
    return f"images/{job_id}-grid.png"


class JobRunner:
    """Callable by a queue with a job id; never raises for a job's own failure."""

    def __init__(
        self,
        store: Store,
        storage: Storage,
        engine: Engine,
        events: Events,
        png_compress_level: int = 1,
        render_delay: float = 0.0,
        fetch: Callable[[str], Image.Image] | None = None,
        upscaler: Upscaler | None = None,
    ) -> None:
        self.store = store
        self.storage = storage
        self.engine = engine
        self.events = events
        self.png_compress_level = png_compress_level
        self.render_delay = render_delay
        self.fetch = fetch
        #: Made once per runtime (it holds the loaded network); Lanczos when none is given.
        self.upscaler: Upscaler = upscaler or Lanczos()
        self.requeue: Requeue = lambda job_id, defer: None

    def __call__(self, job_id: str) -> None:
        claimed = self.store.jobs.claim(job_id)
        if claimed is None:
            return  # finished already, or another worker has it
        self.run_claimed(*claimed)

    def run_claimed(self, job: Job, mask: bytes | None = None) -> None:
        """Render a job this caller already holds in PROCESSING (a claim or an inline insert)."""
        try:
            result = self._produce(job, mask)
        except Retry as retry:
            self._retry(job, retry)
        except Exception as exc:  # any engine or storage error fails the job, with a refund
            log.warning("job %s failed: %s", job.id, exc, exc_info=True)
            self._fail(job, _failure_message(exc))
        else:
            self._complete(job, result)

    def _produce(self, job: Job, mask: bytes | None) -> Result:
        if job.kind is JobKind.UPSAMPLE:
            return self._upsample(job)
        if job.kind is JobKind.UPSCALE:
            return self._upscale(job)
        progress = _Progress(self, job)
        references = self._references(job)
        source, opened_mask = self._source(job), _open_mask(mask)
        pictures = render_grid(job, self.engine, source, opened_mask, progress, references)
        self._delay(progress)
        return self._store_grid(job, pictures, progress)

    def _references(self, job: Job) -> tuple[Reference, ...]:
        """The caller's reference images, downloaded now (a failure fails the job)."""
        wanted = job.params.get("references")
        if not wanted:
            return ()
        if self.fetch is None:
            raise FetchError("this server cannot download reference images")
        mode, weight = str(wanted["mode"]), float(wanted["weight"])
        images = [self.fetch(url) for url in wanted["urls"]]
        if mode == "blend":
            return blend_references(images, grid_image_size(job.params.get("aspect_ratio", "1:1")))
        return tuple(Reference(image, mode, weight) for image in images)

    def _upsample(self, job: Job) -> Result:
        """U1-U4: the grid image itself, byte for byte, as a standalone image."""
        source = job.params["source"]
        if job.params.get("watermark"):
            image = _open_png(self.storage.get(source["key"]))
            self.storage.put(image_key(job.id, 1), self._png(self._marked(job, image)))
        else:
            self.storage.copy(source["key"], image_key(job.id, 1))
        width, height = int(source["width"]), int(source["height"])
        return Result([image_key(job.id, 1)], None, width, height, [source["recipe"]])

    def _upscale(self, job: Job) -> Result:
        """2x or 4x of an upsample: super-resolution, then the engine's detail pass if creative."""
        progress = _Progress(self, job)
        source = job.params.get("source", {})
        image = self._upscale_source(job)
        progress.engine(0.1)
        image = self.upscaler.upscale(image, int(job.params["factor"]))
        progress.engine(0.5)
        if job.params.get("mode") == "creative":
            enlarged = Picture(image, source.get("recipe", {}))
            detail = refine_upscale(job, self.engine, enlarged, lambda f: progress(0.5 + f / 2))
            image = detail.image
        image = self._marked(job, image)
        self.storage.put(image_key(job.id, 1), self._png(image))
        recipe = {"upscale": {"factor": job.params["factor"], "mode": job.params.get("mode")}}
        return Result([image_key(job.id, 1)], None, image.width, image.height, [recipe])

    def _upscale_source(self, job: Job) -> Image.Image:
        """The picture to upscale: the parent's, or the caller's ``image_url`` (checked now)."""
        url = job.params.get("image_url")
        if url is None:
            return _open_png(self.storage.get(job.params["source"]["key"]))
        try:
            if self.fetch is None:
                raise FetchError("this server cannot download images")
            image = self.fetch(str(url))
            check_upscale_image(image.width, image.height, int(job.params["factor"]))
        except (FetchError, InvalidInput) as exc:
            raise SourceImageError(f"image_url unusable: {exc}") from None
        return image

    def _source(self, job: Job) -> Picture | None:
        """The parent picture recorded when the action was accepted."""
        if "source" not in job.params:
            return None
        source = job.params["source"]
        return Picture(_open_png(self.storage.get(source["key"])), source["recipe"])

    def _store_grid(self, job: Job, pictures: list[Picture], progress: _Progress) -> Result:
        keys = []
        images = [self._marked(job, picture.image) for picture in pictures]
        for n, image in enumerate(images, start=1):
            keys.append(image_key(job.id, n))
            self.storage.put(keys[-1], self._png(image))
            progress.at(0.9 + 0.02 * n)
        grid = compose_grid(images)
        self.storage.put(grid_key(job.id), self._png(grid))
        width, height = pictures[0].image.size
        return Result(keys, grid_key(job.id), width, height, [p.recipe for p in pictures])

    def _marked(self, job: Job, image: Image.Image) -> Image.Image:
        text = job.params.get("watermark")
        return apply_watermark(image, str(text)) if text else image

    def _png(self, image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=self.png_compress_level)
        return out.getvalue()

    def _delay(self, progress: _Progress) -> None:
        """The configured pretend-GPU time, spread over a few progress steps."""
        if self.render_delay <= 0:
            return
        for step in range(1, 5):
            time.sleep(self.render_delay / 4)
            progress.engine(step / 4)

    def _complete(self, job: Job, result: Result) -> None:
        done = job.moved(
            JobStatus.COMPLETED, result=result, progress=100, completed_at=self.store.db.now()
        )
        done = replace(done, webhook_status="pending" if self.events.wants(done) else None)
        deliveries = self.events.terminal(done)
        if self.store.jobs.complete(done, deliveries) and deliveries:
            self.events.notify()

    def fail(self, job: Job, message: str) -> None:
        """End a running job as FAILED with a refund (also used by the watchdog)."""
        self._fail(job, message)

    def _fail(self, job: Job, message: str) -> None:
        failed = job.moved(
            JobStatus.FAILED,
            error=message,
            progress=0,
            refunded=job.cost > 0,
            completed_at=self.store.db.now(),
        )
        failed = replace(failed, webhook_status="pending" if self.events.wants(failed) else None)
        deliveries = self.events.terminal(failed)
        if self.store.jobs.fail(failed, deliveries) and deliveries:
            self.events.notify()

    def _retry(self, job: Job, retry: Retry) -> None:
        if job.attempt >= MAX_RETRIES:
            self._fail(job, f"Image generation failed after {job.attempt} attempts: {retry}")
            return
        self.store.jobs.requeue(job.id)
        self.requeue(job.id, retry.defer)


class _Progress:
    """Maps engine fractions onto job progress 5..90, throttling writes and webhooks."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.runner = runner
        self.job = job
        self.last = 0
        self.last_write = 0.0
        self.lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        self.engine(fraction)

    def engine(self, fraction: float) -> None:
        self.at(0.05 + 0.85 * max(0.0, min(1.0, fraction)))

    def at(self, fraction: float) -> None:
        percent = min(99, int(fraction * 100))
        now = time.monotonic()
        with self.lock:
            if percent <= self.last or now - self.last_write < 0.1:
                return
            self.last, self.last_write = percent, now
        self.runner.store.jobs.set_progress(self.job.id, percent)
        self.runner.events.progress(replace(self.job, progress=percent))


def _open_png(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def _open_mask(data: bytes | None) -> Image.Image | None:
    if data is None:
        return None
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("L")


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        return "Image generation failed: out of memory"
    if isinstance(exc, SourceImageError):
        return str(exc)
    if isinstance(exc, FetchError):
        return f"Reference image unusable: {exc}"
    return f"Image generation failed: {exc}" if str(exc) else "Image generation failed"
