"""The client commands at work: progress on stderr (a tqdm bar), saved paths on stdout, one a
line (so ``selfjourney imagine "a fox" | xargs open`` works), and a refusal as exit status 1 with
the server's own message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from selfjourney.client.actions import action_request, read_mask
from selfjourney.client.config import ClientEnv, Connection, connect
from selfjourney.client.errors import ClientError
from selfjourney.client.remote import Client, Job, ensure_completed

Command = Callable[[argparse.Namespace, ClientEnv], int]


class Interrupted(Exception):
    """Ctrl-C while following a job: the job goes on on the server."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def run(args: argparse.Namespace) -> int:
    """Run a client command: exit 0, 1 on an error (the message on stderr), 130 on Ctrl-C."""
    command = COMMANDS[args.client]
    try:
        return command(args, ClientEnv.from_environ())
    except Interrupted as exc:
        _say(f"interrupted: job {exc.job_id} goes on on the server (see `selfjourney jobs`)")
        return 130
    except KeyboardInterrupt:  # before a job was accepted, or while saving its images
        _say("interrupted")
        return 130
    except ClientError as exc:
        _say(f"error: {exc}")
        return 1


def _connect(args: argparse.Namespace, env: ClientEnv) -> Connection:
    return connect(server=args.server, key=args.key, data_dir=args.data_dir, env=env)


def _imagine(args: argparse.Namespace, env: ClientEnv) -> int:
    with Client(_connect(args, env)) as client:
        grid = _follow(client, client.imagine(args.prompt, args.ar), "imagine", args.quiet)
        _save(client, grid, args.out)
        for index in args.upsample or ():
            request = action_request(grid.id, "upsample", str(index))
            upsample = _follow(client, client.submit(request), f"upsample {index}", args.quiet)
            _save(client, upsample, args.out)
    return 0


def _act(args: argparse.Namespace, env: ClientEnv) -> int:
    mask = read_mask(args.mask) if args.mask is not None else None
    request = action_request(
        args.job_id, args.action, args.arg, strength=args.strength, mask=mask, prompt=args.prompt
    )
    label = " ".join(part for part in (args.action, args.arg, args.strength) if part)
    with Client(_connect(args, env)) as client:
        _save(client, _follow(client, client.submit(request), label, args.quiet), args.out)
    return 0


def _jobs(args: argparse.Namespace, env: ClientEnv) -> int:
    with Client(_connect(args, env)) as client:
        jobs = client.jobs(args.limit, args.status)
    print(f"{'ID':36}  {'STATUS':10}  {'CREATED (UTC)':19}  {'CREDITS':>7}  RESULT")
    for job in jobs:
        created = (job.created_at or "")[:19].replace("T", " ")
        cost = "" if job.credit_cost is None else str(job.credit_cost)
        print(f"{job.id:36}  {job.status:10}  {created:19}  {cost:>7}  {_result(job)}")
    return 0


def _mcp(args: argparse.Namespace, env: ClientEnv) -> int:
    try:
        from selfjourney.client.mcp_server import serve
    except ImportError as exc:
        raise ClientError(
            f"selfjourney mcp needs the MCP SDK ({exc}): pip install 'selfjourney[mcp]'"
        ) from None
    serve(lambda: _connect(args, env))
    return 0


def _follow(client: Client, job_id: str, label: str, quiet: bool) -> Job:
    """Wait for a job with a progress bar on stderr; returns it COMPLETED or raises."""
    if not quiet:
        _say(f"{label}: job {job_id}")
    try:
        with tqdm(
            total=100,
            desc=label,
            file=sys.stderr,
            disable=quiet,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}",
        ) as bar:
            job = client.wait(job_id, on_update=lambda job: _show(bar, job))
    except KeyboardInterrupt:
        raise Interrupted(job_id) from None
    return ensure_completed(job)


def _show(bar: tqdm[Any], job: Job) -> None:
    bar.n = 100 if job.status == "COMPLETED" else job.progress
    bar.set_postfix_str(job.status.lower(), refresh=False)
    bar.refresh()


def _save(client: Client, job: Job, out: Path) -> None:
    for path in client.download(job, out):
        print(path, flush=True)


def _result(job: Job) -> str:
    if job.status == "FAILED":
        return f"failed: {job.error or 'no reason given'}"
    if job.status != "COMPLETED":
        return f"{job.progress}%"
    if job.expired:
        return "expired"
    images = f"{len(job.images)} image{'s' if len(job.images) != 1 else ''}"
    return f"grid, {images}" if job.grid_url else images


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


COMMANDS: dict[str, Command] = {"imagine": _imagine, "act": _act, "jobs": _jobs, "mcp": _mcp}
