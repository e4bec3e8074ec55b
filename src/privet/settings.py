"""The one Settings object. Nothing else in Privet reads the process environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Privet's configuration, read from `PRIVET_*` environment variables (or a `.env` file)."""

    model_config = SettingsConfigDict(env_prefix="PRIVET_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("var"),
        description="Folder for the embedded SQLite store, the generated secret key and demo databases.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL of Privet's own store. Default: SQLite at `<data_dir>/privet.db`. "
            "Production: `postgresql+psycopg://user:pass@host/db`."
        ),
    )
    db_pool_size: int = Field(10, ge=1, description="Connections kept open per process (PostgreSQL/MySQL).")
    db_max_overflow: int = Field(5, ge=0, description="Extra connections allowed above the pool size under load.")
    secret_key: str | None = Field(
        None,
        description=(
            "Master secret for session signing, blind indexes, encryption at rest and the audit chain's key "
            "(keep it out of the database and its backups: whoever holds it can rewrite the audit chain). "
            "Default: generated once into `<data_dir>/secret.key`. Set it explicitly when running several processes."
        ),
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Datastore connection secrets by name, as JSON: `{"crm_db": "postgresql+psycopg://..."}`. '
            "The data map refers to these names; URLs never appear in the YAML."
        ),
    )
    secrets_file: Path | None = Field(
        None,
        description="YAML or JSON file mapping secret names to connection URLs (merged under `secrets`). "
        "Default: `<data_dir>/secrets.yaml` when it exists.",
    )
    audit_anchor_file: Path | None = Field(
        None,
        description="File outside the store to which `privet audit anchor` appends the audit chain's head, signed "
        "(Ed25519), and whose every anchor `privet audit verify` checks: catches the newest events removed and a "
        "rewrite by someone holding the key. Keep it where the database's administrators cannot rewrite it "
        "(another machine, an append-only volume) and run `privet audit anchor` periodically, e.g. hourly.",
    )
    host: str = Field("127.0.0.1", description="Address `privet serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `privet serve` listens on.")
    workers: int = Field(1, ge=1, description="Uvicorn worker processes for `privet serve`.")
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    session_ttl_minutes: int = Field(480, ge=5, description="Admin console session lifetime in minutes.")
    cookie_secure: bool = Field(
        False, description="Mark session cookies `Secure` (turn on behind HTTPS in production)."
    )
    public_rate_limit_per_minute: int = Field(
        30, ge=1, description="Requests per minute per client address on public (unauthenticated) endpoints."
    )
    limits_redis_url: str | None = Field(
        None,
        description="Redis URL (`redis://127.0.0.1:6379/1`) holding the public rate limits of every process; "
        "none: they are counted in the store's `limit_state` table. Either way the limits hold across processes.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose forwarded client address "
        "is believed, comma-separated or as JSON (`10.0.0.0/8,127.0.0.1`); none by default: the direct peer is the "
        "client, and forwarded headers are ignored.",
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        "x-forwarded-for",
        description="The header trusted proxies set with the client address: `x-forwarded-for` "
        "or `forwarded` (RFC 7239). Only this one is read: a proxy passes the other on as the client sent it.",
    )
    login_free_failures: int = Field(
        3,
        ge=0,
        description="Failed logins in a row on one account (API and console "
        "together) before each further attempt must wait.",
    )
    login_delay_seconds: float = Field(
        1.0,
        ge=0,
        description="Wait after the first failed login past the free ones; it doubles with each further failure.",
    )
    login_lock_failures: int = Field(
        10,
        ge=1,
        description="Failed logins in a row that lock the account for "
        "login_lock_minutes (`privet users unlock NAME` ends it sooner).",
    )
    login_lock_minutes: int = Field(
        15, ge=1, description="How long a locked account stays locked; also the longest wait between attempts."
    )
    login_failure_reset_minutes: int = Field(
        720, ge=1, description="Failed logins in a row are forgotten after this long without one."
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server for one-time codes and notices to subjects.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP login (optional).")
    smtp_password: str | None = Field(None, description="SMTP password (optional).")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    mail_sender: str = Field(
        "none",
        description="How e-mails to subjects (one-time codes, request messages) are "
        "sent: `smtp` (the smtp_* settings), `console` (printed to standard output, development "
        "only; `make run` uses it) or `none` (the default: nothing can be sent by e-mail, said "
        "at start-up and by /readyz).",
    )
    mail_from: str = Field("privacy@localhost", description="From address of e-mails to subjects.")
    sms_sender: str = Field(
        "none",
        description="How SMS codes and messages are sent: `http` (an HTTP gateway, "
        "see the sms_gateway_* settings), `console` (printed to standard output, development "
        "only) or `none` (the default: nothing can be sent by SMS).",
    )
    sms_gateway_url: str | None = Field(None, description="URL the HTTP SMS sender posts to.")
    sms_gateway_template: str = Field(
        '{"to": "{phone}", "text": "{message}"}',
        description="JSON body template for the SMS gateway; `{phone}` and `{message}` are filled in (JSON-escaped).",
    )
    sms_gateway_headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers for the SMS gateway, as JSON."
    )
    otp_ttl_minutes: int = Field(10, ge=1, le=60, description="Lifetime of a one-time code.")
    otp_max_attempts: int = Field(5, ge=1, le=20, description="Wrong codes allowed before the challenge locks.")
    otp_resend_seconds: int = Field(60, ge=0, description="Minimum wait before another code to the same identity.")
    otp_per_identity_per_hour: int = Field(5, ge=1, description="Codes sent to one identity per hour at most.")
    otp_per_client_per_hour: int = Field(
        20, ge=1, description="Codes requested from one client address per hour at most."
    )
    subject_token_secret: str | None = Field(
        None, description="Shared secret for HS256 trusted subject tokens from the company's own login."
    )
    subject_token_public_key: str | None = Field(
        None, description="PEM public key for RS256/ES256 trusted subject tokens (instead of a shared secret)."
    )
    subject_token_issuer: str | None = Field(None, description="Required `iss` of trusted subject tokens.")
    subject_token_audience: str = Field("privet", description="Required `aud` of trusted subject tokens.")
    subject_token_max_age_seconds: int = Field(
        600, ge=10, description="Longest lifetime accepted for a trusted subject token (exp - iat)."
    )
    webhook_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of one webhook delivery attempt.")
    webhook_delivery_in_process: bool = Field(
        True,
        description="Deliver webhooks from inside `privet serve`; turn off when separate "
        "`privet webhooks deliver` workers run.",
    )
    webhook_max_attempts: int = Field(8, ge=1, description="Delivery attempts before a webhook is marked failed.")
    jobs_backend: str = Field(
        "inline",
        pattern="^(inline|celery)$",
        description=(
            "How background jobs (request steps, reminders) run: `inline` (threads inside `privet serve` and "
            "`privet jobs work`, durable through job rows in the store) or `celery` (workers started with "
            "`privet jobs celery`, on the broker below)."
        ),
    )
    jobs_broker_url: str | None = Field(
        None,
        description="Celery broker for the `celery` backend: `redis://127.0.0.1:6379/0` or "
        "`amqp://guest:guest@127.0.0.1:5672//`.",
    )
    jobs_threads: int = Field(
        2,
        ge=0,
        description="Inline job worker threads inside `privet serve` (0: none; run `privet jobs work` instead).",
    )
    jobs_lease_seconds: int = Field(
        300,
        ge=5,
        description="A running job not finished within this time is taken up again (its worker is presumed dead).",
    )
    jobs_max_attempts: int = Field(
        5, ge=1, description="Attempts before a job (e.g. a step against a datastore that is down) is marked failed."
    )
    jobs_retry_seconds: float = Field(5.0, gt=0, description="First retry delay; doubled after each failure.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL people reach Privet at; used in e-mailed links (downloads, verification).",
    )
    requests_verify_days: int = Field(
        7,
        ge=1,
        description="Days a filed request waits for identity verification before it expires and its data is purged.",
    )
    requests_manual_approval: list[str] = Field(
        default_factory=list,
        description="Request types an officer must approve before they run, as JSON, e.g. "
        '["erasure", "closure"]; other verified requests run at once.',
    )
    requests_repeat_window_days: int = Field(
        365, ge=1, description="Window in which requests of one type by one subject count as repeats."
    )
    requests_free_per_window: int = Field(
        2, ge=1, description="Requests of one type per window that are free; past this the fee rule applies."
    )
    requests_fee: str | None = Field(
        None,
        description="Fee charged past the free number, e.g. `20 CNY`; none: "
        "such requests are flagged for an officer instead.",
    )
    package_days: int = Field(7, ge=1, description="Days an access package can be downloaded before it is deleted.")
    package_downloads: int = Field(5, ge=1, description="Downloads allowed per access package.")
    backup_retention_days: int = Field(
        35,
        ge=0,
        description="Days until backups age out; erasure records state the date erased data leaves the backups (P22).",
    )
    erasure_exceptions: Literal["complete", "review"] = Field(
        "complete",
        description="An erasure that found personal rows it could not erase (no action configured, a "
        "column that cannot be emptied, a table no identity reaches): `complete` ends it as "
        "completed_with_exceptions and tells the person what was not erased and why; `review` keeps it waiting "
        "until an officer completes it (`privet requests complete REF`).",
    )
    children_grace_days: int = Field(
        30,
        ge=0,
        description="Days a child's data may stay without a verified "
        "guardian's consent (PIPL profile) before the child sweep erases it.",
    )
    brand_name: str | None = Field(
        None,
        description="Company name shown on the privacy centre, the admin console "
        "and the banner; default: the organisation's name from the data map.",
    )
    brand_logo_url: str | None = Field(
        None, description="Logo shown in the page header (an https URL or a path under /static); none: the name only."
    )
    brand_color: str = Field(
        "#1d4ed8",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="Main colour of pages and the "
        "banner (#rrggbb); text on it is white, so pick one dark enough for contrast.",
    )
    subject_session_minutes: int = Field(
        30,
        ge=5,
        le=720,
        description="How long a person stays signed in to the "
        "privacy centre after verifying a code or arriving with a trusted token.",
    )
    banner_rate_limit_per_minute: int = Field(
        600,
        ge=1,
        description="Banner script, configuration and choice "
        "requests allowed per client address per minute (offices and mobile "
        "networks put many visitors behind one address).",
    )
    banner_cookie_domain: str | None = Field(
        None,
        description="Parent domain (e.g. `example.com`) on which the "
        "banner stores the visitor's choice so sub-domains share it; none: the "
        "page's own host only.",
    )
    banner_cookie_days: int = Field(
        180, ge=1, le=400, description="Days the banner remembers a visitor's choice before asking again."
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body accepted on "
        "authenticated API and console routes, in bytes; a larger one is refused with 413 "
        "before it is read.",
    )
    max_public_body_bytes: int = Field(
        64 * 1024,
        ge=1024,
        description="Largest request body accepted on public "
        "routes (privacy centre, banner, verification, public requests, logins), "
        "in bytes.",
    )
    max_import_bytes: int = Field(
        50 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted on "
        "import and upload routes (data map validate/apply, manual task uploads, "
        "connector callbacks), in bytes.",
    )
    max_json_depth: int = Field(
        64,
        ge=8,
        le=500,
        description="Deepest nesting of arrays and objects accepted in "
        "a request body; a deeper one is refused with 422 before it is parsed.",
    )
    examples_dir: Path = Field(
        REPO_ROOT / "examples", description="Folder holding the demo companies loaded by `privet demo`."
    )
    demo_company: str = Field("keptek", description="Demo company loaded by `privet init --demo` (keptek or zkteco).")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> list[str]:
        import ipaddress
        import json

        if isinstance(value, str):
            value = json.loads(value) if value.strip().startswith("[") else value.split(",")
        if not isinstance(value, (list, tuple)):
            raise ValueError("give addresses or networks, comma-separated or as a JSON list")
        networks = []
        for item in value:
            if not str(item).strip():
                continue
            try:
                networks.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
            except ValueError:
                raise ValueError("each trusted proxy must be an IP address or network such as 10.0.0.0/8") from None
        return networks

    @property
    def sqlalchemy_url(self) -> str:
        """The store URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'privet.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process (tests build their own `Settings`); a bad value is a clear user error."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from privet.kit.errors import InvalidInput, Problem

    try:
        return Settings()
    except ValidationError as exc:  # messages carry the rule broken, never the value given
        problems = [
            Problem(
                err["msg"],
                "PRIVET_" + "_".join(str(p) for p in err["loc"][:1]).upper(),
                "see the Configuration section of the README",
            )
            for err in exc.errors()
        ]
        raise InvalidInput("A PRIVET_* setting is not valid", problems=problems) from None
    except SettingsError as exc:
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        raise InvalidInput(
            f"PRIVET_{field.upper()} could not be parsed", 'give JSON for mappings, e.g. {"name": "url"}'
        ) from None
