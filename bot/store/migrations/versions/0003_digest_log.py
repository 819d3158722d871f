"""digest log: the stories each chat was shown in a digest, so that the next digest does not repeat them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('brief_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brief_id'], ['briefs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'brief_id')
    )
    with op.batch_alter_table('digest_log', schema=None) as batch_op:
        batch_op.create_index('ix_digest_log_chat_sent', ['chat_id', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digest_log', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_log_chat_sent')

    op.drop_table('digest_log')
