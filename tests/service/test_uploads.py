"""Images a caller sends inline: an edit of an uploaded picture (with a mask an inpaint, else a
variation) and reference images, stored with the job, rendered by the worker, purged with it."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from selfjourney.domain.commands import EditImage, Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import (
    InsufficientCredits,
    InvalidImage,
    InvalidInput,
    InvalidMask,
)
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import References
from selfjourney.domain.status import JobStatus
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import Lanczos
from selfjourney.service import Service
from selfjourney.worker.janitor import Janitor
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import Worker
from tests.hostile.bombs import png_bomb
from tests.worker.test_worker import NoDeliveries


class Nowhere:
    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        pass


@pytest.fixture
def parts(store, storage):
    service = Service(store=store, storage=storage, queue=Nowhere(), costs=dict(DEFAULT_COSTS))
    renderer = Renderer(storage=storage, engine=ProceduralEngine(), upscaler=Lanczos())
    worker = Worker(store=store, renderer=renderer, events=NoDeliveries(store))
    account, _ = store.accounts.create("t", credits=1000)
    return service, worker, account


def _encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


def _picture(size=(96, 64)) -> Image.Image:
    """A picture no engine would draw: a horizontal ramp with a blue bar."""
    ramp = np.tile(np.linspace(0, 255, size[0], dtype=np.uint8), (size[1], 1))
    pixels = np.stack([ramp, ramp[::-1, ::-1], np.full_like(ramp, 40)], axis=-1)
    pixels[10:20, :, 2] = 255
    return Image.fromarray(pixels)


def _uploads(storage) -> list[str]:
    folder = storage.root / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _pixels(storage, key: str) -> np.ndarray:
    with Image.open(io.BytesIO(storage.get(key))) as image:
        return np.asarray(image.convert("RGB"))


def _alpha_mask(size=(96, 64)) -> Image.Image:
    """OpenAI's convention: transparent where to edit (the right half here)."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (size[0] // 2, 0, size[0], size[1]))
    return mask


def _white_mask(size=(96, 64)) -> Image.Image:
    """The white-repaints convention: white where to edit (the right half here)."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (size[0] // 2, 0, size[0], size[1]))
    return mask


@pytest.mark.parametrize("mask", [_alpha_mask(), _white_mask()], ids=["alpha", "white"])
def test_an_edit_with_a_mask_repaints_only_the_masked_half(parts, store, storage, mask):
    service, worker, account = parts
    picture = _picture()
    command = EditImage(_encoded(picture), "a red door", mask=_encoded(mask))
    job, _ = service.edit_image(account, command)
    assert job.kind is JobKind.INPAINT and job.parent_id is None
    assert job.params.source is not None and job.params.source.key in {
        f"uploads/{name}" for name in _uploads(storage)
    }
    worker.run(job.id)
    done = store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.result is not None
    original = np.asarray(picture)
    for key in done.result.images:
        drawn = _pixels(storage, key)
        assert drawn.shape == original.shape
        assert (drawn[:, :48] == original[:, :48]).all()  # kept exactly
        assert (drawn[:, 48:] != original[:, 48:]).any()  # repainted


def test_an_edit_without_a_mask_is_a_variation_of_the_picture(parts, store):
    service, worker, account = parts
    command = EditImage(_encoded(_picture(), "JPEG"), "at night --seed 9", strength="strong")
    job, _ = service.edit_image(account, command)
    assert job.kind is JobKind.VARIATION and job.seed == 9
    assert job.params.action.strength == "strong" and job.prompt == "at night"
    worker.run(job.id)
    done = store.jobs.get(job.id)
    assert done is not None and done.result is not None and len(done.result.images) == 4
    assert (done.result.width, done.result.height) == (96, 64)
    assert store.accounts.get(account.id).credits == 1000 - DEFAULT_COSTS["variation"]


def test_a_large_picture_is_scaled_down_and_its_mask_follows(parts):
    service, _, account = parts
    picture = _picture((3000, 1000))
    job, _ = service.edit_image(
        account, EditImage(_encoded(picture), "x", mask=_encoded(_white_mask((3000, 1000))))
    )
    assert job.params.source is not None
    assert (job.params.source.width, job.params.source.height) == (2048, 683)
    with pytest.raises(InvalidMask, match="must be 3000x1000"):
        service.edit_image(
            account, EditImage(_encoded(picture), "x", mask=_encoded(_white_mask((2048, 683))))
        )


@pytest.mark.parametrize(
    ("image", "mask", "error", "message"),
    [
        (b"not an image", None, InvalidImage, "image is not a PNG, JPEG or WebP"),
        (png_bomb(8000, 8000, "RGBA"), None, InvalidImage, "8000x8000"),
        (_encoded(Image.new("RGB", (8, 8))), None, InvalidImage, "at least 16 pixels"),
        (None, _encoded(Image.new("L", (96, 64), 0)), InvalidMask, "marks no area to edit"),
        (None, b"junk", InvalidMask, "mask is not a PNG"),
    ],
    ids=["not-an-image", "bomb", "tiny", "empty-mask", "junk-mask"],
)
def test_a_refused_edit_stores_and_charges_nothing(
    parts, store, storage, image, mask, error, message
):
    service, _, account = parts
    command = EditImage(image or _encoded(_picture()), "x", mask=mask)
    with pytest.raises(error, match=message):
        service.edit_image(account, command)
    assert _uploads(storage) == [] and store.accounts.get(account.id).credits == 1000


def test_an_unaffordable_edit_leaves_no_upload_behind(parts, store, storage):
    service, _, _ = parts
    poor, _ = store.accounts.create("poor", credits=1)
    with pytest.raises(InsufficientCredits):
        service.edit_image(poor, EditImage(_encoded(_picture()), "x"))
    assert _uploads(storage) == []


def test_inline_reference_images_guide_a_grid_and_go_with_its_images(parts, store, storage):
    service, worker, account = parts
    images = (_encoded(_picture()), _encoded(_picture((64, 64)), "JPEG"))
    job, _ = service.imagine(
        account, Imagine("a fox", images=images, references=References(mode="style"))
    )
    assert job.params.references is not None and job.params.references.mode == "style"
    assert len(job.params.references.keys) == 2 and len(_uploads(storage)) == 2
    worker.run(job.id)
    done = store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED
    janitor = Janitor(
        store=store, storage=storage, fail=worker.fail, job_timeout=60, retention_days=1
    )
    assert done.completed_at is not None
    assert janitor.purge(done.completed_at + timedelta(seconds=1)) == 1
    assert _uploads(storage) == []


def test_inline_images_count_with_urls_against_the_limit(parts, storage):
    service, _, account = parts
    urls = tuple(f"https://images.example/{n}.png" for n in range(4))
    image = _encoded(_picture())
    with pytest.raises(InvalidInput, match="at most 5 reference images"):
        service.imagine(account, Imagine("x", references=References(urls), images=(image, image)))
    assert _uploads(storage) == []
