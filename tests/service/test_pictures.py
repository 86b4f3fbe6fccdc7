"""A finished job's pictures as a caller asks for them: the stored PNG when nothing changes,
else a rendition (exact size, PNG/JPEG/WebP, quality), stored beside the job's images when it
must be downloadable, and purged with them."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from selfjourney.domain.commands import Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import ActionUnavailable, InvalidInput
from selfjourney.domain.params import GridIndex
from selfjourney.domain.renditions import Rendition, renditions_folder
from selfjourney.engines.upscale import Lanczos
from selfjourney.service import Service
from selfjourney.worker.janitor import Janitor
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import Worker
from tests.midapi.fakes import SmallEngine
from tests.worker.test_worker import NoDeliveries


class Nowhere:
    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        pass


@pytest.fixture
def done(store, storage):
    """A service, a worker and one finished 1:1 grid (256x256 pictures, SmallEngine)."""
    service = Service(store=store, storage=storage, queue=Nowhere(), costs=dict(DEFAULT_COSTS))
    renderer = Renderer(storage=storage, engine=SmallEngine(), upscaler=Lanczos())
    worker = Worker(store=store, renderer=renderer, events=NoDeliveries(store))
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a lighthouse"))
    worker.run(job.id)
    finished = store.jobs.get(job.id)
    assert finished is not None and finished.result is not None
    return service, worker, finished


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_stored_png_is_answered_as_it_is(done, storage):
    service, _, job = done
    stored = job.result.images[1]
    assert service.picture(job, GridIndex(2), Rendition()) == storage.get(stored)
    assert service.picture_key(job, GridIndex(2), Rendition()) == stored
    same_size = Rendition(size=(job.result.width, job.result.height))
    assert service.picture_key(job, GridIndex(2), same_size) == stored
    assert not (storage.root / renditions_folder(job.id)).exists()


@pytest.mark.parametrize(
    ("wanted", "kind", "size"),
    [
        (Rendition(size=(512, 300)), "PNG", (512, 300)),
        (Rendition(format="jpeg", quality=60), "JPEG", (256, 256)),
        (Rendition(format="webp", size=(100, 100), quality=90), "WEBP", (100, 100)),
    ],
    ids=["png-resized", "jpeg", "webp-resized"],
)
def test_a_rendition_has_its_format_and_exact_size(done, wanted, kind, size):
    service, _, job = done
    image = _open(service.picture(job, GridIndex(1), wanted))
    assert (image.format, image.size) == (kind, size)


def test_a_rendition_for_a_url_is_stored_once_beside_the_images(done, storage):
    service, _, job = done
    wanted = Rendition(format="jpeg", size=(128, 64), quality=70)
    key = service.picture_key(job, GridIndex(3), wanted)
    assert key == f"images/renditions/{job.id}/3-128x64-q70.jpeg"
    made = storage.get(key)
    assert service.picture_key(job, GridIndex(3), wanted) == key
    assert storage.get(key) == made and service.picture(job, GridIndex(3), wanted) == made


def test_quality_changes_the_bytes_of_lossy_formats_only(done):
    service, _, job = done
    low = service.picture(job, GridIndex(1), Rendition(format="jpeg", quality=5))
    high = service.picture(job, GridIndex(1), Rendition(format="jpeg", quality=95))
    assert len(low) < len(high)
    png = Rendition(size=(200, 200))
    assert service.picture(job, GridIndex(1), png) == service.picture(
        job, GridIndex(1), Rendition(size=(200, 200), quality=5)
    )


def test_a_coarse_stage_is_the_same_size_and_blurrier(done):
    service, _, job = done
    final = np.asarray(_open(service.picture(job, GridIndex(1), Rendition())), np.float32)
    stages = [
        np.asarray(_open(service.picture(job, GridIndex(1), Rendition(), coarse=c)), np.float32)
        for c in (8, 2)
    ]
    assert all(stage.shape == final.shape for stage in stages)
    errors = [float(np.abs(stage - final).mean()) for stage in stages]
    assert errors[0] > errors[1] > 0  # coarse to fine


def test_no_picture_to_send_is_refused(done):
    service, _, job = done
    with pytest.raises(ActionUnavailable):
        service.picture(replace(job, result=None), GridIndex(1), Rendition())
    with pytest.raises(InvalidInput):
        Rendition(quality=101)


def test_renditions_are_purged_with_the_job(done, store, storage):
    service, worker, job = done
    key = service.picture_key(job, GridIndex(1), Rendition(format="webp"))
    janitor = Janitor(
        store=store, storage=storage, fail=worker.fail, job_timeout=60, retention_days=1
    )
    assert janitor.purge(job.completed_at + timedelta(seconds=1)) == 1
    assert not storage.exists(key) and not storage.exists(job.result.images[0])
    assert not (storage.root / renditions_folder(job.id)).exists()
