"""The arguments of the client commands of ``selfjourney``: imagine, act, jobs and mcp.

Only argparse here, so ``selfjourney --help`` starts fast; ``terminal.py`` runs the commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from selfjourney.client.actions import ACTIONS

ACT_EPILOG = """actions:
  upsample N                  image N (1-4) of a grid on its own
  variation N [--strong|--subtle]
                              four variations of grid image N
  reroll [--prompt TEXT]      the grid's job again with a new seed
  pan up|down|left|right      extend an upsampled image
  zoom 1.5|2|R                zoom out of an upsampled image by R in (1, 2]
  inpaint --mask FILE [--prompt TEXT]
                              repaint the white area of FILE (a PNG the image's size)
  upscale 2x|4x|subtle|creative
                              a larger copy of an upsampled image
"""


def add_commands(commands: Any) -> None:
    """Add imagine, act, jobs and mcp to the ``selfjourney`` parser's sub-commands."""
    imagine = commands.add_parser(
        "imagine", help="generate a 2x2 grid and download it", description=_IMAGINE
    )
    imagine.add_argument("prompt", metavar="PROMPT", help='e.g. "a fox in the snow --seed 7"')
    imagine.add_argument("--ar", metavar="W:H", help="aspect ratio, e.g. 16:9 (default 1:1)")
    imagine.add_argument(
        "--upsample",
        type=int,
        choices=range(1, 5),
        action="append",
        metavar="N",
        help="then upsample grid image N (1-4) and download it too; may be repeated",
    )
    _output(imagine)
    _connection(imagine)
    imagine.set_defaults(client="imagine")

    act = commands.add_parser(
        "act",
        help="press a button on a job (upsample, variation, pan, zoom, ...) and download it",
        description="Run an action on a finished job and download the new job's images.",
        epilog=ACT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    act.add_argument("job_id", metavar="JOB_ID")
    act.add_argument("action", metavar="ACTION", choices=ACTIONS, help=", ".join(ACTIONS))
    act.add_argument("arg", metavar="ARG", nargs="?", help="the action's argument (see below)")
    strength = act.add_mutually_exclusive_group()
    for name in ("strong", "subtle"):
        strength.add_argument(
            f"--{name}",
            dest="strength",
            action="store_const",
            const=name,
            help=f"variation: Vary ({name.capitalize()}) instead of V1-V4",
        )
    act.add_argument("--mask", type=Path, metavar="FILE", help="inpaint: white = repaint")
    act.add_argument("--prompt", help="inpaint, reroll: a new prompt")
    _output(act)
    _connection(act)
    act.set_defaults(client="act")

    jobs = commands.add_parser("jobs", help="list your recent jobs, newest first")
    jobs.add_argument("--limit", type=_limit, default=20, metavar="N", help="1-100 (default 20)")
    jobs.add_argument("--status", type=str.upper, choices=STATUSES, help="only jobs in this status")
    _connection(jobs)
    jobs.set_defaults(client="jobs")

    mcp = commands.add_parser(
        "mcp",
        help="an MCP server on stdio, for AI agents (needs the mcp extra)",
        description="Serve the imagine, act, get_job and list_jobs tools over MCP on stdio.",
    )
    _connection(mcp)
    mcp.set_defaults(client="mcp")


STATUSES = ("QUEUED", "PROCESSING", "COMPLETED", "FAILED")


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 100")
    return int(text)


_IMAGINE = (
    "Submit a prompt, show its progress on stderr, save the grid and its four images into "
    "--out, and print each saved path on stdout."
)


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR", help="default .")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def _connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument(
        "--server", metavar="URL", help="default $SELFJOURNEY_SERVER, else http://127.0.0.1:8000"
    )
    group.add_argument(
        "--key", metavar="KEY", help="default $SELFJOURNEY_API_KEY, else the local dev key"
    )
    group.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where a local server keeps its dev key (default $SELFJOURNEY_DATA_DIR, else ./data)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the client command ``args`` names; its exit status."""
    from selfjourney.client import terminal

    return terminal.run(args)
