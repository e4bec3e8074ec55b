"""Keptek's demo datastores as SQLAlchemy Core tables: CRM, device cloud, training platform, web analytics.

Each datastore has its own `MetaData`; table names are distinct across all of them so the whole company can
also live in one database. Links between datastores (e.g. `devices.customer_id`) are plain columns, not
foreign keys, because each datastore may be a different server. Times are naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)


def _pk() -> Column:
    return Column("id", Integer, primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False) -> Column:
    return Column(name, Integer, ForeignKey(target), nullable=nullable, index=True)


def crm() -> MetaData:
    """Organisations, customers, addresses, orders, tickets, partners, events, requests for material, surveys."""
    md = MetaData()
    Table("organisations", md, _pk(), Column("name", String(200), nullable=False),
          Column("credit_code", String(32), nullable=False, unique=True), Column("industry", String(80)),
          Column("employee_count", Integer), Column("annual_revenue_cny", Integer),
          Column("office_address", String(300)), Column("qualification", String(80)),
          Column("credit_rating", String(8)), Column("legal_representative", String(100)),
          Column("contact_phone", String(40), index=True), Column("created_at", DateTime, nullable=False))
    Table("customers", md, _pk(), _fk("organisation_id", "organisations.id", nullable=True),
          Column("mobile", String(40), nullable=False, unique=True), Column("username", String(80), unique=True),
          Column("email", String(200), index=True), Column("name", String(100)),
          Column("wechat_openid", String(64), unique=True), Column("password_hash", String(100)),
          Column("security_question", String(200)), Column("security_answer_hash", String(100)),
          Column("occupation", String(100)), Column("position", String(100)), Column("employer", String(200)),
          Column("education", String(40)), Column("degree", String(40)), Column("industry", String(80)),
          Column("province", String(40)), Column("birth_date", Date), Column("guardian_consent_at", DateTime),
          Column("marketing_opt_in", Boolean), Column("created_at", DateTime, nullable=False),
          Column("last_active_at", DateTime), Column("closed_at", DateTime),
          # when the person withdrew marketing consent (event invitations included); empty while it stands
          Column("marketing_opt_out_at", DateTime),
          # a secondary user of another customer's account (a family member or colleague the holder added)
          _fk("main_account_id", "customers.id", nullable=True))
    Table("customer_addresses", md, _pk(), _fk("customer_id", "customers.id"), Column("label", String(20)),
          Column("recipient", String(100)), Column("phone", String(40)), Column("province", String(40)),
          Column("city", String(60)), Column("street", String(200)), Column("postcode", String(12)),
          Column("is_default", Boolean, nullable=False))
    Table("products", md, _pk(), Column("sku", String(32), nullable=False, unique=True),
          Column("name", String(200), nullable=False), Column("category", String(40)),
          Column("price_cny", Numeric(12, 2), nullable=False))
    Table("orders", md, _pk(), _fk("customer_id", "customers.id"),
          _fk("shipping_address_id", "customer_addresses.id", nullable=True),
          Column("order_no", String(32), nullable=False, unique=True), Column("status", String(20), nullable=False),
          Column("invoice_title", String(200)), Column("total_cny", Numeric(12, 2), nullable=False),
          Column("ordered_at", DateTime, nullable=False), Column("paid_at", DateTime))
    Table("order_lines", md, _pk(), _fk("order_id", "orders.id"), _fk("product_id", "products.id"),
          Column("quantity", Integer, nullable=False), Column("unit_price_cny", Numeric(12, 2), nullable=False),
          Column("device_serial", String(40), index=True))
    Table("support_tickets", md, _pk(), _fk("customer_id", "customers.id"),
          _fk("order_id", "orders.id", nullable=True), Column("channel", String(20), nullable=False),
          Column("subject", String(200), nullable=False), Column("description", Text),
          Column("status", String(20), nullable=False), Column("opened_at", DateTime, nullable=False),
          Column("closed_at", DateTime))
    Table("partners", md, _pk(), _fk("customer_id", "customers.id"), _fk("organisation_id", "organisations.id"),
          Column("id_document_type", String(20), nullable=False), Column("id_document_no", String(40), nullable=False),
          Column("level", String(20), nullable=False), Column("status", String(20), nullable=False),
          Column("contract_no", String(32)), Column("applied_at", DateTime, nullable=False),
          Column("certified_at", DateTime), Column("ended_at", DateTime))
    Table("events", md, _pk(), Column("title", String(200), nullable=False), Column("kind", String(20)),
          Column("city", String(60)), Column("starts_at", DateTime, nullable=False))
    Table("event_registrations", md, _pk(), _fk("event_id", "events.id"), _fk("customer_id", "customers.id"),
          Column("invited", Boolean, nullable=False), Column("registered_at", DateTime, nullable=False),
          Column("attended", Boolean))
    Table("event_invitations", md, _pk(), _fk("event_id", "events.id"), _fk("customer_id", "customers.id"),
          Column("channel", String(10), nullable=False), Column("sent_at", DateTime, nullable=False))
    Table("material_requests", md, _pk(), _fk("customer_id", "customers.id"),
          Column("material", String(200), nullable=False), Column("requested_at", DateTime, nullable=False))
    Table("survey_responses", md, _pk(), _fk("customer_id", "customers.id"),
          Column("survey", String(80), nullable=False), Column("score", Integer), Column("comment", Text),
          Column("submitted_at", DateTime, nullable=False))
    return md


def devices() -> MetaData:
    """The device cloud: devices, installed software, location tracks, synced files, usage logs."""
    md = MetaData()
    Table("devices", md, _pk(), Column("customer_id", Integer, index=True),
          Column("serial_number", String(40), nullable=False, unique=True),
          Column("mac_address", String(17), nullable=False, unique=True),
          Column("device_uid", String(40), nullable=False, unique=True), Column("model", String(40), nullable=False),
          Column("nickname", String(100)), Column("firmware_version", String(20)),
          Column("activated_at", DateTime), Column("last_seen_at", DateTime))
    Table("device_software", md, _pk(), _fk("device_id", "devices.id"), Column("package", String(100), nullable=False),
          Column("version", String(20)), Column("installed_at", DateTime))
    Table("device_locations", md, _pk(), _fk("device_id", "devices.id"), Column("lat", Double, nullable=False),
          Column("lng", Double, nullable=False), Column("accuracy_m", Integer),
          Column("recorded_at", DateTime, nullable=False))
    Table("device_files", md, _pk(), _fk("device_id", "devices.id"), Column("file_name", String(200)),
          Column("file_key", String(80), nullable=False), Column("size_bytes", Integer),
          Column("direction", String(10), nullable=False), Column("synced_at", DateTime, nullable=False))
    Table("device_usage_logs", md, _pk(), _fk("device_id", "devices.id"), Column("app", String(100)),
          Column("action", String(40)), Column("occurred_at", DateTime, nullable=False))
    return md


def training() -> MetaData:
    """Training and certification: courses, sessions, enrolments, certificates."""
    md = MetaData()
    Table("courses", md, _pk(), Column("code", String(20), nullable=False, unique=True),
          Column("title", String(200), nullable=False), Column("level", String(20)))
    Table("course_sessions", md, _pk(), _fk("course_id", "courses.id"), Column("delivery", String(10)),
          Column("city", String(60)), Column("starts_at", DateTime, nullable=False))
    Table("enrolments", md, _pk(), _fk("session_id", "course_sessions.id"), Column("customer_id", Integer, index=True),
          Column("status", String(20), nullable=False), Column("score", Integer),
          Column("enrolled_at", DateTime, nullable=False), Column("completed_at", DateTime))
    Table("certificates", md, _pk(), _fk("enrolment_id", "enrolments.id"),
          Column("certificate_no", String(32), nullable=False, unique=True), Column("holder_name", String(100)),
          Column("issued_at", DateTime, nullable=False),
          Column("expires_at", DateTime), Column("revoked_at", DateTime))
    return md


def analytics() -> MetaData:
    """Web analytics: sessions with IP and cookie id, page views, e-mail campaigns and click tracking."""
    md = MetaData()
    Table("web_sessions", md, _pk(), Column("cookie_id", String(40), nullable=False, index=True),
          Column("customer_id", Integer, index=True), Column("ip_address", String(45)),
          Column("user_agent", String(300)), Column("referrer", String(300)),
          Column("started_at", DateTime, nullable=False))
    Table("page_views", md, _pk(), _fk("session_id", "web_sessions.id"), Column("url", String(300), nullable=False),
          Column("viewed_at", DateTime, nullable=False), Column("duration_ms", Integer))
    Table("email_campaigns", md, _pk(), Column("name", String(200), nullable=False),
          Column("kind", String(20), nullable=False), Column("sent_at", DateTime, nullable=False))
    Table("email_clicks", md, _pk(), _fk("campaign_id", "email_campaigns.id"),
          Column("customer_id", Integer, index=True), Column("email", String(200), index=True),
          Column("link_url", String(300), nullable=False), Column("ip_address", String(45)),
          Column("clicked_at", DateTime, nullable=False))
    return md


def datastores() -> dict[str, MetaData]:
    """Datastore key (as in the data map) → its tables."""
    return {"crm": crm(), "devices": devices(), "training": training(), "analytics": analytics()}
