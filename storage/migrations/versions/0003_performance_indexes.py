"""performance indexes for the officer API (list, export, statistics)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:30:00

Measured with bench/officer_api.py on 1,000,000 tips (bench/RESULTS.md):
- ix_tips_ward_created: commune-scoped officers list newest first (ward_code IN (...) ORDER BY created_at).
- ix_tips_category_created / ix_tips_group_created: category or group filter plus a date range.
- ix_tips_new_province_created (partial, status = 'new'): the "new" and "overdue" queues of a province.
- ix_tips_stats_cover: every column the statistics read, so a province's stats are an index-only scan
  instead of ~33,000 scattered heap pages (tips of one province are spread over the whole table).
- ix_tips_description_trgm (PostgreSQL only, pg_trgm GIN on lower(description)): the `q` text search,
  which is lower(description) LIKE '%...%'. SQLite has no trigram index; it scans.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_ONLY = "status = 'new'"


def upgrade() -> None:
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.create_index('ix_tips_ward_created', ['ward_code', 'created_at'], unique=False)
        batch_op.create_index('ix_tips_category_created', ['category', 'created_at'], unique=False)
        batch_op.create_index('ix_tips_group_created', ['category_group', 'created_at'], unique=False)
        batch_op.create_index(
            'ix_tips_new_province_created',
            ['province_code', 'created_at'],
            unique=False,
            postgresql_where=sa.text(NEW_ONLY),
            sqlite_where=sa.text(NEW_ONLY),
        )
        batch_op.create_index(
            'ix_tips_stats_cover',
            ['province_code', 'category', 'status', 'outcome', 'ward_code', 'created_at', 'first_response_at'],
            unique=False,
        )
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_tips_description_trgm ON tips USING gin (lower(description) gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_tips_description_trgm')
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_index('ix_tips_stats_cover')
        batch_op.drop_index('ix_tips_new_province_created')
        batch_op.drop_index('ix_tips_group_created')
        batch_op.drop_index('ix_tips_category_created')
        batch_op.drop_index('ix_tips_ward_created')
