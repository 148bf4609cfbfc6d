"""outreach

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:34:05.283071
"""

from collections.abc import Sequence

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_file_id', sa.String(length=255), nullable=True),
    sa.Column('topic', sa.Enum('drugs', 'trafficking', 'fire', 'traffic', 'scams', 'security_festival', name='topic', native_enum=False, length=32), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('target_nationwide', sa.Boolean(), nullable=False),
    sa.Column('target_province_codes', sa.JSON(), nullable=False),
    sa.Column('target_ward_codes', sa.JSON(), nullable=False),
    sa.Column('schedule_kind', sa.Enum('once', 'yearly', name='schedule_kind', native_enum=False, length=32), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('yearly_month', sa.Integer(), nullable=True),
    sa.Column('yearly_day', sa.Integer(), nullable=True),
    sa.Column('yearly_end_month', sa.Integer(), nullable=True),
    sa.Column('yearly_end_day', sa.Integer(), nullable=True),
    sa.Column('send_hour', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'scheduled', 'sending', 'done', 'cancelled', name='campaign_state', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['officers.id'], name=op.f('fk_campaigns_created_by_id_officers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaigns_slug'))
    )
    op.create_table('campaign_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('run_key', sa.String(length=32), nullable=False),
    sa.Column('state', sa.Enum('draft', 'scheduled', 'sending', 'done', 'cancelled', name='campaign_state', native_enum=False, length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_runs_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_runs')),
    sa.UniqueConstraint('campaign_id', 'run_key', name='uq_campaign_runs_campaign_run_key')
    )
    with op.batch_alter_table('campaign_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_runs_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['officers.id'], name=op.f('fk_feedback_handled_by_id_officers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_feedback_province_code_provinces')),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_feedback_ward_code_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_province_created', ['province_code', 'created_at'], unique=False)

    op.create_table('pledge_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('signer_kind', sa.Enum('household', 'agency', 'enterprise', 'school', name='signer_kind', native_enum=False, length=32), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=True),
    sa.Column('ward_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_pledge_texts_province_code_provinces')),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_pledge_texts_ward_code_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_texts'))
    )
    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('chat_enc', sa.LargeBinary(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=True),
    sa.Column('ward_code', sa.Integer(), nullable=True),
    sa.Column('topics_mask', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('active', 'unsubscribed', 'gone', name='subscriber_state', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_subscribers_province_code_provinces')),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporters.id'], name=op.f('fk_subscribers_reporter_id_reporters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_subscribers_ward_code_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('reporter_id', name=op.f('uq_subscribers_reporter_id'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_subscribers_state_province', ['state', 'province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscribers_ward_code'), ['ward_code'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'gone', 'failed', name='delivery_status', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['campaign_runs.id'], name=op.f('fk_deliveries_run_id_campaign_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_deliveries_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('run_id', 'subscriber_id', name='uq_deliveries_run_subscriber')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_run_status', ['run_id', 'status'], unique=False)
        batch_op.create_index('ix_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('signer_kind', sa.Enum('household', 'agency', 'enterprise', 'school', name='signer_kind', native_enum=False, length=32), nullable=False),
    sa.Column('province_code', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.Integer(), nullable=True),
    sa.Column('representative_enc', sa.LargeBinary(), nullable=False),
    sa.Column('text_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_pledges_province_code_provinces')),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporters.id'], name=op.f('fk_pledges_reporter_id_reporters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['text_id'], ['pledge_texts.id'], name=op.f('fk_pledges_text_id_pledge_texts')),
    sa.ForeignKeyConstraint(['ward_code'], ['wards.code'], name=op.f('fk_pledges_ward_code_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges')),
    sa.UniqueConstraint('reporter_id', 'signer_kind', 'year', name='uq_pledges_reporter_kind_year')
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index('ix_pledges_ward_year', ['ward_code', 'year'], unique=False)

    _seed_national_days()
    _seed_pledge_texts()


# The movement's national days (DOMAIN.md): yearly drafts that admins fill in and switch on.
NATIONAL_DAYS = [
    ("drug-prevention-month", "Tháng hành động phòng, chống ma túy", "drugs", 6, 1, 6, 30,
     "Tháng 6 là <b>Tháng hành động phòng, chống ma túy</b>. Hãy cùng nói không với ma túy. "
     "Nếu biết nơi mua bán, sử dụng ma túy, hãy báo cho Công an qua /report. Bạn có thể giữ kín danh tính."),
    ("drug-prevention-day", "Ngày toàn dân phòng, chống ma túy (26/6)", "drugs", 6, 26, None, None,
     "Hôm nay, 26/6, là <b>Ngày toàn dân phòng, chống ma túy</b>. Mỗi tin báo đều giúp bảo vệ gia đình và "
     "khu phố. Gửi tin báo ẩn danh qua /report."),
    ("anti-trafficking-day", "Ngày toàn dân phòng, chống mua bán người (30/7)", "trafficking", 7, 30, None, None,
     "Hôm nay, 30/7, là <b>Ngày toàn dân phòng, chống mua bán người</b>. Cảnh giác với lời mời việc nhẹ lương "
     "cao, đi làm ở nước ngoài không rõ ràng. Nghi ngờ có mua bán người, hãy báo ngay qua /report hoặc gọi 113."),
    ("security-festival-day", "Ngày hội toàn dân bảo vệ an ninh Tổ quốc (19/8)", "security_festival", 8, 19,
     None, None,
     "Hôm nay, 19/8, là <b>Ngày hội toàn dân bảo vệ an ninh Tổ quốc</b>. Cảm ơn bạn đã chung tay giữ gìn "
     "an ninh, trật tự nơi mình sống."),
    ("fire-prevention-day", "Ngày toàn dân phòng cháy, chữa cháy (4/10)", "fire", 10, 4, None, None,
     "Hôm nay, 4/10, là <b>Ngày toàn dân phòng cháy, chữa cháy</b>. Kiểm tra điện, bếp, bình chữa cháy trong "
     "nhà. Khi có cháy, gọi ngay 114."),
    ("traffic-safety-month", "Tháng an toàn giao thông", "traffic", 9, 1, 9, 30,
     "Tháng 9 là <b>Tháng an toàn giao thông</b>. Đội mũ bảo hiểm, không lái xe sau khi uống rượu bia. "
     "Thấy vi phạm trật tự giao thông, bạn có thể báo qua /report."),
]


def _seed_national_days() -> None:
    plain = (
        "slug", "title", "body_html", "topic", "urgent", "target_nationwide", "schedule_kind", "yearly_month",
        "yearly_day", "yearly_end_month", "yearly_end_day", "send_hour", "state", "created_at", "updated_at",
    )
    campaigns = sa.table(
        "campaigns",
        *(sa.column(c) for c in plain),
        sa.column("target_province_codes", sa.JSON),
        sa.column("target_ward_codes", sa.JSON),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        campaigns,
        [
            {
                "slug": slug, "title": title, "body_html": body, "topic": topic, "urgent": False,
                "target_nationwide": True, "target_province_codes": [], "target_ward_codes": [],
                "schedule_kind": "yearly", "yearly_month": month, "yearly_day": day,
                "yearly_end_month": end_month, "yearly_end_day": end_day, "send_hour": 8, "state": "draft",
                "created_at": now, "updated_at": now,
            }
            for slug, title, topic, month, day, end_month, end_day, body in NATIONAL_DAYS
        ],
    )


PLEDGE_TEXT = (
    "{signer} cam kết: chấp hành nghiêm pháp luật; không tham gia, không tiếp tay cho tội phạm và tệ nạn "
    "xã hội (ma túy, cờ bạc, mại dâm, mua bán người); phòng cháy, chữa cháy an toàn; chấp hành trật tự an toàn "
    "giao thông; tích cực tham gia phong trào Toàn dân bảo vệ an ninh Tổ quốc và kịp thời báo cho Công an "
    "những việc vi phạm pháp luật."
)
SIGNERS = {
    "household": "Hộ gia đình chúng tôi",
    "agency": "Cơ quan chúng tôi",
    "enterprise": "Doanh nghiệp chúng tôi",
    "school": "Nhà trường chúng tôi",
}


def _seed_pledge_texts() -> None:
    texts = sa.table(
        "pledge_texts",
        *(sa.column(c) for c in ("version", "signer_kind", "province_code", "ward_code", "body", "active", "created_at")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        texts,
        [
            {"version": 1, "signer_kind": kind, "province_code": None, "ward_code": None,
             "body": PLEDGE_TEXT.format(signer=signer), "active": True, "created_at": now}
            for kind, signer in SIGNERS.items()
        ],
    )



def downgrade() -> None:
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_ward_year')

    op.drop_table('pledges')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_status_next')
        batch_op.drop_index('ix_deliveries_run_status')

    op.drop_table('deliveries')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_ward_code'))
        batch_op.drop_index('ix_subscribers_state_province')

    op.drop_table('subscribers')
    op.drop_table('pledge_texts')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_province_created')

    op.drop_table('feedback')
    with op.batch_alter_table('campaign_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_runs_campaign_id'))

    op.drop_table('campaign_runs')
    op.drop_table('campaigns')
    op.drop_table('leases')
