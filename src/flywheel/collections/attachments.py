"""Files the worker attaches to an outbox e-mail when it sends it. A row names its document in
its ``attachment`` column, e.g. ``{"kind": "insight_report", "id": 3, "language": "zh"}``, and
the renderer of that kind makes the file from the database at sending time, so the outbox keeps
no large blobs and a message retried later attaches the same document.

A renderer is a function ``(session, spec) -> File`` named by its module path in ``RENDERERS``
and imported when first needed, so the worker need not have imported the domain that owns it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class File:
    filename: str
    content_type: str  # "application/pdf"
    data: bytes


class AttachmentMissing(Exception):
    """The document a message names cannot be made, now or later (it was deleted, or no
    renderer knows its kind): the message is given up at once."""


Renderer = Callable[[Session, Mapping[str, Any]], File]

RENDERERS: dict[str, str] = {
    "insight_report": "flywheel.insights.report_pdf:attachment",
}


def renderer(kind: str) -> Renderer:
    path = RENDERERS.get(kind)
    if path is None:
        raise AttachmentMissing(f"no renderer for attachments of kind {kind!r}")
    module, _, name = path.partition(":")
    return cast(Renderer, getattr(importlib.import_module(module), name))


def render(session: Session, spec: Mapping[str, Any]) -> File:
    """The file ``spec`` names; AttachmentMissing when it cannot be made."""
    return renderer(str(spec.get("kind", "")))(session, spec)
