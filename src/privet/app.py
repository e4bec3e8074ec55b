"""create_app(): the FastAPI application. Engines are built in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
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

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from privet.db.engine import make_engine, make_sessionmaker
        from privet.db.migrate import require_current
        from privet.kit.crypto import Keyring

        own = engine is None
        bound = engine or make_engine(
            settings.sqlalchemy_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        if check_migrations:
            require_current(bound)
        app.state.engine = bound
        app.state.sessionmaker = make_sessionmaker(bound, settings)  # the audit chain keys from these settings
        app.state.keyring = Keyring.from_settings(settings)
        worker = None
        if own:  # a worker answers decisions fast from its first request: load the Decider now, off the loop
            threading.Thread(target=_warm_decider, args=(app,), name="privet-warm-decider", daemon=True).start()
        # Tests pass their own engine: its single connection must not be shared with a background task.
        if own and settings.webhook_delivery_in_process:
            from privet.consent.webhooks.delivery import delivery_loop

            worker = asyncio.create_task(delivery_loop(app))
        from privet.jobs import dispatch

        previous_jobs_settings = dispatch.configure(settings)  # jobs enqueued by requests follow this app's backend
        job_workers = None
        try:
            if own and settings.jobs_backend == "inline" and settings.jobs_threads > 0:
                from privet.jobs.inline import InlineWorkers

                job_workers = InlineWorkers(
                    app.state.sessionmaker, settings, app.state.keyring, settings.jobs_threads
                ).start()
            yield
        finally:
            if job_workers is not None:  # let jobs in flight finish; an unfinished one is re-run after its lease
                await asyncio.to_thread(job_workers.stop, 10.0)
            dispatch.configure(previous_jobs_settings)
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if own:
                bound.dispose()

    app = FastAPI(
        title="Privet",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Privacy operations: data map, consent, data-subject requests, retention, audit.",
    )
    app.state.settings = settings
    app.add_exception_handler(PrivetError, on_privet_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
    from privet.kit.outage import install_handlers

    install_handlers(app)  # a store outage met mid-request: a 503 problem to retry, never a 500
    from privet.kit.proxies import TrustedProxies

    # Every reader of the client address sees the one a trusted proxy forwarded.
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies, header=settings.forwarded_header)

    @app.get(
        "/healthz", tags=["health"], summary="Liveness: the process answers.", openapi_extra={"x-privet-public": True}
    )  # public: see privet.auth.deps
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

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

    for router in (
        auth_router,
        taxonomy_router,
        datamap_router,
        subjects_router,
        verify_router,
        notices_router,
        consent_router,
        decisions_router,
        webhooks_router,
        audit_router,
        tasks_router,
        callbacks_router,
        requests_router,
        public_requests_router,
        packages_router,
        jobs_router,
        registers_router,
        incidents_router,
        reports_router,
        collection_router,
        campaigns_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    from privet.consent.api import wellknown_router

    app.include_router(wellknown_router)  # /.well-known/gpc.json lives outside the API prefix
    from privet.web.readiness import router as readiness_router

    app.include_router(readiness_router)  # /readyz: readiness, beside /healthz (liveness)
    from privet.web.apidocs import mount_docs
    from privet.web.routes import mount

    mount_docs(app)  # Swagger UI from the installed package, under the pages' Content-Security-Policy
    from privet.web.openapi import install as describe_api

    describe_api(app)  # /openapi.json: security schemes and error responses read from each route's dependencies
    mount(app)  # pages: the privacy centre at /, the admin console at /admin, the cookie banner
    from privet.auth.lean_route import mount_in_front

    mount_in_front(app)  # the decision and recording routes, matched first
    # Outermost, so the limits hold for every reader of a body.
    app.add_middleware(BodyLimits, limit_for=body_limit_for(settings), max_json_depth=settings.max_json_depth)
    return app
