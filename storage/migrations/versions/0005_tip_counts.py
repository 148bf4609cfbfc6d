"""tip count rollups kept by triggers; an ordered index for the median first response

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

Measured with bench/officer_api.py on 1,000,000 tips (bench/RESULTS.md): nationwide statistics read every tip
four times. Two small tables now hold the counts per local (Vietnam, UTC+7) year and month:
- tip_counts: province × category × status × outcome → tips, tips with a first response (breakdown, periods);
- tip_commune_counts: commune × restricted category or not → tips (the commune list).
Both are kept exact by triggers on tips rather than by the storage functions: a trigger sees every write
(ORM flushes, the follow-up UPDATE, COPY bulk loads, hand-made SQL, a future retention job) inside the same
transaction, so no code path can forget it. PostgreSQL uses statement triggers with transition tables (one
grouped upsert per statement, so a COPY of 20,000 rows costs one upsert, and rows are locked in key order, so
two writers cannot deadlock on them); SQLite only has row triggers. The restricted flag mirrors
storage.domain.RESTRICTED_CATEGORIES as of this revision (tests/storage/test_tip_counts.py checks they agree).

ix_tips_first_response (PostgreSQL only): first-response seconds in order, with every column a statistics
filter reads, so the exact median is an index-only walk to the middle instead of sorting a million values.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESTRICTED = "('political_security')"
TRACKED = ('province_code', 'ward_code', 'category', 'category_group', 'status', 'outcome', 'created_at',
           'first_response_at')
INCLUDED = ('created_at', 'first_response_at', 'province_code', 'ward_code', 'category', 'category_group', 'status',
            'outcome')
# Each rollup: its key after (grain, period_start) as column → expression over a tip row {r}, and its measures.
ROLLUPS = {
    'tip_counts': (
        {'province_code': '{r}.province_code', 'category': '{r}.category', 'category_group': '{r}.category_group',
         'status': '{r}.status', 'outcome': "coalesce({r}.outcome, '')"},
        ('n', 'responded'),
    ),
    'tip_commune_counts': (
        {'province_code': '{r}.province_code', 'ward_code': 'coalesce({r}.ward_code, 0)',
         'restricted': f'{{r}}.category IN {RESTRICTED}'},
        ('n',),
    ),
    'tip_period_counts': (
        {'province_code': '{r}.province_code', 'category': '{r}.category', 'category_group': '{r}.category_group'},
        ('n',),
    ),
}


def _key(table: str) -> str:
    """The rollup's key columns."""
    return ', '.join(['grain', 'period_start', *ROLLUPS[table][0]])  # as a set: ON CONFLICT ignores the order


def _measure(name: str, r: str, sign: str, aggregate: bool) -> str:
    """n counts the (signed) tips, responded those with a first response."""
    value = sign if name == 'n' else f'CASE WHEN {r}.first_response_at IS NULL THEN 0 ELSE {sign} END'
    return f'sum({value})' if aggregate else value


def _pg_upserts(source: str) -> str:
    """Grouped upserts of signed rows (`source` yields tips' tracked columns and `sign` ±1) into every rollup."""
    start = "date_trunc(g.grain, d.created_at AT TIME ZONE 'UTC' + interval '7 hours')::date"
    statements = []
    for table, (key, measures) in ROLLUPS.items():
        columns = ['g.grain', start, *(expr.format(r='d') for expr in key.values())]
        sums = [_measure(m, 'd', 'd.sign', aggregate=True) for m in measures]
        positions = ', '.join(str(i + 1) for i in range(len(columns)))
        statements.append(f"""
    INSERT INTO {table} AS c ({_key(table)}, {', '.join(measures)})
    SELECT {', '.join(columns + sums)}
    FROM ({source}) AS d CROSS JOIN (VALUES ('year'), ('month')) AS g(grain)
    GROUP BY {positions}
    HAVING {' OR '.join(f'{v} <> 0' for v in sums)}
    ORDER BY {positions}
    ON CONFLICT ({_key(table)}) DO UPDATE SET {', '.join(f'{m} = c.{m} + excluded.{m}' for m in measures)};""")
    return ''.join(statements)


def _pg_rows(table: str, sign: int) -> str:
    """A transition table's tracked columns with a sign."""
    return f"SELECT {', '.join(TRACKED)}, {sign} AS sign FROM {table}"


PG_FUNCTIONS = {
    'tips_counts_insert': _pg_upserts(_pg_rows('new_rows', 1)),
    'tips_counts_update': _pg_upserts(f"{_pg_rows('new_rows', 1)} UNION ALL {_pg_rows('old_rows', -1)}"),
    'tips_counts_delete': _pg_upserts(_pg_rows('old_rows', -1)),
    'tips_counts_truncate': ' '.join(f'DELETE FROM {table};' for table in ROLLUPS),
}
PG_TRIGGERS = {
    'tips_counts_insert': 'AFTER INSERT ON tips REFERENCING NEW TABLE AS new_rows',
    'tips_counts_update': 'AFTER UPDATE ON tips REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows',
    'tips_counts_delete': 'AFTER DELETE ON tips REFERENCING OLD TABLE AS old_rows',
    'tips_counts_truncate': 'AFTER TRUNCATE ON tips',
}


