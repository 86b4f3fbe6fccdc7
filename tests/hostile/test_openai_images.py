"""Hostile input to the OpenAI dialect: JSON booleans in integer fields, and decompression
bombs uploaded as the picture or the mask. Each is a 400 in OpenAI's envelope naming the
field; nothing is charged and no job is made. A bomb is refused by its declared size before it
is decoded (memory measured in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.hostile.bombs import png_bomb
from tests.hostile.steps import Account
from tests.hostile.test_image_bombs import BUDGET_MB, ROOT, SIDE, SOURCES, SUBPROCESS_TIMEOUT
from tests.live import command_env
from tests.midapi.steps import png


def _refused(response: Any, param: str, code: str) -> str:
    assert response.status_code == 400, (response.status_code, response.text)
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    message: str = error["message"]
    return message


#: Integer fields of a generation, each tried with true and false.
INTEGER_FIELDS = [
    ("n", "invalid_type"),
    ("output_compression", "invalid_value"),
    ("partial_images", "invalid_value"),
    ("seed", "invalid_value"),
]


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize(("field", "code"), INTEGER_FIELDS)
def test_a_boolean_is_not_an_integer(client, bearer, api_key, field, code, value):
    """pydantic's lax mode would read ``true`` as 1 (and ``n: true`` would buy a grid)."""
    account = Account(client, api_key)
    body = {"prompt": "a fox", field: value}
    response = client.post("/v1/images/generations", json=body, headers=bearer)
    _refused(response, field, code)
    account.unchanged()


@pytest.mark.parametrize(
    ("path", "part"),
    [
        ("/v1/images/edits", "image"),
        ("/v1/images/edits", "mask"),
        ("/v1/images/variations", "image"),
    ],
)
def test_a_bomb_upload_is_refused_by_its_declared_size(client, bearer, api_key, path, part):
    account = Account(client, api_key)
    files = {"image": ("p.png", png((200, 30, 30)), "image/png")}
    files[part] = ("bomb.png", png_bomb(SIDE, SIDE), "image/png")
    response = client.post(path, data={"prompt": "x"}, files=files, headers=bearer)
    message = _refused(response, part, "invalid_image_file")
    assert f"{SIDE}x{SIDE}" in message, message
    account.unchanged()


_UPLOAD = """
import json, tempfile
from pathlib import Path
from fastapi.testclient import TestClient
from selfjourney.embedded import build_embedded
from tests.conftest import make_settings
from tests.hostile.bombs import png_bomb

def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0

bomb = png_bomb(SIDE, SIDE)
with tempfile.TemporaryDirectory() as tmp:
    runtime = build_embedded(make_settings(Path(tmp) / "data"))
    _, key = runtime.store.accounts.create("t", credits=1000)
    with TestClient(runtime.app()) as client:
        headers = {"Authorization": f"Bearer {key}"}
        client.get("/v1/models", headers=headers)  # warm up: imports, first request
        before = peak_mb()
        response = client.post("/v1/images/edits", data={"prompt": "x"},
                               files={"image": ("bomb.png", bomb, "image/png")}, headers=headers)
        grew = peak_mb() - before
    runtime.stop()
print(json.dumps({"grew": grew, "status": response.status_code, "body": response.json()}))
"""


def test_refusing_an_uploaded_bomb_costs_no_memory():
    """8000x8000 RGBA (256 MB decoded) sent as a 249 KB upload: refused within 50 MB."""
    code = f"SIDE = {SIDE}\n{textwrap.dedent(_UPLOAD)}"
    env = command_env({"PYTHONPATH": f"{SOURCES}:{ROOT}"})
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
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 400 and result["body"]["error"]["code"] == "invalid_image_file"
    assert result["grew"] < BUDGET_MB, f"refusing the upload cost {result['grew']:.0f} MB"
