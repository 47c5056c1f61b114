"""Alembic environment: runs against the URL or connection handed over by flywheel.db."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from flywheel import models
from flywheel.config import get_settings
from flywheel.db import make_engine

config = context.config
target_metadata = models.Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render Flywheel's own column types by import path, so migrations stay readable."""
    if type_ == "type" and obj.__class__.__module__ == "flywheel.models.base":
        autogen_context.imports.add("import flywheel.models.base")
        return f"flywheel.models.base.{obj.__class__.__name__}()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flywheel init` instead")
run_migrations_online()
