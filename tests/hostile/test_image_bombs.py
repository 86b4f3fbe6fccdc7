"""Defect 2: image inputs are decoded before their size is checked.

A PNG is a few hundred KB on the wire yet declares a canvas of any size (``bombs.png_bomb``):
8000x8000 RGBA is 249 KB and 256 MB once decoded (64 M pixels, under Pillow's 89 M-pixel
``DecompressionBombWarning``, so nothing warns). Each input must be refused by its declared
size, before its pixels are decoded:

* the inpaint ``mask`` (v2 action ``inpaint``, v1 ``/inpaint``): ``core/masks.py``
  ``decode_mask`` calls ``image.load()`` and ``convert("L")`` before comparing sizes;
* image URLs (midapi ``fileUrls``, v1 ``/blend`` ``image_urls``, v1 ``/upscale-highres``
  ``image_url``): ``storage/fetch.py`` ``_decode`` checks 4096 a side before ``load()``, so
  the 8000x8000 bomb is refused cheaply, but a 4096x4096 one (65 KB) is decoded in full even
  where it is refused afterwards (``/upscale-highres`` takes 2048 a side, checked by
  ``check_upscale_image`` after the download), and nothing bounds the pixel count.

HTTP tests check the answers; memory tests run the code in a fresh interpreter and measure its
peak RSS growth (VmHWM) around the one call.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import selfjourney
from selfjourney.config import Settings
from tests.apiframe_v1.flows import fetch as v1_fetch
from tests.apiframe_v1.flows import submit as v1_submit
from tests.apiframe_v1.flows import submit_done as v1_submit_done
from tests.conftest import make_settings
from tests.flows import act, drain, finished, generate
from tests.hostile.bombs import png_bomb
from tests.hostile.steps import Account, balance, v1_refused, v2_refused
from tests.live import command_env
from tests.midapi.files import FileServer
from tests.midapi.steps import record
from tests.midapi.steps import submit as midapi_submit

ROOT = Path(__file__).resolve().parents[2]
#: The ``selfjourney`` under test (the one this process imported), for the subprocesses.
SOURCES = Path(selfjourney.__file__).resolve().parents[1]
#: The bomb: 64 M pixels, 256 MB as RGBA, 249 KB as a PNG.
SIDE = 8000
#: Peak RSS growth allowed for refusing (or reading the size of) one bomb.
BUDGET_MB = 50
SUBPROCESS_TIMEOUT = 90


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Lanczos upscales: no Real-ESRGAN model to load for /upscale-highres."""
    return make_settings(tmp_path / "data", upscaler="lanczos")


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    """The bomb and an ordinary picture, over loopback (allowed by the test settings)."""
    served = {"/bomb.png": png_bomb(SIDE, SIDE), "/small.png": png_bomb(64, 64, "RGB")}
    with FileServer(served) as server:
        yield server


def _mask() -> str:
    return base64.b64encode(png_bomb(SIDE, SIDE)).decode()


# --- HTTP: every input refuses the bomb, names its size, and charges nothing ----------------


def test_v2_inpaint_mask_bomb_is_a_400_naming_its_size(client, headers, api_key):
    """Pins the answer, right before the fix too: a 400 on ``mask`` naming 8000x8000, free.

    The cost behind it (300 MB decoded first) is what ``test_decode_mask_...`` measures.
    """
    grid = generate(client, headers)
    finished(client, headers, grid)
    upsample = act(client, headers, grid, action="upsample", index=1)
    account = Account(client, api_key)
    body = {"parentJobId": upsample, "action": "inpaint", "mask": _mask(), "prompt": "a cat"}
    response = client.post("/v2/images/midjourney/action", json=body, headers=headers)
    [message] = v2_refused(response, "mask")
    assert f"{SIDE}x{SIDE}" in message, message
    account.unchanged()


def test_v1_inpaint_mask_bomb_is_a_400_naming_its_size(client, v1, api_key):
    """Pins the answer, right before the fix too: 400 INVALID_REQUEST on ``mask``, free."""
    grid = v1_submit_done(client, v1, "/imagine", prompt="a lighthouse")
    upscale = v1_submit_done(client, v1, "/upscale-1x", parent_task_id=grid, index="1")
    account = Account(client, api_key)
    body = {"parent_task_id": upscale, "mask": _mask(), "prompt": "a cat"}
    message = v1_refused(client.post("/inpaint", json=body, headers=v1), "mask")
    assert f"{SIDE}x{SIDE}" in message, message
    account.unchanged()


