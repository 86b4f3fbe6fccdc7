"""``selfjourney mcp``: the client's commands as MCP tools for AI agents, on stdio.

Built on the official MCP Python SDK (``MCPServer``). Four tools: ``imagine``, ``act``,
``get_job`` and ``list_jobs``. Each answers with the job as JSON text (its image URLs, and a hint
of what can be done next) and, when asked, the picture itself as MCP image content: a JPEG
preview at most ``PREVIEW_SIDE`` pixels a side (a grid's full size is 2048², too large for a
model's context), while the URLs keep the full size. A refusal or a failed job is a tool error
carrying the server's message.

Usage::

    serve(lambda: connect(server=None, key=None, data_dir=None, env=ClientEnv.from_environ()))
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ContentBlock, ImageContent, TextContent
from PIL import Image
from pydantic import Field

from selfjourney import __version__
from selfjourney.client.actions import action_request, read_mask
from selfjourney.client.config import Connection
from selfjourney.client.errors import ClientError
from selfjourney.client.remote import Client, Job, ensure_completed

#: Longest side of an image returned as content.
PREVIEW_SIDE = 1024
#: Seconds a tool waits for its job before answering with the job still running.
WAIT_LIMIT = 300.0

ActionName = Literal["upsample", "variation", "reroll", "pan", "zoom", "inpaint", "upscale"]
StatusName = Literal["QUEUED", "PROCESSING", "COMPLETED", "FAILED"]
IncludeImage = Annotated[
    bool, Field(description="also return the picture (a JPEG preview, at most 1024 px a side)")
]
Wait = Annotated[bool, Field(description="wait for the job to finish (up to 5 minutes)")]
INSTRUCTIONS = """Generate images with a selfjourney server (a self-hosted Midjourney-style API).
imagine makes a 2x2 grid of four images. On a grid: act upsample N (one image on its own),
variation N, reroll. On an upsampled image: pan, zoom, inpaint, upscale. Every answer has the
image URLs; pass include_image to see the picture."""


def serve(connect: Callable[[], Connection]) -> None:
    """Run the MCP server on stdin/stdout until the client closes it."""
    build_server(connect).run("stdio")


def build_server(connect: Callable[[], Connection]) -> MCPServer[Any]:
    """The MCP server; ``connect`` is called per tool call, so a server started later (or a
    key bootstrapped later) is found."""
    server: MCPServer[Any] = MCPServer(
        name="selfjourney", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    tools = Tools(connect)
    for tool in (tools.imagine, tools.act, tools.get_job, tools.list_jobs):
        server.add_tool(tool, structured_output=False)
    return server


class Tools:
    """The tools: each runs the blocking HTTP client in a worker thread."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect

    async def imagine(
        self,
        ctx: Context,
        prompt: Annotated[str, Field(description="the prompt; Midjourney flags work: --seed 7")],
        aspect_ratio: Annotated[str | None, Field(description="W:H, e.g. 16:9")] = None,
        wait: Wait = True,
        include_image: IncludeImage = False,
    ) -> list[ContentBlock]:
        """Generate a 2x2 grid of four images from a prompt; returns the job with its URLs."""

        def submit(client: Client) -> str:
            return client.imagine(prompt, aspect_ratio)

        return await self._run(ctx, submit, wait, include_image)

    async def act(
        self,
        ctx: Context,
        job_id: str,
        action: ActionName,
        value: Annotated[
            str | int | float | None,
            Field(
                description="upsample/variation: image 1-4; pan: up, down, left or right; "
                "zoom: zoom-out ratio in (1, 2], e.g. 2; upscale: 2x, 4x, subtle or creative"
            ),
        ] = None,
        strength: Annotated[
            Literal["subtle", "strong"] | None, Field(description="variation only")
        ] = None,
        prompt: Annotated[str | None, Field(description="inpaint, reroll: a new prompt")] = None,
        mask_path: Annotated[
            str | None,
            Field(description="inpaint: a PNG file the image's size, white = repaint"),
        ] = None,
        wait: Wait = True,
        include_image: IncludeImage = False,
    ) -> list[ContentBlock]:
        """Run an action on a finished job (a grid: upsample, variation, reroll; an upsampled
        image: pan, zoom, inpaint, upscale); returns the new job."""

        def submit(client: Client) -> str:
            mask = read_mask(Path(mask_path)) if mask_path else None
            request = action_request(
                job_id, action, _text(value), strength=strength, mask=mask, prompt=prompt
            )
            return client.submit(request)

        return await self._run(ctx, submit, wait, include_image)

    async def get_job(self, job_id: str, include_image: IncludeImage = False) -> list[ContentBlock]:
        """A job's status, progress and image URLs."""

        def read(client: Client) -> list[ContentBlock]:
            return _answer(client, client.job(job_id), include_image)

        return await self._in_thread(read)

    async def list_jobs(
        self,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
        status: StatusName | None = None,
    ) -> list[ContentBlock]:
        """Your recent jobs, newest first, with their image URLs."""

        def read(client: Client) -> list[ContentBlock]:
            jobs = [_summary(job) for job in client.jobs(limit, status)]
            return [TextContent(type="text", text=json.dumps({"jobs": jobs}, indent=2))]

        return await self._in_thread(read)

    async def _run(
        self,
        ctx: Context,
        submit: Callable[[Client], str],
        wait: bool,
        include_image: bool,
    ) -> list[ContentBlock]:
        def report(job: Job) -> None:
            message = f"{job.status.lower()} {job.progress}%"
            anyio.from_thread.run(ctx.report_progress, float(job.progress), 100.0, message)

        def run(client: Client) -> list[ContentBlock]:
            job_id = submit(client)
            job = client.wait(job_id, report, WAIT_LIMIT) if wait else client.job(job_id)
            if job.terminal:
                ensure_completed(job)
            return _answer(client, job, include_image)

        return await self._in_thread(run)

    async def _in_thread(self, call: Callable[[Client], list[ContentBlock]]) -> list[ContentBlock]:
        def blocking() -> list[ContentBlock]:
            with Client(self._connect()) as client:
                return call(client)

        try:
            return await anyio.to_thread.run_sync(blocking)
        except ClientError as exc:
            raise ToolError(str(exc)) from None


