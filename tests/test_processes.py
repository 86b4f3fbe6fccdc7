"""Each side of a process is built from its parts alone: an API process needs no engine, and a
worker process needs no FastAPI app (checked in fresh interpreters, by what they imported)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.live import command_env

API_SIDE = """
    from fastapi.testclient import TestClient

    from selfjourney.api import build_service, create_app
    from selfjourney.config import Settings
    from selfjourney.storage.local import LocalStorage
    from selfjourney.store import Store


    class Recording:
        def __init__(self):
            self.ids = []

        def enqueue(self, job_id, priority=0, model=None):
            self.ids.append(job_id)


    settings = Settings(data_dir=DATA, public_url="http://testserver")
    store = Store.connect(settings.db_url)
    queue = Recording()
    service = build_service(
        settings,
        store=store,
        storage=LocalStorage(DATA, settings.base_url),
        queue=queue,
        max_concurrent_jobs=1,
    )
    _, key = store.accounts.create("t", credits=100)
    with TestClient(create_app(service=service)) as client:
        response = client.post(
            "/v2/images/generate",
            json={"model": "midjourney", "prompt": "a fox"},
            headers={"X-API-Key": key},
        )
    report(status=response.status_code, queued=queue.ids == [response.json()["jobId"]])
"""

WORKER_SIDE = """
    from selfjourney.config import Settings
    from selfjourney.dialects.registry import webhook_styles
    from selfjourney.queue.local import LocalQueue
    from selfjourney.storage.local import LocalStorage
    from selfjourney.store import Store
    from selfjourney.worker.side import build_worker_side
    from tests.records import queued_job

    settings = Settings(data_dir=DATA, public_url="http://testserver", upscaler="lanczos")
    store = Store.connect(settings.db_url)
    storage = LocalStorage(DATA, settings.base_url)
    workers = build_worker_side(
        settings, store=store, storage=storage, styles=webhook_styles(settings)
    )
    account, _ = store.accounts.create("t", credits=100)
    job, _ = store.jobs.create(queued_job(account.id))  # as an API process left it
    queue = LocalQueue(workers.worker.run, workers=0)
    queue.enqueue(job.id)
    queue.drain()
    done = store.jobs.get(job.id)
    report(status=done.status.value, images=len(done.result.images))
"""

PRELUDE = """
    import json, sys
    from pathlib import Path

    DATA = Path(sys.argv[1])

    def report(**facts):
        loaded = sorted({name.split(".")[0] if not name.startswith("selfjourney") else
                         ".".join(name.split(".")[:2]) for name in sys.modules})
        print(json.dumps({**facts, "loaded": loaded}))
"""


def _run(script: str, data_dir: Path) -> dict[str, Any]:
    code = textwrap.dedent(PRELUDE) + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        cwd=Path(__file__).parent.parent,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return facts


def test_an_api_process_takes_jobs_without_any_engine(tmp_path: Path):
    facts = _run(API_SIDE, tmp_path)
    assert facts["status"] == 202 and facts["queued"] is True
    loaded = set(facts["loaded"])
    assert "fastapi" in loaded  # the check below would see the modules if they were there
    unwanted = {"selfjourney.engines", "selfjourney.worker", "torch", "diffusers", "ncnn"}
    assert not loaded & unwanted, sorted(loaded & unwanted)


def test_a_worker_process_renders_without_any_web_framework(tmp_path: Path):
    facts = _run(WORKER_SIDE, tmp_path)
    assert facts["status"] == "COMPLETED" and facts["images"] == 4
    loaded = set(facts["loaded"])
    assert "selfjourney.engines" in loaded and "selfjourney.dialects" in loaded
    unwanted = {"fastapi", "starlette", "uvicorn", "selfjourney.api", "selfjourney.service"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