def _failed_with_refund(message: str, before: int, after: int) -> None:
    assert f"{SIDE}x{SIDE}" in message, message
    assert after == before, f"not refunded: {before} credits before, {after} after"


def test_midapi_reference_bomb_fails_the_task_naming_its_size_and_refunds(
    client, bearer, api_key, files
):
    """Pins behaviour that already works (the 4096-a-side check runs before decoding)."""
    before = balance(client, api_key)
    task_id = midapi_submit(
        client, bearer, taskType="mj_img2img", fileUrls=[files.url("/bomb.png")]
    )
    drain(client)
    data = record(client, bearer, task_id)
    assert data["successFlag"] == 3, data
    _failed_with_refund(data["errorMessage"], before, balance(client, api_key))


def test_v1_blend_bomb_fails_the_task_naming_its_size_and_refunds(client, v1, api_key, files):
    """Pins behaviour that already works (the 4096-a-side check runs before decoding)."""
    before = balance(client, api_key)
    urls = [files.url("/small.png"), files.url("/bomb.png")]
    task_id = v1_submit(client, v1, "/blend", image_urls=urls)
    drain(client)
    task = v1_fetch(client, v1, task_id)
    assert task["status"] == "failed", task
    _failed_with_refund(task["message"], before, balance(client, api_key))


def test_v1_upscale_highres_bomb_fails_the_task_naming_its_size_and_refunds(
    client, v1, api_key, files
):
    """Pins behaviour that already works (the 4096-a-side check runs before decoding).

    The message quotes fetch's "4096 a side" although /upscale-highres takes 2048 a side.
    """
    before = balance(client, api_key)
    task_id = v1_submit(client, v1, "/upscale-highres", image_url=files.url("/bomb.png"), type="2x")
    drain(client)
    task = v1_fetch(client, v1, task_id)
    assert task["status"] == "failed", task
    _failed_with_refund(task["message"], before, balance(client, api_key))


# --- memory: measured in a fresh interpreter ------------------------------------------------

#: ``peak_mb`` reads the process's own high-water mark (VmHWM). ``ru_maxrss`` would not do:
#: Linux carries it over fork and exec, so a child of a pytest process that has already
#: decoded a bomb starts with that peak and shows no growth at all.
_PRELUDE = """
import json, resource, sys
from tests.hostile.bombs import png_bomb

def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def _measure(body: str, app: bool = False) -> dict[str, Any]:
    """Run ``body`` (which prints one JSON line) with this tree on the path; its result.

    With ``app``, ``body`` may call ``run`` (see ``_APP``).
    """
    code = f"{_PRELUDE}SIDE = {SIDE}\n{_APP if app else ''}{textwrap.dedent(body)}"
    env = command_env({"PYTHONPATH": os.pathsep.join([str(SOURCES), str(ROOT)])})
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_decode_mask_refuses_a_bomb_without_decoding_it():
    """Proves ``decode_mask`` decodes the whole canvas before it compares sizes.

    Before the fix: about 307 MB of peak RSS growth (256 MB RGBA + 64 MB L) to refuse a
    249 KB mask; the budget is 50 MB.
    """
    result = _measure(
        """
        import base64
        from selfjourney.domain.errors import InvalidMask
        from selfjourney.imaging.masks import decode_mask
        text = base64.b64encode(png_bomb(SIDE, SIDE)).decode()
        before = peak_mb()
        try:
            decode_mask(text, (1024, 1024))
            message = None
        except InvalidMask as exc:
            message = exc.message
        print(json.dumps({"grew": peak_mb() - before, "message": message}))
        """
    )
    assert result["message"] and f"{SIDE}x{SIDE}" in result["message"], result
    assert result["grew"] < BUDGET_MB, f"refusing the mask cost {result['grew']:.0f} MB"


def test_fetch_image_refuses_a_bomb_without_decoding_it():
    """Pins behaviour that already works: ``fetch_image`` reads the 8000x8000 header and
    refuses before ``load()`` (about 0.5 MB of growth)."""
    result = _measure(
        """
        import httpx
        from selfjourney.outbound.fetch import FetchError, fetch_image
        data = png_bomb(SIDE, SIDE)
        client = httpx.Client(transport=httpx.MockTransport(
            lambda request: httpx.Response(200, content=data)))
        before = peak_mb()
        try:
            fetch_image(client, "http://files.test/bomb.png")
            message = None
        except FetchError as exc:
            message = str(exc)
        print(json.dumps({"grew": peak_mb() - before, "message": message}))
        """
    )
    assert result["message"] and f"{SIDE}x{SIDE}" in result["message"], result
    assert result["grew"] < BUDGET_MB, f"refusing the image cost {result['grew']:.0f} MB"


#: Runs the app in the subprocess, with a file server serving ``{served}`` (path -> side).
_APP = """
import tempfile
from pathlib import Path
from fastapi.testclient import TestClient
from selfjourney.embedded import build_embedded
from tests.conftest import make_settings
from tests.flows import drain
from tests.midapi.fakes import SmallEngine
from tests.midapi.files import FileServer

