"""ZKTeco's demo datastores as SQLAlchemy Core tables, spread over regions.

- `accounts_cn` (CN) and `accounts_eu` (EU): customer accounts, payment methods, purchases and the devices bound
  to them; the EU copy has the same shape with an `eu_` prefix so table names stay distinct across datastores.
- `cloud_us` (US): video clips and voice recordings uploaded from devices, app telemetry, notifications.
- `support_sg` (SG): support tickets, messages and screenshot attachments.
- `partners_cn` (CN): dealers and business contacts (commercial operation, third-party sources).
Records outside the account stores name their person by the global `account_uid` (and the device serial),
because the account may live in either regional store. Times are naive UTC.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, Text


def _pk() -> Column:
    return Column("id", Integer, primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False) -> Column:
    return Column(name, Integer, ForeignKey(target), nullable=nullable, index=True)


def accounts(prefix: str = "") -> MetaData:
    """Accounts → payment methods → purchases → devices (foreign keys three levels deep)."""
    md, p = MetaData(), prefix
    Table(f"{p}accounts", md, _pk(), Column("account_uid", String(24), nullable=False, unique=True),
          Column("email", String(200), nullable=False, unique=True), Column("phone", String(40), index=True),
          Column("name", String(100), nullable=False), Column("birth_date", Date),
          Column("mailing_address", String(300)), Column("country", String(2)),
          Column("language", String(10)), Column("occupation", String(100)),
          Column("password_hash", String(100)), Column("marketing_opt_in", Boolean),
          Column("source", String(20), nullable=False), Column("registered_at", DateTime, nullable=False),
          Column("last_login_at", DateTime), Column("closed_at", DateTime),
          Column("family_of", Integer, ForeignKey(f"{p}accounts.id"), nullable=True))  # a family member's account
    Table(f"{p}payment_methods", md, _pk(), _fk("account_id", f"{p}accounts.id"),
          Column("card_brand", String(20), nullable=False), Column("card_last4", String(4), nullable=False),
          Column("card_token", String(40), nullable=False, unique=True), Column("expiry", String(5)),
          Column("billing_name", String(100)), Column("billing_address", String(300)),
          Column("created_at", DateTime, nullable=False))
    Table(f"{p}purchases", md, _pk(), _fk("account_id", f"{p}accounts.id"),
          _fk("payment_method_id", f"{p}payment_methods.id", nullable=True),
          Column("purchase_date", Date, nullable=False), Column("seller", String(200), nullable=False),
          Column("invoice_no", String(32), nullable=False, unique=True),
          Column("amount", Numeric(12, 2), nullable=False), Column("currency", String(3), nullable=False))
    Table(f"{p}devices", md, _pk(), _fk("account_id", f"{p}accounts.id"),
          _fk("purchase_id", f"{p}purchases.id", nullable=True), Column("model", String(40), nullable=False),
          Column("serial_code", String(40), nullable=False, unique=True), Column("mac_address", String(17)),
          Column("firmware_version", String(20)), Column("bound_at", DateTime, nullable=False),
          Column("activated_at", DateTime))
    return md


def cloud_us() -> MetaData:
    """Video clips and voice recordings uploaded from devices, app telemetry and notifications (a US cloud)."""
    md = MetaData()
    Table("video_clips", md, _pk(), Column("account_uid", String(24), nullable=False, index=True),
          Column("device_serial", String(40), nullable=False, index=True),
          Column("file_key", String(80), nullable=False, unique=True), Column("duration_s", Integer, nullable=False),
          Column("resolution", String(10)), Column("size_bytes", Integer),
          Column("recorded_at", DateTime, nullable=False), Column("uploaded_at", DateTime, nullable=False))
    Table("voice_recordings", md, _pk(), Column("account_uid", String(24), nullable=False, index=True),
          Column("device_serial", String(40), nullable=False, index=True),
          Column("file_key", String(80), nullable=False, unique=True), Column("duration_s", Integer, nullable=False),
          Column("size_bytes", Integer), Column("recorded_at", DateTime, nullable=False),
          Column("uploaded_at", DateTime, nullable=False))
    Table("app_events", md, _pk(), Column("account_uid", String(24), index=True),
          Column("mobile_device_id", String(40), nullable=False, index=True), Column("platform", String(20)),
          Column("app_version", String(20)), Column("language", String(10)), Column("carrier", String(40)),
          Column("event", String(40), nullable=False), Column("occurred_at", DateTime, nullable=False))
    Table("notifications", md, _pk(), Column("account_uid", String(24), nullable=False, index=True),
          Column("channel", String(10), nullable=False), Column("kind", String(20), nullable=False),
          Column("template", String(80), nullable=False), Column("sent_at", DateTime, nullable=False),
          Column("opened_at", DateTime))
    return md


def support_sg() -> MetaData:
    """Support tickets → messages → screenshot attachments, hosted in Singapore."""
    md = MetaData()
    Table("support_tickets", md, _pk(), Column("account_uid", String(24), index=True),
          Column("contact_name", String(100)), Column("contact_email", String(200), nullable=False, index=True),
          Column("device_serial", String(40), index=True), Column("product_model", String(40)),
          Column("category", String(20), nullable=False), Column("error_details", Text),
          Column("status", String(20), nullable=False), Column("opened_at", DateTime, nullable=False),
          Column("closed_at", DateTime))
    Table("ticket_messages", md, _pk(), _fk("ticket_id", "support_tickets.id"),
          Column("author_role", String(10), nullable=False), Column("body", Text, nullable=False),
          Column("sent_at", DateTime, nullable=False))
    Table("ticket_attachments", md, _pk(), _fk("message_id", "ticket_messages.id"),
          Column("kind", String(20), nullable=False), Column("file_key", String(80), nullable=False),
          Column("content_type", String(40)), Column("size_bytes", Integer),
          Column("uploaded_at", DateTime, nullable=False))
    return md


def partners_cn() -> MetaData:
    """Dealers and their contact people (commercial operation, data from third parties)."""
    md = MetaData()
    Table("dealers", md, _pk(), Column("company_name", String(200), nullable=False),
          Column("tax_id", String(32), unique=True), Column("country", String(2), nullable=False),
          Column("source", String(20), nullable=False), Column("signed_at", DateTime),
          Column("ended_at", DateTime))
    Table("dealer_contacts", md, _pk(), _fk("dealer_id", "dealers.id"), Column("name", String(100), nullable=False),
          Column("email", String(200), index=True), Column("phone", String(40), index=True),
          Column("position", String(100)))
    return md


def datastores() -> dict[str, MetaData]:
    """Datastore key (as in the data map) → its tables."""
    return {"accounts_cn": accounts(), "accounts_eu": accounts("eu_"), "cloud_us": cloud_us(),
            "support_sg": support_sg(), "partners_cn": partners_cn()}