def _text(value: str | int | float | None) -> str | None:
    """An action's value as the CLI would type it: 2, 2.0 and "2" alike; 1.5 stays 1.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else str(value)


def _answer(client: Client, job: Job, include_image: bool) -> list[ContentBlock]:
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(_summary(job)))]
    url = job.grid_url or (job.images[0] if job.images else None)
    if include_image and url is not None:
        content.append(_preview(client.image(url)))
    return content


def _summary(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "gridUrl": job.grid_url,
        "images": list(job.images),
        "error": job.error,
        "creditCost": job.credit_cost,
        "createdAt": job.created_at,
    }
    if job.expired:
        body["expired"] = True
    body["next"] = _next(job)
    return body


def _next(job: Job) -> str:
    if not job.terminal:
        return "still running: call get_job with this id until it is COMPLETED"
    if job.status != "COMPLETED" or not job.urls:
        return "nothing: submit a new imagine"
    if job.grid_url:
        return "act: upsample 1-4 (one image on its own), variation 1-4, reroll"
    return "act: pan up/down/left/right, zoom 1.5 or 2, inpaint with a mask, upscale 2x/4x"


def _preview(data: bytes) -> ImageContent:
    """The picture as a JPEG at most ``PREVIEW_SIDE`` a side, base64 as MCP wants it."""
    with Image.open(io.BytesIO(data)) as picture:
        picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        buffer = io.BytesIO()
        picture.convert("RGB").save(buffer, format="JPEG", quality=85)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return ImageContent(type="image", data=encoded, mime_type="image/jpeg")
