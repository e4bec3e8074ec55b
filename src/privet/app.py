"""create_app(): the FastAPI application. Engines are built in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from privet import __version__
from privet.http.routes import BodyLimits, on_http_error, on_privet_error, on_unexpected_error, on_validation_error
from privet.kit.errors import PrivetError
from privet.settings import Settings, get_settings

API_PREFIX = "/api/v1"
# Body size classes (settings max_public_body_bytes, max_body_bytes, max_import_bytes), chosen by path before routing.
PUBLIC_API_PATHS = tuple(
    f"{API_PREFIX}/{p}"
    for p in (
        "public/",
        "verify/",
        "notices/public/",
        "consent/me",
        "consent/cookies",
        "consent/receipts/public-key",
        "auth/login",
    )
)
IMPORT_PATHS = re.compile(
    rf"^{API_PREFIX}/(datamap/(validate|apply)|requests/tasks/[^/]+/complete|requests/callbacks/"
    r"[^/]+)$|^/admin/requests/[^/]+/tasks/[^/]+/complete$"
)


def _warm_decider(app: FastAPI) -> None:
    from privet.consent.decisions.api import load_decider

    try:
        load_decider(app)
    except Exception:  # noqa: BLE001 - the first decision loads it again and reports a real problem
        logging.getLogger("privet").warning("the decision snapshot could not be loaded ahead of the first request")


def body_limit_for(settings: Settings) -> Callable[[str], int]:
    """The largest body a path accepts: imports and uploads large, the authenticated API and console medium,
    everything public (privacy centre, banner, verification, logins) small."""

    def limit(path: str) -> int:
        if IMPORT_PATHS.match(path):
            return settings.max_import_bytes
        if path.startswith(PUBLIC_API_PATHS) or path == "/admin/login" or not path.startswith(("/api/", "/admin")):
            return settings.max_public_body_bytes
        return settings.max_body_bytes

    return limit


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, check_migrations: bool = True
) -> FastAPI:
    """Build the app. Tests pass their own engine; `privet serve` lets the lifespan build one."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Privet",
        version=__version__,
        lifespan=_lifespan(settings, engine, check_migrations),
        docs_url=None,
        redoc_url=None,
        description="Privacy operations: data map, consent, data-subject requests, retention, audit.",
        # FastAPI's native OpenTelemetry asks the global providers on every request whether it is on (about 8 us
        # of a 57 us decision); Privet exports no telemetry, so it is off rather than asked each time
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    _answer_errors(app)
    from privet.kit.proxies import TrustedProxies

    # Every reader of the client address sees the one a trusted proxy forwarded.
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies, header=settings.forwarded_header)
    _include_routes(app)
    # Outermost, so the limits hold for every reader of a body.
    app.add_middleware(BodyLimits, limit_for=body_limit_for(settings), max_json_depth=settings.max_json_depth)
    return app


Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


def _lifespan(settings: Settings, engine: Engine | None, check_migrations: bool) -> Lifespan:
    """The app's lifespan: the store (its own engine unless a test passed one), then background work while it
    serves (the decision snapshot warmed, webhook delivery, inline job workers), stopped in reverse."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from privet.db.engine import make_engine, make_sessionmaker
        from privet.db.migrate import require_current
        from privet.jobs import dispatch
        from privet.kit.crypto import Keyring

        own = engine is None  # tests pass their own engine: its one connection is not shared with background work
        bound = engine or make_engine(
            settings.sqlalchemy_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        if check_migrations:
            require_current(bound)
        app.state.engine = bound
        app.state.sessionmaker = make_sessionmaker(bound, settings)  # the audit chain keys from these settings
        app.state.keyring = Keyring.from_settings(settings)
        previous_jobs_settings = dispatch.configure(settings)  # jobs enqueued by requests follow this app's backend
        delivery = job_workers = None
        try:
            if own:
                delivery, job_workers = _start_background(app, settings)
            yield
        finally:
            if job_workers is not None:  # let jobs in flight finish; an unfinished one is re-run after its lease
                await asyncio.to_thread(job_workers.stop, 10.0)
            dispatch.configure(previous_jobs_settings)
            if delivery is not None:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
            if own:
                bound.dispose()

    return lifespan


def _start_background(app: FastAPI, settings: Settings) -> tuple[asyncio.Task[None] | None, Any]:
    """A served process's background work: the decision snapshot loaded off the loop (fast from the first
    request), webhook delivery and inline job workers when configured. Returns (delivery task, job workers)."""
    threading.Thread(target=_warm_decider, args=(app,), name="privet-warm-decider", daemon=True).start()
    delivery = None
    if settings.webhook_delivery_in_process:
        from privet.consent.webhooks.delivery import delivery_loop

        delivery = asyncio.create_task(delivery_loop(app))
    job_workers = None
    if settings.jobs_backend == "inline" and settings.jobs_threads > 0:
        from privet.jobs.inline import InlineWorkers

        job_workers = InlineWorkers(app.state.sessionmaker, settings, app.state.keyring, settings.jobs_threads)
        job_workers = job_workers.start()
    return delivery, job_workers


def _answer_errors(app: FastAPI) -> None:
    """Every error answers with a JSON problem: Privet's own, validation, HTTP, a store outage, anything else."""
    from privet.kit.outage import install_handlers

    handlers: list[tuple[type[Exception], Any]] = [
        (PrivetError, on_privet_error),
        (RequestValidationError, on_validation_error),
        (HTTPException, on_http_error),
        (Exception, on_unexpected_error),
    ]
    for kind, handler in handlers:
        app.add_exception_handler(kind, handler)
    install_handlers(app)  # a store outage met mid-request: a 503 problem to retry, never a 500