def _sqlite_upserts(row: str, sign: str) -> str:
    """Upserts of one tip (`row` is NEW or OLD) with the given sign into every rollup, year and month."""
    # substr: SQLite's date functions round to milliseconds, which would move 23:59:59.9995 into the next day.
    start = f"date(substr({row}.created_at, 1, 19), '+7 hours', 'start of ' || g.grain)"
    statements = []
    for table, (key, measures) in ROLLUPS.items():
        columns = ['g.grain', start, *(expr.format(r=row) for expr in key.values())]
        values = [_measure(m, row, sign, aggregate=False) for m in measures]
        statements.append(f"""
    INSERT INTO {table} ({_key(table)}, {', '.join(measures)})
    SELECT {', '.join(columns + values)}
    FROM (SELECT 'year' AS grain UNION ALL SELECT 'month') AS g WHERE true
    ON CONFLICT ({_key(table)}) DO UPDATE SET {', '.join(f'{m} = {m} + excluded.{m}' for m in measures)};""")
    return ''.join(statements)


CHANGED = ' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in TRACKED)
SQLITE_TRIGGERS = {
    'tips_counts_insert': ('AFTER INSERT ON tips FOR EACH ROW', _sqlite_upserts('NEW', '1')),
    'tips_counts_update': (
        f"AFTER UPDATE OF {', '.join(TRACKED)} ON tips FOR EACH ROW WHEN {CHANGED}",
        _sqlite_upserts('OLD', '-1') + _sqlite_upserts('NEW', '1'),
    ),
    'tips_counts_delete': ('AFTER DELETE ON tips FOR EACH ROW', _sqlite_upserts('OLD', '-1')),
}


def _backfill(dialect: str) -> None:
    """Counts of the tips already there (the triggers exist by now and, on PostgreSQL, lock out writers)."""
    if dialect == 'postgresql':
        start = "date_trunc(g.grain, t.created_at AT TIME ZONE 'UTC' + interval '7 hours')::date"
        grains = "(VALUES ('year'), ('month')) AS g(grain)"
    else:
        start = "date(substr(t.created_at, 1, 19), '+7 hours', 'start of ' || g.grain)"
        grains = "(SELECT 'year' AS grain UNION ALL SELECT 'month') AS g"
    for table, (key, measures) in ROLLUPS.items():
        columns = ['g.grain', start, *(expr.format(r='t') for expr in key.values())]
        sums = [_measure(m, 't', '1', aggregate=True) for m in measures]
        positions = ', '.join(str(i + 1) for i in range(len(columns)))
        # Year rows first: they are read most (whole years), so keep them together on disk.
        op.execute(f"""
            INSERT INTO {table} ({_key(table)}, {', '.join(measures)})
            SELECT {', '.join(columns + sums)} FROM tips AS t CROSS JOIN {grains}
            GROUP BY {positions} ORDER BY g.grain = 'month', {positions}
        """)
        if dialect == 'postgresql':
            op.execute(f'ANALYZE {table}')


def upgrade() -> None:
    op.create_table('tip_counts',
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('province_code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('category_group', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'province_code', 'period_start', 'category', 'category_group', 'status', 'outcome', name=op.f('pk_tip_counts')),
    sqlite_with_rowid=False,
    )
    op.create_table('tip_commune_counts',
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('province_code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('ward_code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'province_code', 'period_start', 'ward_code', 'restricted', name=op.f('pk_tip_commune_counts')),
    sqlite_with_rowid=False,
    )
    op.create_table('tip_period_counts',
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('province_code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('category_group', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'province_code', 'period_start', 'category', 'category_group', name=op.f('pk_tip_period_counts')),
    sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for name, body in PG_FUNCTIONS.items():
            op.execute(f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$')
            op.execute(f'CREATE TRIGGER {name} {PG_TRIGGERS[name]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()')
        op.execute(
            "CREATE INDEX ix_tips_first_response ON tips (date_part('epoch', first_response_at - created_at)) "
            f"INCLUDE ({', '.join(INCLUDED)}) WHERE first_response_at IS NOT NULL"
        )
    else:
        for name, (when, body) in SQLITE_TRIGGERS.items():
            op.execute(f'CREATE TRIGGER {name} {when} BEGIN {body} END')
    _backfill(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_tips_first_response')
        for name in PG_FUNCTIONS:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON tips')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    for table in ROLLUPS:
        op.drop_table(table)
