"""create_app(): the FastAPI application — settings, engine, middleware, error handlers, routers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from flywheel import __version__
from flywheel.config import Settings, get_settings
from flywheel.db import make_engine
from flywheel.web import docs, health
from flywheel.web.admission import AdmissionMiddleware
from flywheel.web.api import build_api_router
from flywheel.web.assets import (
    STATIC_DIR,
    STATIC_URL,
    missing_vendor_assets,
    register_media_types,
)
from flywheel.web.errors import install_error_handlers
from flywheel.web.logging import configure_logging
from flywheel.web.middleware import RequestContextMiddleware
from flywheel.web.sessions import install_sessions
from flywheel.web.views import page_routers

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    serving: bool = False,
) -> FastAPI:
    """Build the app; uvicorn calls it with no arguments (``factory=True``).

    ``engine`` lets tests and embedding code hand in a database; otherwise one is made from
    ``settings`` and disposed of at shutdown. ``serving``: the app has a server process to
    itself (``served_app``): it is tuned at startup as ``_tune_server_process`` says, and
    admits ``web_concurrency`` GET/HEAD requests at once (``web/admission.py``).
    """
    settings = settings or get_settings()
    configure_logging()
    owned_engine: Engine | None = None
    if engine is None:
        engine = owned_engine = make_engine(settings.database_url, echo=settings.echo_sql)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if serving:
            _tune_server_process()
        yield
        if owned_engine is not None:
            owned_engine.dispose()

    app = FastAPI(
        title="Flywheel",
        version=__version__,
        description="Customers, receivables, credit, collections, feedback and loyalty.",
        # FastAPI's own docs pages load Swagger UI / ReDoc from a CDN; web/docs.py serves ours.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    install_error_handlers(app)
    install_sessions(app, settings)
    if serving and settings.web_concurrency:
        # Inside the access log, whose duration includes the wait.
        app.add_middleware(AdmissionMiddleware, limit=settings.web_concurrency)
    # Added last, so outermost: the request id and access log cover everything inside.
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(build_api_router())
    app.include_router(docs.router)
    for router in page_routers():
        app.include_router(router)
    # The package's static folder always exists; only its vendor/ part is built at setup. Without
    # it the server still starts (the API and health checks work) and /docs answers 503 saying
    # how to install the assets.
    register_media_types()
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR, check_dir=True), name="static")
    missing = missing_vendor_assets()
    if missing:
        logger.warning(
            "front-end assets missing; run `make install` (npm ci + python -m flywheel.web.assets)",
            extra={"missing": missing},
        )
    return app


def served_app() -> FastAPI:
    """The app of a ``flywheel serve`` process (uvicorn's factory)."""
    return create_app(serving=True)


def _tune_server_process() -> None:
    """Run once in each server process, after the app is built: everything loaded so far
    (modules, routes, templates: some 400,000 objects) lives as long as the process. Frozen,
    the garbage collector stops walking it, and a full collection no longer stalls every
    request in flight for about 0.2 s."""
    gc.collect()
    gc.freeze()
