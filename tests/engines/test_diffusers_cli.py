"""``selfjourney serve --engine diffusers --model DIR``: the command line picks the real engine."""

from __future__ import annotations

import importlib.util
import io
import time
from pathlib import Path

import pytest
from PIL import Image

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None:
    pytest.skip("the diffusers extra is not installed", allow_module_level=True)

from tests.engines.tiny_diffusers import save_tiny_pipeline
from tests.live import LiveServer, create_key, run_cli


def test_serve_renders_with_the_engine_and_model_named_on_the_command_line(tmp_path: Path):
    model = save_tiny_pipeline(tmp_path / "tiny")
    data_dir = tmp_path / "data"
    key = create_key(data_dir, 100)
    args = ["--engine", "diffusers", "--model", str(model), "--device", "cpu"]
    env = {"SELFJOURNEY_LOCAL_FILES_ONLY": "1", "SELFJOURNEY_MAX_SIDE": "64"}
    # Importing torch and loading the model before listening takes a while on a busy machine.
    with LiveServer(data_dir, workers=1, args=args, env=env, startup_timeout=120) as server:
        assert f"engine diffusers {model} on cpu, upscaler " in server.log()
        with server.client(key) as client:
            body = {"model": "midjourney", "prompt": "a lighthouse --ar 2:1"}
            accepted = client.post("/v2/images/generate", json=body)
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["jobId"]
            deadline = time.monotonic() + 90
            while (job := client.get(f"/v2/jobs/{job_id}").json())["status"] != "COMPLETED":
                assert job["status"] in ("QUEUED", "PROCESSING") and time.monotonic() < deadline
                time.sleep(0.2)
            first = client.get(job["result"]["images"][0])
    with Image.open(io.BytesIO(first.content)) as image:
        assert image.size == (64, 32)


def test_a_model_that_cannot_load_stops_the_server_at_start(tmp_path: Path):
    missing = tmp_path / "no-such-model"
    done = run_cli(
        *("serve", "--engine", "diffusers", "--model", missing, "--device", "cpu"),
        *("--data-dir", tmp_path / "data"),
        cwd=tmp_path,
        env={"SELFJOURNEY_LOCAL_FILES_ONLY": "1"},
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"error: cannot load the diffusers model '{missing}'"), last
