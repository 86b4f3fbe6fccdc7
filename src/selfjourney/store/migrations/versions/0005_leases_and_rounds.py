"""leases and rounds: a worker's lease on the job it renders, and who runs a periodic chore

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:00:00.000000

``jobs.lease_until``: while a job is PROCESSING, the worker rendering it holds it until then
and renews it while it renders; a lease that runs out puts the job back in the queue.
``rounds``: one row per periodic chore (the watchdog, retention); a process runs a round only
if it moves the row's ``until`` forward first, so one process wins each round.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import selfjourney.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_until", selfjourney.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_jobs_status_lease", ["status", "lease_until"])
    op.create_table(
        "rounds",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("until", selfjourney.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("rounds")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_lease")
        batch_op.drop_column("lease_until")