def healthz() -> dict:  # no docstring: it would become the route's description in /openapi.json
    return {"status": "ok", "version": __version__}


def _include_routes(app: FastAPI) -> None:
    """The API under /api/v1, health and readiness, the API's documentation, the pages, and the lean routes
    (decisions and consent recording) matched first."""
    from privet.auth.lean_route import mount_in_front
    from privet.consent.api import wellknown_router
    from privet.web.apidocs import mount_docs
    from privet.web.openapi import install as describe_api
    from privet.web.readiness import router as readiness_router
    from privet.web.routes import mount

    app.add_api_route(  # public: see privet.auth.deps
        "/healthz",
        healthz,
        methods=["GET"],
        tags=["health"],
        summary="Liveness: the process answers.",
        openapi_extra={"x-privet-public": True},
    )
    for router in _api_routers():
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(wellknown_router)  # /.well-known/gpc.json lives outside the API prefix
    app.include_router(readiness_router)  # /readyz: readiness, beside /healthz (liveness)
    mount_docs(app)  # Swagger UI from the installed package, under the pages' Content-Security-Policy
    describe_api(app)  # /openapi.json: security schemes and error responses read from each route's dependencies
    mount(app)  # pages: the privacy centre at /, the admin console at /admin, the cookie banner
    mount_in_front(app)  # the decision and recording routes, matched first


def _api_routers() -> list[APIRouter]:
    """Every domain's API router, in the order the API's documentation lists them."""
    from privet.auth.api import router as auth_router
    from privet.consent.api import router as consent_router
    from privet.consent.campaigns.api import router as campaigns_router
    from privet.consent.decisions.api import router as decisions_router
    from privet.consent.webhooks.api import router as webhooks_router
    from privet.datamap.api import router as datamap_router
    from privet.datamap.collection_api import router as collection_router
    from privet.jobs.api import router as jobs_router
    from privet.notices.api import router as notices_router
    from privet.registers.api import router as registers_router
    from privet.registers.incidents_api import router as incidents_router
    from privet.reports.api import router as reports_router
    from privet.reports.audit_api import router as audit_router
    from privet.requests.api import router as requests_router
    from privet.requests.execution.callbacks import router as callbacks_router
    from privet.requests.intake.api import router as public_requests_router
    from privet.requests.manual.api import router as tasks_router
    from privet.requests.packages.api import router as packages_router
    from privet.subjects.api import router as subjects_router
    from privet.subjects.public_api import router as verify_router
    from privet.taxonomy.api import router as taxonomy_router

    return [
        auth_router, taxonomy_router, datamap_router, subjects_router, verify_router, notices_router,
        consent_router, decisions_router, webhooks_router, audit_router, tasks_router, callbacks_router,
        requests_router, public_requests_router, packages_router, jobs_router, registers_router, incidents_router,
        reports_router, collection_router, campaigns_router,
    ]  # fmt: skip
