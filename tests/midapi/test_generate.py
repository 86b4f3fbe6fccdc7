"""POST /api/v1/mj/generate end to end: every task type, every field, every refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops

from selfjourney.embedded import build_embedded
from selfjourney.worker.watermark import watermark_box
from tests.conftest import make_settings
from tests.midapi.files import FileServer
from tests.midapi.steps import (
    bearer,
    call,
    credits,
    drain,
    finished,
    images,
    record,
    refused,
    submit,
    urls,
)

REFERENCE_TYPES = ["mj_img2img", "mj_style_reference", "mj_omni_reference"]


def _differ(a: Image.Image, b: Image.Image) -> bool:
    return a.size != b.size or ImageChops.difference(a, b).getbbox() is not None


def _params(client: TestClient, task_id: str) -> dict[str, Any]:
    """What the task recorded, as JSON: its render flags beside its references, watermark and
    priority."""
    job = client.app.state.process.store.jobs.get(task_id)  # type: ignore[attr-defined]
    assert job is not None
    data: dict[str, Any] = job.params.to_json()
    return {**data.pop("flags"), **data}


@pytest.mark.parametrize(
    ("task_type", "mode"),
    [("mj_txt2img", None), *zip(REFERENCE_TYPES, ["image", "style", "omni"], strict=True)],
)
def test_each_image_task_type_completes_with_four_images(
    client, auth, files: FileServer, task_type, mode
):
    body: dict[str, Any] = {"taskType": task_type, "speed": "fast"}
    if mode:
        body["fileUrls"] = [files.url("/checker.png")]
    task_id = submit(client, auth, **body)
    data = finished(client, auth, task_id)
    assert data["taskType"] == task_type and data["taskId"] == task_id
    assert len(urls(data)) == 4 and len(images(client, data)) == 4
    assert (_params(client, task_id).get("references") or {}).get("mode") == mode


@pytest.mark.parametrize("task_type", REFERENCE_TYPES)
def test_a_reference_guides_the_picture(client, auth, files: FileServer, task_type):
    prompt = "a quiet harbour at noon --seed 11"
    plain = submit(client, auth, prompt=prompt)
    guided = submit(
        client, auth, taskType=task_type, prompt=prompt, fileUrl=files.url("/checker.png")
    )
    drain(client)
    pairs = zip(
        images(client, record(client, auth, plain)),
        images(client, record(client, auth, guided)),
        strict=True,
    )
    assert all(_differ(a, b) for a, b in pairs)


def test_fileurl_and_fileurls_are_merged(client, auth, files: FileServer):
    blue, checker = files.url("/blue.png"), files.url("/checker.png")
    task_id = submit(client, auth, taskType="mj_img2img", fileUrl=blue, fileUrls=[checker, blue])
    assert _params(client, task_id)["references"]["urls"] == [checker, blue]
    finished(client, auth, task_id)


def test_omni_weight_maps_ow_on_a_log_scale(client, auth, files: FileServer):
    url = files.url("/checker.png")
    weights = {}
    for ow in (1, 100, 1000, None):
        extra: dict[str, Any] = {} if ow is None else {"ow": ow}
        task_id = submit(client, auth, taskType="mj_omni_reference", fileUrls=[url], **extra)
        weights[ow] = _params(client, task_id)["references"]["weight"]
    assert weights[1] == 0 and weights[1000] == 1
    assert weights[100] == weights[None] == pytest.approx(2 / 3, abs=1e-3)


def test_ow_changes_an_omni_picture(client, auth, files: FileServer):
    body = {"taskType": "mj_omni_reference", "prompt": "a cat --seed 3"}
    weak = submit(client, auth, **body, fileUrls=[files.url("/checker.png")], ow=10)
    strong = submit(client, auth, **body, fileUrls=[files.url("/checker.png")], ow=1000)
    drain(client)
    a, b = (
        images(client, record(client, auth, weak))[0],
        images(client, record(client, auth, strong))[0],
    )
    assert _differ(a, b)


@pytest.mark.parametrize(
    "path", ["/missing.png", "/not-an-image.txt"], ids=["unreachable", "not-an-image"]
)
def test_an_unusable_reference_fails_the_task_with_a_refund(client, auth, files: FileServer, path):
    before = credits(client, auth)
    task_id = submit(client, auth, taskType="mj_img2img", fileUrls=[files.url(path)])
    assert credits(client, auth) < before
    drain(client)
    data = record(client, auth, task_id)
    assert data["successFlag"] == 3 and data["resultInfoJson"] is None
    assert data["errorCode"] == 501
    assert "Reference image unusable" in data["errorMessage"] and path in data["errorMessage"]
    assert data["completeTime"] is not None
    assert credits(client, auth) == before


def test_an_unreachable_host_fails_the_task_too(client, auth):
    task_id = submit(
        client, auth, taskType="mj_style_reference", fileUrls=["http://127.0.0.1:9/a.png"]
    )
    drain(client)
    data = record(client, auth, task_id)
    assert data["successFlag"] == 3 and "could not download" in data["errorMessage"]


@pytest.mark.parametrize(
    ("field", "value", "param", "expected"),
    [
        ("stylization", 900, "stylize", 900),
        ("weirdness", 2500, "weird", 2500),
        ("variety", 80, "chaos", 80),
        ("version", "niji6", "niji", True),
        ("version", "niji7", "version", "7"),
        ("aspectRatio", "16:9", "aspect_ratio", "16:9"),
    ],
)
def test_each_render_field_reaches_the_engine(client, auth, field, value, param, expected):
    prompt = "a lighthouse in a storm --seed 21"
    baseline = submit(client, auth, prompt=prompt)
    changed = submit(client, auth, prompt=prompt, **{field: value})
    assert _params(client, changed)[param] == expected
    drain(client)
    before = images(client, record(client, auth, baseline))
    after = images(client, record(client, auth, changed))
    assert any(_differ(a, b) for a, b in zip(before, after, strict=True))


def test_version_numbers_are_recorded_and_turn_niji_off(client, auth):
    task_id = submit(client, auth, prompt="a koi pond --niji 6", version=6.1)
    params = _params(client, task_id)
    assert params["version"] == "6.1" and params["niji"] is False


def test_aspect_ratio_sizes_the_images_and_wins_over_the_prompt_flag(client, auth):
    task_id = submit(client, auth, prompt="a wide valley --ar 1:1", aspectRatio="16:9")
    picture = images(client, finished(client, auth, task_id))[0]
    assert picture.width > picture.height
    assert _params(client, task_id)["aspect_ratio"] == "16:9"


def test_prompt_flags_are_parsed_and_structured_fields_win(client, auth):
    prompt = "a city at dusk --ar 2:3 --seed 7 --no cars, trees --chaos 20 --tile --s 50"
    task_id = submit(client, auth, prompt=prompt, stylization=700)
    params = _params(client, task_id)
    assert params["aspect_ratio"] == "2:3" and params["chaos"] == 20 and params["tile"] is True
    assert params["negative"] == ["cars", "trees"] and params["stylize"] == 700
    job = client.app.state.process.store.jobs.get(task_id)
    assert job.seed == 7 and job.prompt == "a city at dusk"
    data = finished(client, auth, task_id)
    assert images(client, data)[0].height > images(client, data)[0].width


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("a fox --chaos 500", "--chaos takes a whole number from 0 to 100"),
        ("a fox --ar wide", "--ar"),
        ("a fox --seed -3", "--seed takes"),
    ],
)
def test_a_malformed_prompt_flag_is_a_422_with_the_cores_message(client, auth, prompt, message):
    code, msg = refused(client, "/mj/generate", auth, {"taskType": "mj_txt2img", "prompt": prompt})
    assert code == 422 and message in msg and msg.startswith("prompt")


def test_speed_is_a_queue_priority(client, auth, runtime):
    relaxed = submit(client, auth, prompt="slow boat", speed="relaxed")
    turbo = submit(client, auth, prompt="fast car", speed="turbo")
    fast = submit(client, auth, prompt="quick hare", speed="fast")
    default = submit(client, auth, prompt="no hurry")
    assert [_params(client, t).get("priority", 0) for t in (relaxed, turbo, fast, default)] == [
        0,
        2,
        1,
        0,
    ]
    assert runtime.queue.drain() == 4
    done = {t: record(client, auth, t)["completeTime"] for t in (relaxed, turbo, fast, default)}
    assert done[turbo] < done[fast] < done[relaxed] < done[default]


def test_a_watermark_marks_every_image_in_its_corner_only(client, auth):
    prompt = "a meadow with poppies --seed 99"
    plain = submit(client, auth, prompt=prompt)
    marked = submit(client, auth, prompt=prompt, waterMark="selfjourney")
    drain(client)
    for a, b in zip(
        images(client, record(client, auth, plain)),
        images(client, record(client, auth, marked)),
        strict=True,
    ):
        changed = ImageChops.difference(a, b).getbbox()
        assert changed is not None, "the watermark must be visible"
        corner = watermark_box(a.size, "selfjourney")
        assert corner is not None and corner[0] >= a.width // 2 and corner[1] >= a.height // 2
        left, top, right, bottom = changed
        assert corner[0] <= left and corner[1] <= top, (changed, corner)
        assert right <= corner[2] and bottom <= corner[3], (changed, corner)


def test_watermark_spellings(client, auth):
    lower = submit(client, auth, watermark="lower")
    both = submit(client, auth, watermark="lower", waterMark="Camel")
    blank = submit(client, auth, waterMark="")
    assert _params(client, lower)["watermark"] == "lower"
    assert _params(client, both)["watermark"] == "Camel"
    assert "watermark" not in _params(client, blank)


def test_enable_translation_is_recorded_and_changes_nothing(client, auth):
    prompt = "un renard roux dans la neige --seed 4"
    plain = submit(client, auth, prompt=prompt)
    translated = submit(client, auth, prompt=prompt, enableTranslation=True)
    drain(client)
    data = record(client, auth, translated)
    assert '"enableTranslation":true' in data["paramJson"]
    before, after = images(client, record(client, auth, plain)), images(client, data)
    assert not any(_differ(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("task_type", ["mj_video", "mj_video_hd"])
def test_video_is_feature_disabled(client, auth, files: FileServer, task_type):
    before = credits(client, auth)
    body = {"taskType": task_type, "prompt": "waves", "fileUrls": [files.url("/blue.png")]}
    code, msg = refused(client, "/mj/generate", auth, body)
    assert code == 505 and "Feature Disabled" in msg and task_type in msg
    assert credits(client, auth) == before


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("no-prompt", {"taskType": "mj_txt2img"}),
    ("empty-prompt", {"prompt": ""}),
    ("blank-prompt", {"prompt": "   "}),
    ("long-prompt", {"prompt": "x" * 2001}),
    ("task-type", {"taskType": "mj_bogus"}),
    ("speed", {"speed": "ludicrous"}),
    ("aspect-ratio", {"aspectRatio": "7:3"}),
    ("version", {"version": "8"}),
    ("variety-high", {"variety": 101}),
    ("variety-low", {"variety": -1}),
    ("stylization", {"stylization": 1001}),
    ("weirdness", {"weirdness": 3001}),
    ("ow-low", {"ow": 0}),
    ("ow-high", {"ow": 1001}),
    ("file-url", {"taskType": "mj_img2img", "fileUrls": ["not a url"]}),
    ("too-many-files", {"taskType": "mj_img2img", "fileUrls": ["https://a.example/x.png"] * 6}),
    ("callback", {"callBackUrl": "ftp://example.com/hook"}),
    ("watermark", {"waterMark": "w" * 101}),
    ("img2img-without-files", {"taskType": "mj_img2img"}),
    ("style-with-empty-files", {"taskType": "mj_style_reference", "fileUrls": []}),
    ("omni-with-blank-file", {"taskType": "mj_omni_reference", "fileUrl": ""}),
    ("not-an-object", []),  # type: ignore[list-item]
]


def test_bad_input_is_a_422_and_charges_nothing(client, auth, runtime):
    before = credits(client, auth)
    for case, patch in BAD_BODIES:
        body: Any = patch if case in ("no-prompt", "not-an-object") else {"prompt": "a", **patch}
        code, msg = refused(client, "/mj/generate", auth, body)
        assert code == 422 and msg, (case, msg)
    assert credits(client, auth) == before and runtime.queue.pending() == 0


def test_a_missing_reference_names_the_field(client, auth):
    code, msg = refused(client, "/mj/generate", auth, {"taskType": "mj_img2img", "prompt": "x"})
    assert (code, msg) == (422, "fileUrls is required for taskType mj_img2img")


def test_malformed_json_is_a_400(client, auth):
    response = client.post(
        "/api/v1/mj/generate",
        content=b'{"prompt": "a fox",',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "code": 400,
        "msg": "Bad Request: the request body is not valid JSON",
        "data": None,
    }


def test_blank_optional_urls_mean_absent_and_unknown_keys_are_ignored(client, auth):
    task_id = submit(
        client, auth, fileUrl="", callBackUrl="", videoBatchSize=1, motion="high", foo=1
    )
    job = client.app.state.process.store.jobs.get(task_id)
    assert job.webhook is None and job.params.references is None
    assert "foo" not in record(client, auth, task_id)["paramJson"]


def test_urls_are_checked_against_the_outbound_policy(tmp_path: Path):
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("strict", credits=100)
    with TestClient(runtime.app()) as client:
        auth = bearer(key)
        base = {"taskType": "mj_img2img", "prompt": "a fox"}
        code, msg = refused(
            client,
            "/mj/generate",
            auth,
            {**base, "fileUrls": ["https://ok.example/a.png", "http://10.0.0.1/a.png"]},
        )
        assert code == 422 and msg.startswith("fileUrls[1]"), msg
        code, msg = refused(
            client,
            "/mj/generate",
            auth,
            {**base, "fileUrls": ["https://ok.example/a.png"], "callBackUrl": "http://127.0.0.1/h"},
        )
        assert code == 422 and msg.startswith("callBackUrl"), msg
        assert credits(client, auth) == 100


def test_insufficient_credits_is_a_402(client, runtime):
    _, key = runtime.store.accounts.create("poor", credits=3)
    auth = bearer(key)
    code, msg = refused(client, "/mj/generate", auth, {"taskType": "mj_txt2img", "prompt": "x"})
    assert code == 402
    assert msg == "Insufficient credits: this task costs 16 credits and the balance is 3"
    assert credits(client, auth) == 3


def test_the_task_is_queued_then_paid(client, auth):
    before = credits(client, auth)
    envelope = call(client, "/mj/generate", auth, {"taskType": "mj_txt2img", "prompt": "a fox"})
    assert envelope["code"] == 200 and envelope["msg"] == "success"
    assert list(envelope["data"]) == ["taskId"]
    assert credits(client, auth) == before - 16
