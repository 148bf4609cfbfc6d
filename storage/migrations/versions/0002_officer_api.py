"""officer api

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:58:45.929716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('officers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('officer', 'supervisor', 'admin', name='officer_role', native_enum=False, length=32), nullable=False),
    sa.Column('nationwide', sa.Boolean(), nullable=False),
    sa.Column('can_view_restricted', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('telegram_chat_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officers')),
    sa.UniqueConstraint('username', name=op.f('uq_officers_username'))
    )
    op.create_table('auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_auth_tokens_officer_id_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_tokens_token_hash'))
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_tokens_officer_id'), ['officer_id'], unique=False)

    op.create_table('officer_provinces',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_provinces_officer_id_officers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_officer_provinces_province_code_provinces')),
    sa.PrimaryKeyConstraint('officer_id', 'province_code', name=op.f('pk_officer_provinces'))
    )
    op.create_table('one_time_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_one_time_codes_officer_id_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_one_time_codes_code_hash'))
    )
    op.create_table('officer_wards',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_wards_officer_id_officers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_officer_wards_ward_code_wards')),
    sa.PrimaryKeyConstraint('officer_id', 'ward_code', name=op.f('pk_officer_wards'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_audit_events_officer_id_officers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_audit_events_tip_id_tips'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index('ix_audit_events_tip_at', ['tip_id', 'at'], unique=False)

    with op.batch_alter_table('tip_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivery_state', sa.Enum('queued', 'delivered', 'blocked', 'failed', 'status_only', name='delivery_state', native_enum=False, length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tip_messages_officer_id_officers'), 'officers', ['officer_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_alert_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_tips_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tips_assignee_id_officers'), 'officers', ['assignee_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_tips_duplicate_of_id_tips'), 'tips', ['duplicate_of_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tips_duplicate_of_id_tips'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tips_assignee_id_officers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tips_assignee_id'))
        batch_op.drop_column('last_alert_at')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('tip_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tip_messages_officer_id_officers'), type_='foreignkey')
        batch_op.drop_column('delivery_state')
        batch_op.drop_column('officer_id')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_tip_at')
        batch_op.drop_index(batch_op.f('ix_audit_events_officer_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('officer_wards')
    op.drop_table('one_time_codes')
    op.drop_table('officer_provinces')
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_tokens_officer_id'))

    op.drop_table('auth_tokens')
    op.drop_table('officers')
