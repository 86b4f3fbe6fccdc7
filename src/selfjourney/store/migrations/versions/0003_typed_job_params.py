"""typed job params: the flat params dict of a job becomes named parts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00

Until now a job's ``params`` JSON was one flat dict (``{"aspect_ratio": "16:9", "chaos": 40,
"source": {...}, "index": 2, "of": "imagine", ...}``). It becomes ``{"flags": {...},
"action": {...}, "source": ..., "references": ..., "watermark": ..., "priority": ...,
"image_url": ..., "repeats": ...}``, the shape of ``domain.params.JobParams``. The one
ambiguous key, ``aspect_ratio``, is a new shape for a zoom out (a job that renders as an
outpaint) and the grid's shape otherwise. The conversion is written out here, frozen, so it
does not change when the domain does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_FLAGS = (
    "aspect_ratio",
    "seed",
    "negative",
    "chaos",
    "stylize",
    "weird",
    "tile",
    "version",
    "niji",
)
_ACTION = ("index", "zoom_ratio", "direction", "factor", "mode", "strength")
_EXTRAS = ("watermark", "priority", "image_url", "references", "source")

_jobs = sa.table(
    "jobs", sa.column("id", sa.String), sa.column("kind", sa.String), sa.column("params", sa.JSON)
)


def nested(kind: str, flat: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (flat) params to version 2 (parts)."""
    if "flags" in flat and isinstance(flat["flags"], dict):
        return flat  # already converted
    renders_as = flat.get("of") if kind == "reroll" else kind
    flags = {k: flat[k] for k in _FLAGS if flat.get(k) is not None}
    action = {k: flat[k] for k in _ACTION if flat.get(k) is not None}
    if renders_as == "outpaint" and "aspect_ratio" in flags:
        action["shape"] = flags.pop("aspect_ratio")
    out: dict[str, Any] = {"flags": flags}
    if action:
        out["action"] = action
    out.update({k: flat[k] for k in _EXTRAS if flat.get(k) not in (None, 0, "")})
    if kind == "reroll":
        out["repeats"] = flat.get("of") or "imagine"
    return out


def flat(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Version 2 params back to version 1 (for a downgrade)."""
    if "flags" not in params:
        return params
    out: dict[str, Any] = dict(params.get("flags") or {})
    action = dict(params.get("action") or {})
    if "shape" in action:
        out["aspect_ratio"] = action.pop("shape")
    out.update(action)
    out.update({k: params[k] for k in _EXTRAS if params.get(k) is not None})
    if kind == "reroll":
        out["of"] = params.get("repeats") or "imagine"
    return out


def _rewrite(convert: Any, batch: int = 1000) -> None:
    """Convert every job's params, a batch of rows at a time (keyset on id)."""
    connection = op.get_bind()
    last = ""
    while True:
        rows = connection.execute(
            sa.select(_jobs.c.id, _jobs.c.kind, _jobs.c.params)
            .where(_jobs.c.id > last)
            .order_by(_jobs.c.id)
            .limit(batch)
        ).all()
        for job_id, kind, params in rows:
            new = convert(kind, dict(params or {}))
            if new != params:
                connection.execute(_jobs.update().where(_jobs.c.id == job_id).values(params=new))
        if len(rows) < batch:
            return
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(nested)


def downgrade() -> None:
    _rewrite(flat)
