"""``EditImage`` options the OpenAI dialect needs: a shape to crop the picture (and its mask)
to before editing, and a picture's own transparency as its mask (dall-e-2 edits)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from selfjourney.domain.commands import EditImage
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import InvalidImage
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.status import JobStatus
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import Lanczos
from selfjourney.service import Service
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import Worker
from tests.service.test_uploads import Nowhere, _encoded, _picture, _pixels, _white_mask
from tests.worker.test_worker import NoDeliveries


@pytest.fixture
def parts(store, storage):
    service = Service(store=store, storage=storage, queue=Nowhere(), costs=dict(DEFAULT_COSTS))
    renderer = Renderer(storage=storage, engine=ProceduralEngine(), upscaler=Lanczos())
    worker = Worker(store=store, renderer=renderer, events=NoDeliveries(store))
    account, _ = store.accounts.create("t", credits=1000)
    return service, worker, account


def test_a_shape_crops_the_picture_around_its_centre(parts):
    service, _, account = parts
    job, _ = service.edit_image(
        account, EditImage(_encoded(_picture((96, 64))), "x", aspect_ratio="1:1")
    )
    assert job.params.source is not None
    assert (job.params.source.width, job.params.source.height) == (64, 64)
    tall, _ = service.edit_image(
        account, EditImage(_encoded(_picture((96, 64))), "x", aspect_ratio="1:2")
    )
    assert tall.params.source is not None
    assert (tall.params.source.width, tall.params.source.height) == (32, 64)


def test_the_mask_follows_the_crop(parts, store, storage):
    """The right half of 96x64 is masked; cropped to 1:1 (x 16..80), columns 32..64 of the
    crop are repainted and 0..32 kept exactly."""
    service, worker, account = parts
    picture = _picture((96, 64))
    command = EditImage(
        _encoded(picture), "a door", mask=_encoded(_white_mask((96, 64))), aspect_ratio="1:1"
    )
    job, _ = service.edit_image(account, command)
    assert job.kind is JobKind.INPAINT
    worker.run(job.id)
    done = store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.result is not None
    cropped = np.asarray(picture)[:, 16:80]
    drawn = _pixels(storage, done.result.images[0])
    assert drawn.shape == cropped.shape
    assert (drawn[:, :32] == cropped[:, :32]).all()
    assert (drawn[:, 32:] != cropped[:, 32:]).any()


def test_a_crop_below_the_smallest_side_is_refused(parts):
    service, _, account = parts
    with pytest.raises(InvalidImage, match="once cropped to 3:1"):
        service.edit_image(
            account, EditImage(_encoded(_picture((20, 20))), "x", aspect_ratio="3:1")
        )


def _with_hole(size=(96, 64)) -> Image.Image:
    """The picture with its right half transparent: what a dall-e-2 edit sends without a mask."""
    image = _picture(size).convert("RGBA")
    image.paste((0, 0, 0, 0), (size[0] // 2, 0, size[0], size[1]))
    return image


def test_transparency_is_the_mask_when_asked(parts, store, storage):
    service, worker, account = parts
    command = EditImage(_encoded(_with_hole()), "a door", transparency_is_mask=True)
    job, _ = service.edit_image(account, command)
    assert job.kind is JobKind.INPAINT
    worker.run(job.id)
    done = store.jobs.get(job.id)
    assert done is not None and done.result is not None
    kept = np.asarray(_picture())[:, :48]
    assert (_pixels(storage, done.result.images[0])[:, :48] == kept).all()


def test_without_transparency_or_the_option_it_is_a_variation(parts):
    service, _, account = parts
    opaque = EditImage(_encoded(_picture()), "x", transparency_is_mask=True)
    assert service.edit_image(account, opaque)[0].kind is JobKind.VARIATION
    not_asked = EditImage(_encoded(_with_hole()), "x")
    assert service.edit_image(account, not_asked)[0].kind is JobKind.VARIATION
