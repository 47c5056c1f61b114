"""``flywheel serve``: check the database, then run the web server (UI and REST API) with uvicorn."""

from __future__ import annotations

import logging.config
import os
from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from flywheel import __version__
from flywheel.cli import console, fail
from flywheel.config import RELOAD_TEMPLATES, get_settings
from flywheel.db import is_sqlite, make_engine
from flywheel.errors import DatabaseNotReady, FlywheelError


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 to listen on every interface.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Worker processes; on Linux each listens on a socket of its own."),
    ] = 1,
    reload: Annotated[
        bool, typer.Option(help="Restart when the code changes (development only).")
    ] = False,
    log_level: Annotated[LogLevel, typer.Option(help="Lowest level logged.")] = LogLevel.INFO,
) -> None:
    """Run the web server. The database must have the newest schema (`flywheel init`)."""
    # Imported here so that other commands do not pay for loading the web stack.
    import uvicorn

    from flywheel.web.health import check_database
    from flywheel.web.logging import uvicorn_log_config
    from flywheel.web.workers import Supervisor, check_port_free, supports_reuse_port

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        check = check_database(engine)
    finally:
        engine.dispose()
    if not check.ok:
        message = check.reason or "the database is not ready"
        if check.error:
            message = f"{message}: {check.error}"
        raise fail(DatabaseNotReady(message, state=check.state), as_json=False)

    if is_sqlite(settings.database_url) and workers > 1 and not reload:
        console.print(
            f"[yellow]note[/] {workers} workers share one SQLite file: reads run side by side "
            "(WAL), writes wait for each other. Use PostgreSQL for many concurrent users."
        )
    if reload:
        os.environ[RELOAD_TEMPLATES] = "1"
    if reload and workers > 1:
        console.print("[yellow]note[/] --reload runs a single worker.")
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    console.print(
        f"[green]Flywheel {__version__}[/] on [bold]{url}/[/] · API docs {url}/docs · "
        f"database {database} (schema {check.revision})"
    )
    options: dict[str, object] = {
        "app": "flywheel.app:served_app",
        "factory": True,
        "access_log": False,
        "log_config": uvicorn_log_config(log_level.value),
        "log_level": log_level.value,
    }
    if workers > 1 and not reload and supports_reuse_port():
        # A listening socket per worker: the kernel spreads the connections (web/workers.py).
        logging.config.dictConfig(uvicorn_log_config(log_level.value))
        try:
            check_port_free(host, port)
        except OSError as exc:
            raise fail(
                FlywheelError(f"cannot listen on {shown_host}:{port}: {exc.strerror or exc}"),
                as_json=False,
            ) from exc
        status = Supervisor(options, host, port, workers).run()
        if status:
            raise typer.Exit(status)
        return
    uvicorn.run(**options, host=host, port=port, workers=workers, reload=reload)  # type: ignore[arg-type]
