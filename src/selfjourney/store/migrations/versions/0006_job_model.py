"""job model: the configured model that renders each job

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:30:00.000000

``jobs.render_model``: the name in ``Settings.models`` (``v7``, ``niji6``...) chosen when the
job was accepted; workers serving other models leave it queued. ``jobs.model`` already holds
the wire model name (``midjourney``), hence another column. Rows from before stay NULL: the
default model.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("render_model", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("render_model")