def run(served, submit, outcome):
    bombs = {path: png_bomb(side, side) for path, side in served.items()}
    with tempfile.TemporaryDirectory() as tmp, FileServer(bombs) as files:
        settings = make_settings(Path(tmp) / "data", upscaler="lanczos")
        runtime = build_embedded(settings, engine=SmallEngine())
        _, key = runtime.store.accounts.create("t", credits=1000)
        with TestClient(runtime.app()) as client:
            before = peak_mb()
            task_id = submit(client, key, files)
            drain(client)
            grew = peak_mb() - before
            status, message = outcome(client, key, task_id)
            credits = client.get("/v2/me", headers={"X-API-Key": key}).json()["team"]["credits"]
    print(json.dumps({"grew": grew, "status": status, "message": message, "credits": credits}))
"""


def test_upscale_highres_refuses_a_4096_image_url_without_decoding_it():
    """Proves the 2048-a-side limit of ``/upscale-highres`` is checked after a full decode.

    A 65 KB PNG declaring 4096x4096 RGBA passes fetch's 4096 check, is decoded (64 MB) and
    converted to RGB (48 MB), then refused by ``check_upscale_image``.
    Before the fix: about 130 MB of peak growth for a task refused anyway (budget 50 MB). The
    answer itself is right (failed, names 4096x4096, refunded).
    """
    result = _measure(
        """
        def submit(client, key, files):
            body = {"image_url": files.url("/big.png"), "type": "2x"}
            response = client.post("/upscale-highres", json=body, headers={"Authorization": key})
            return response.json()["task_id"]

        def outcome(client, key, task_id):
            task = client.post("/fetch", json={"task_id": task_id},
                               headers={"Authorization": key}).json()
            return task["status"], task.get("message")

        run({"/big.png": 4096}, submit, outcome)
        """,
        app=True,
    )
    assert result["status"] == "failed" and "4096x4096" in result["message"], result
    assert result["credits"] == 1000, result
    assert result["grew"] < BUDGET_MB, f"refusing the image cost {result['grew']:.0f} MB"


#: Peak growth allowed for one task with five maximum-size references: about what decoding
#: one of them costs (64 MB RGBA + 48 MB RGB, plus working room), so that the cost does not
#: grow with their number. A proposed budget: a prototype that shrinks each reference to
#: 1024 px right after its download measured 158 MB; a pixel-count limit would do better.
REFERENCES_BUDGET_MB = 200


def test_five_max_size_references_stay_within_a_memory_budget():
    """Proves there is no pixel-count bound on reference images.

    Five 65 KB PNGs declaring 4096x4096 RGBA (allowed: 4096 a side) are all decoded and
    kept at full size by one midapi ``mj_img2img`` task.
    Before the fix: about 514 MB of peak growth for a 325 KB request (one such reference alone
    is about 258 MB); budget 200 MB, which shrinking each one as it arrives, or a
    pixel-count limit, meets.
    """
    result = _measure(
        """
        def submit(client, key, files):
            urls = [files.url(f"/big.png?copy={n}") for n in range(5)]
            body = {"taskType": "mj_img2img", "prompt": "a fox", "fileUrls": urls}
            response = client.post("/api/v1/mj/generate", json=body,
                                   headers={"Authorization": f"Bearer {key}"})
            return response.json()["data"]["taskId"]

        def outcome(client, key, task_id):
            data = client.get("/api/v1/mj/record-info", params={"taskId": task_id},
                              headers={"Authorization": f"Bearer {key}"}).json()["data"]
            return data["successFlag"], data["errorMessage"]

        run({"/big.png": 4096}, submit, outcome)
        """,
        app=True,
    )
    assert result["status"] in (1, 3), result  # succeeded, or failed...
    if result["status"] == 3:
        assert result["credits"] == 1000, result  # ...with a refund
    assert result["grew"] < REFERENCES_BUDGET_MB, (
        f"five 4096x4096 references cost {result['grew']:.0f} MB"
    )
