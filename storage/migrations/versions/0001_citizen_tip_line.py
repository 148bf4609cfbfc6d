"""citizen tip line

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:39:35.539026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.areas import area_rows


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fsm_records',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('data_enc', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_fsm_records'))
    )
    with op.batch_alter_table('fsm_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fsm_records_updated_at'), ['updated_at'], unique=False)

    op.create_table('processed_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_processed_updates'))
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_updates_received_at'), ['received_at'], unique=False)

    op.create_table('provinces',
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_folded', sa.String(length=100), nullable=False),
    sa.Column('division_type', sa.String(length=40), nullable=False),
    sa.Column('codename', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_provinces'))
    )
    op.create_table('reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('alias', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('chat_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporters')),
    sa.UniqueConstraint('alias', name=op.f('uq_reporters_alias')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_reporters_key_hash'))
    )
    op.create_table('throttle_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hits'))
    )
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hits_bucket_key_at', ['bucket', 'key_hash', 'at'], unique=False)

    op.create_table('wards',
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_folded', sa.String(length=100), nullable=False),
    sa.Column('division_type', sa.String(length=40), nullable=False),
    sa.Column('codename', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_wards_province_code_provinces')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_wards'))
    )
    with op.batch_alter_table('wards', schema=None) as batch_op:
        batch_op.create_index('ix_wards_province_folded', ['province_code', 'name_folded'], unique=False)

    op.create_table('tips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=16), nullable=False),
    sa.Column('receipt_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('anonymity', sa.Enum('anonymous', 'follow_up', 'identified', name='anonymity', native_enum=False, length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('category', sa.Enum('political_security', 'theft_robbery', 'assault_murder', 'fraud', 'cybercrime', 'human_trafficking', 'smuggling_counterfeit', 'weapons_explosives', 'drugs', 'gambling', 'prostitution', 'traffic', 'fire', 'environment', 'other', name='category', native_enum=False, length=32), nullable=False),
    sa.Column('category_group', sa.Enum('political_security', 'criminal', 'social_evils', 'other', name='category_group', native_enum=False, length=32), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Enum('urgent', 'high', 'normal', 'low', name='priority', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('new', 'in_review', 'needs_info', 'forwarded', 'closed', name='tip_status', native_enum=False, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('valuable', 'not_actionable', 'duplicate', 'false_report', 'spam', name='outcome', native_enum=False, length=32), nullable=True),
    sa.Column('province_code', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.Integer(), nullable=True),
    sa.Column('place_detail', sa.Text(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('when_kind', sa.Enum('today', 'yesterday', 'this_week', 'earlier', 'unknown', 'date', name='when_kind', native_enum=False, length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('identity_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('identity_phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_tips_province_code_provinces')),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporters.id'], name=op.f('fk_tips_reporter_id_reporters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_tips_ward_code_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tips')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_tips_receipt_hash')),
    sa.UniqueConstraint('ref', name=op.f('uq_tips_ref'))
    )
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tips_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_tips_category_group'), ['category_group'], unique=False)
        batch_op.create_index(batch_op.f('ix_tips_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_tips_province_created', ['province_code', 'created_at'], unique=False)
        batch_op.create_index('ix_tips_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tips_ward_code'), ['ward_code'], unique=False)

    op.create_table('tip_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('tipster', 'officer', 'system', name='message_author', native_enum=False, length=32), nullable=False),
    sa.Column('kind', sa.Enum('message', 'note', name='message_kind', native_enum=False, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('read_by_officer', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_tip_messages_tip_id_tips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_messages'))
    )
    with op.batch_alter_table('tip_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_messages_tip_id'), ['tip_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('photo', 'video', 'document', 'voice', 'audio', 'video_note', name='attachment_kind', native_enum=False, length=32), nullable=False),
    sa.Column('file_id', sa.String(length=255), nullable=False),
    sa.Column('file_unique_id', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('mime_type', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['tip_messages.id'], name=op.f('fk_attachments_message_id_tip_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_attachments_tip_id_tips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_tip_id'), ['tip_id'], unique=False)

    # Areas are reference data: seeded here so every database starts with the 2025 map.
    provinces, wards = area_rows()
    op.bulk_insert(sa.table("provinces", *(sa.column(c) for c in provinces[0])), provinces)
    op.bulk_insert(sa.table("wards", *(sa.column(c) for c in wards[0])), wards)


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_tip_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('tip_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_messages_tip_id'))

    op.drop_table('tip_messages')
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tips_ward_code'))
        batch_op.drop_index('ix_tips_status_created')
        batch_op.drop_index('ix_tips_province_created')
        batch_op.drop_index(batch_op.f('ix_tips_created_at'))
        batch_op.drop_index(batch_op.f('ix_tips_category_group'))
        batch_op.drop_index(batch_op.f('ix_tips_category'))

    op.drop_table('tips')
    with op.batch_alter_table('wards', schema=None) as batch_op:
        batch_op.drop_index('ix_wards_province_folded')

    op.drop_table('wards')
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hits_bucket_key_at')

    op.drop_table('throttle_hits')
    op.drop_table('reporters')
    op.drop_table('provinces')
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_updates_received_at'))

    op.drop_table('processed_updates')
    with op.batch_alter_table('fsm_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fsm_records_updated_at'))

    op.drop_table('fsm_records')
