"""Generate, upsample, variation, pan and inpaint over HTTP, rendered by the diffusers engine.

The engine is built by ``build_embedded`` from the settings (engine "diffusers", a tiny random
pipeline on disk, ``local_files_only``), so this is the production wiring; ``max_side`` maps
the ~1 MP grid sizes down to 64 pixels to keep the CPU work small.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None:
    pytest.skip("the diffusers extra is not installed", allow_module_level=True)

from selfjourney.embedded import build_embedded
from tests.apiframe_v1.flows import mask_b64, submit, submit_done
from tests.conftest import make_settings
from tests.engines.tiny_diffusers import save_tiny_pipeline
from tests.flows import act, download, drain, finished, generate
from tests.midapi.files import FileServer
from tests.midapi.steps import bearer, images, png
from tests.midapi.steps import finished as midapi_finished
from tests.midapi.steps import submit as midapi_submit


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def diffusers_client(
    tmp_path: Path, tiny_model: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(
        tmp_path / "data",
        engine="diffusers",
        model=str(tiny_model),
        steps=2,
        local_files_only=True,
        device="cpu",
        max_side=64,
        upscaler="lanczos",
    )
    runtime = build_embedded(settings)
    assert runtime.workers.engine.name == "diffusers"
    _, key = runtime.store.accounts.create("test", credits=1000)
    with TestClient(runtime.app()) as client:
        yield client, {"X-API-Key": key}


def test_full_flow_on_the_tiny_model(diffusers_client):
    client, headers = diffusers_client
    grid = finished(client, headers, generate(client, headers, prompt="a lighthouse --ar 2:1"))
    images = [download(client, url) for url in grid["result"]["images"]]
    assert [image.size for image in images] == [(64, 32)] * 4

    up = finished(client, headers, act(client, headers, grid["id"], action="upsample", index=1))
    upsampled = download(client, up["result"]["images"][0])
    assert ImageChops.difference(upsampled, images[0]).getbbox() is None

    variation = finished(
        client, headers, act(client, headers, grid["id"], action="variation", index=2)
    )
    varied = [download(client, url) for url in variation["result"]["images"]]
    assert [image.size for image in varied] == [(64, 32)] * 4

    pan = finished(client, headers, act(client, headers, up["id"], action="pan", direction="right"))
    panned = download(client, pan["result"]["images"][0])
    assert panned.size == (96, 32)
    assert ImageChops.difference(panned.crop((0, 0, 64, 32)), upsampled).getbbox() is None

    box = (16, 8, 48, 24)
    job_id = act(client, headers, up["id"], action="inpaint", mask=mask_b64((64, 32), box))
    painted = np.asarray(download(client, finished(client, headers, job_id)["result"]["images"][0]))
    original = np.asarray(upsampled)
    outside = np.ones(original.shape[:2], dtype=bool)
    outside[box[1] : box[3], box[0] : box[2]] = False
    assert (painted[outside] == original[outside]).all()
    assert not (painted[~outside] == original[~outside]).all()


def test_creative_upscale_is_a_light_img2img_pass_on_the_model(diffusers_client, monkeypatch):
    """Subtle is the super-resolution alone; creative adds the engine's refine pass on top."""
    client, headers = diffusers_client
    engine = client.app.state.process.workers.engine
    strengths: list[float] = []

    def refine(source, spec, strength, progress):
        strengths.append(strength)
        return type(engine).refine(engine, source, spec, strength, progress)

    monkeypatch.setattr(engine, "refine", refine)
    auth = {"Authorization": headers["X-API-Key"]}
    grid = submit_done(client, auth, "/imagine", prompt="a lighthouse --ar 2:1")
    up = submit_done(client, auth, "/upscale-1x", parent_task_id=grid, index="1")
    subtle = submit(client, auth, "/upscale-alt", parent_task_id=up, type="subtle")
    creative = submit(client, auth, "/upscale-alt", parent_task_id=up, type="creative")
    drain(client)
    jobs = [finished(client, headers, job_id) for job_id in (up, subtle, creative)]
    source, plain, refined = (download(client, job["result"]["images"][0]) for job in jobs)
    assert source.size == (64, 32) and plain.size == refined.size == (128, 64)
    assert plain.tobytes() == source.resize((128, 64), Image.Resampling.LANCZOS).tobytes()
    assert ImageChops.difference(plain, refined).getbbox() is not None
    assert strengths == [0.3]  # one light image-to-image pass, for the creative job only


def test_midapi_img2img_and_style_references_render_on_the_model(diffusers_client):
    """The worker downloads each reference and the engine uses it (see the engine tests)."""
    client, headers = diffusers_client
    auth = bearer(headers["X-API-Key"])
    with FileServer({"/blue.png": png((0, 0, 255), (128, 96))}) as files:
        url = files.url("/blue.png")
        guided = midapi_submit(client, auth, taskType="mj_img2img", prompt="a bay", fileUrls=[url])
        styled = midapi_submit(
            client, auth, taskType="mj_style_reference", prompt="a bay", fileUrls=[url]
        )
        drain(client)
        for task_id in (guided, styled):
            pictures = images(client, midapi_finished(client, auth, task_id))
            assert [picture.size for picture in pictures] == [(64, 64)] * 4
    blue = [np.asarray(p, np.float32).mean(axis=(0, 1)) for p in pictures]
    assert all(colour[2] > colour[0] and colour[2] > colour[1] for colour in blue)
