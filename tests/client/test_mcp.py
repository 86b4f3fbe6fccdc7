"""``selfjourney mcp`` spoken to by the MCP SDK's own client over stdio, against a real server."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from PIL import Image

from tests.client.site import Site
from tests.live import SELFJOURNEY, run_cli

Session = Callable[[ClientSession], Awaitable[None]]


def with_session(site: Site, key: str, test: Session, cwd: Path) -> None:
    """Start ``selfjourney mcp`` (SDK stdio client), initialise, run ``test``, close it."""
    env = {"SELFJOURNEY_SERVER": site.server.url, "SELFJOURNEY_API_KEY": key}
    if "PYTHONPATH" in os.environ:  # the tree under test, as for every CLI subprocess
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    params = StdioServerParameters(command=str(SELFJOURNEY), args=["mcp"], env=env, cwd=cwd)

    async def main() -> None:
        with (cwd / "mcp-stderr.log").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                with anyio.fail_after(60):
                    await test(session)

    anyio.run(main)


def job_of(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    text = result.content[0]
    assert isinstance(text, types.TextContent)
    job: dict[str, Any] = json.loads(text.text)
    return job


def test_the_tools_imagine_act_get_and_list_jobs(site: Site, tmp_path: Path) -> None:
    key = site.new_key()

    async def session_test(session: ClientSession) -> None:
        tools = await session.list_tools()
        assert [tool.name for tool in tools.tools] == ["imagine", "act", "get_job", "list_jobs"]

        seen: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            assert total == 100 and message is not None
            seen.append(progress)

        result = await session.call_tool(
            "imagine",
            {"prompt": "a fox in the snow", "aspect_ratio": "3:2", "include_image": True},
            progress_callback=on_progress,
        )
        grid = job_of(result)
        assert grid["status"] == "COMPLETED" and len(grid["images"]) == 4
        assert grid["gridUrl"].startswith(site.server.url + "/cdn/images/")
        assert "upsample" in grid["next"]
        assert seen[-1] == 100 and seen == sorted(seen)
        preview = result.content[1]
        assert isinstance(preview, types.ImageContent) and preview.mime_type == "image/jpeg"
        with Image.open(io.BytesIO(base64.b64decode(preview.data))) as picture:
            assert picture.format == "JPEG" and max(picture.size) == 1024
            assert picture.size[0] > picture.size[1]  # the 3:2 grid, scaled

        upsample = job_of(
            await session.call_tool(
                "act", {"job_id": grid["id"], "action": "upsample", "value": "2"}
            )
        )
        assert upsample["images"] == [upsample["images"][0]] and upsample["gridUrl"] is None
        assert "pan" in upsample["next"]

        zoomed = job_of(
            await session.call_tool(
                "act", {"job_id": upsample["id"], "action": "zoom", "value": 2.0, "wait": False}
            )
        )
        assert zoomed["status"] in ("QUEUED", "PROCESSING", "COMPLETED")

        read = await session.call_tool("get_job", {"job_id": upsample["id"], "include_image": True})
        assert job_of(read)["images"] == upsample["images"]
        assert isinstance(read.content[1], types.ImageContent)

        listed = await session.call_tool("list_jobs", {"limit": 5})
        assert isinstance(listed.content[0], types.TextContent)
        ids = [job["id"] for job in json.loads(listed.content[0].text)["jobs"]]
        assert ids == [zoomed["id"], upsample["id"], grid["id"]]

    with_session(site, key, session_test, tmp_path)


def test_refusals_are_tool_errors_with_the_servers_message(site: Site, tmp_path: Path) -> None:
    async def session_test(session: ClientSession) -> None:
        cases = [
            (
                "get_job",
                {"job_id": "00000000-0000-4000-8000-000000000000"},
                "Job not found (HTTP 404)",
            ),
            ("imagine", {"prompt": "a fox", "aspect_ratio": "9:1"}, "out of range"),
            (
                "act",
                {"job_id": "00000000-0000-4000-8000-000000000000", "action": "pan"},
                "pan takes a direction",
            ),
        ]
        for tool, arguments, message in cases:
            result = await session.call_tool(tool, arguments)
            assert result.is_error, result
            text = result.content[0]
            assert isinstance(text, types.TextContent) and message in text.text, text

    with_session(site, site.key, session_test, tmp_path)


def test_without_the_sdk_mcp_is_a_clear_error(tmp_path: Path) -> None:
    """An ``mcp`` that cannot be imported stands in for an install without the extra."""
    fake = tmp_path / "no-mcp" / "mcp"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named mcp")\n')
    paths = [str(fake.parent), os.environ.get("PYTHONPATH", "")]
    done = run_cli(
        "mcp",
        "--key",
        "afk_x",
        cwd=tmp_path,
        env={"PYTHONPATH": os.pathsep.join(p for p in paths if p)},
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == (
        "error: selfjourney mcp needs the MCP SDK (No module named mcp): "
        "pip install 'selfjourney[mcp]'\n"
    )
