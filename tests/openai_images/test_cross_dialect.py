"""A picture from the OpenAI dialect is an ordinary job: read through /v2 with its four images,
``data[i]`` is grid image i+1, and the buttons (U2, V1) work on it."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from tests.openai_images.serving import Served, data_of, extra, fetched

JOB_TIMEOUT = 60.0


def _act(served: Served, key: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"X-API-Key": key}
    response = httpx.post(
        f"{served.url}/v2/images/midjourney/action", json=body, headers=headers, timeout=30
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    service = served.runtime.service  # wait on the job feed, as the dialect itself does
    account = served.runtime.store.accounts.find(key)
    asyncio.run(service.wait(account, job_id, timeout=JOB_TIMEOUT))
    job: dict[str, Any] = served.v2(key, f"/jobs/{job_id}")
    return job


def test_the_job_reads_through_v2_and_takes_the_buttons(served: Served, key: str):
    result = served.sdk(key).images.generate(prompt="a windmill", n=2)
    job_id = extra(result, "job_id")
    job = served.v2(key, f"/jobs/{job_id}")
    assert job["status"] == "COMPLETED" and job["model"] == "midjourney"
    assert job["creditCost"] == 16 and job["input"] == {"prompt": "a windmill", "n": 2}
    grid = job["result"]["images"]
    assert len(grid) == 4 and job["result"]["gridUrl"]
    stored = [fetched(url)[2] for url in grid]
    for i, image in enumerate(data_of(result)):
        assert base64.b64decode(image.b64_json or "") == stored[i]  # data[i] is image i+1
    upsample = _act(served, key, {"parentJobId": job_id, "action": "upsample", "index": 2})
    assert upsample["status"] == "COMPLETED"
    assert fetched(upsample["result"]["images"][0])[2] == stored[1]  # U2 is data[1]
    variation = _act(served, key, {"parentJobId": job_id, "action": "variation", "index": 1})
    assert variation["status"] == "COMPLETED" and len(variation["result"]["images"]) == 4
    assert served.balance(key) == 1000 - 16 - 4 - 16
