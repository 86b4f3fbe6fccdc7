"""Raw requests shaped exactly as the chat front ends send them (spec §14), and the models
routes they use to test a connection.

Open WebUI (``routers/images.py``): generations are JSON with ``Authorization: Bearer`` and
``Content-Type: application/json``, ``model``/``prompt``/``n``/``size``, ``response_format:
b64_json`` unless the model matches ``^gpt-image``, then the admin's extra params merged in; it
reads ``url`` first (fetched with the same Authorization header, refused unless ``image/*``),
else ``b64_json``. Its edits are multipart (every value a string), one picture as ``image`` or
several as ``image[]``, no mask. LibreChat generates through the JS SDK with ``gpt-image-1``,
``size: auto``, ``output_format``/``output_compression``, and edits with axios multipart
``image[]`` files; it reads only ``data[0].b64_json``.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import openai
import pytest

from tests.openai_images.serving import Served, decoded, fetched, png
from tests.openai_images.test_sdk_edits import picture


def _open_webui_images(key: str, body: dict[str, Any]) -> list[bytes]:
    """What Open WebUI does with the answer: ``url`` first (with its key), else ``b64_json``."""
    images = []
    for image in body["data"]:
        if url := image.get("url"):
            _, content_type, data = fetched(url, Authorization=f"Bearer {key}")
            assert content_type.split("/")[0] == "image"
        else:
            data = base64.b64decode(image["b64_json"])
        images.append(data)
    return images


@pytest.mark.parametrize(
    ("model", "response_format"), [("dall-e-2", "b64_json"), ("gpt-image-1", None)]
)
def test_open_webui_generations(served: Served, key: str, model, response_format):
    data: dict[str, Any] = {"model": model, "prompt": "a cosy cabin", "n": 1, "size": "512x512"}
    if response_format:
        data["response_format"] = response_format
    data.update({"quality": "standard", "steps": 20})  # IMAGES_OPENAI_API_PARAMS
    response = httpx.post(
        f"{served.base_url}/images/generations?api-version=2024-02-01",
        json=data,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    [image] = _open_webui_images(key, response.json())
    assert decoded(image).size == (512, 512)


@pytest.mark.parametrize("several", [False, True], ids=["image", "image[]"])
def test_open_webui_edits(served: Served, key: str, several):
    field = "image[]" if several else "image"
    files = [(field, (f"{uuid.uuid4()}.png", png(picture()), "image/png"))]
    if several:
        files.append((field, (f"{uuid.uuid4()}.png", png(picture((64, 64))), "image/png")))
    data = {
        "model": "gpt-image-1",
        "prompt": "make it winter",
        "n": "1",
        "size": "512x512",
        "background": "transparent",
    }
    response = httpx.post(
        f"{served.base_url}/images/edits",
        data=data,
        files=files,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    [image] = _open_webui_images(key, response.json())
    assert decoded(image).size == (512, 512)


def test_librechat_generate_and_edit(served: Served, key: str):
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "model": "gpt-image-1",
        "prompt": "a watercolour fox",
        "n": 1,
        "background": "auto",
        "output_format": "webp",
        "output_compression": 80,
        "quality": "auto",
        "size": "auto",
    }
    response = httpx.post(
        f"{served.base_url}/images/generations", json=body, headers=headers, timeout=60
    )
    assert response.status_code == 200, response.text
    first = response.json()["data"][0]
    assert decoded(base64.b64decode(first["b64_json"])).format == "WEBP"
    files = [("image[]", ("upload.png", png(picture()), "image/png"))]
    data = {"model": "gpt-image-1", "prompt": "add snow", "quality": "auto", "size": "auto"}
    edited = httpx.post(
        f"{served.base_url}/images/edits", data=data, files=files, headers=headers, timeout=60
    )
    assert edited.status_code == 200, edited.text
    assert decoded(base64.b64decode(edited.json()["data"][0]["b64_json"])).size == (128, 96)


def test_other_key_headers(served: Served, key: str):
    """The bare key (like midapi and v1) and Azure's ``api-key`` header work too."""
    for headers in ({"Authorization": key}, {"api-key": key}):
        response = httpx.get(f"{served.base_url}/models", headers=headers)
        assert response.status_code == 200, response.text


def test_models(served: Served, key: str):
    client = served.sdk(key)
    [model] = list(client.models.list())
    assert (model.id, model.object, model.owned_by) == ("selfjourney", "model", "selfjourney")
    assert client.models.retrieve("selfjourney") == model
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("dall-e-3")
    assert missing.value.code == "model_not_found" and missing.value.param == "model"
    assert httpx.get(f"{served.base_url}/models").status_code == 401  # a key is required
