"""The /docs page: Swagger UI from the app's own vendored files, never from a CDN."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from flywheel.web.assets import missing_vendor_assets, vendor_url

router = APIRouter(include_in_schema=False)

# Shown instead of a page whose scripts would 404: says what is wrong and how to fix it.
_ASSETS_MISSING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Front-end assets not installed</title></head>
<body><h1>Front-end assets not installed</h1>
<p>This server has no copy of the front-end files it serves (missing: {missing}).
Run <code>make install</code>, or <code>npm ci &amp;&amp; python -m flywheel.web.assets</code>
in the source folder, then restart the server. The JSON API is not affected.</p>
</body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    missing = missing_vendor_assets()
    if missing:
        body = _ASSETS_MISSING_PAGE.format(missing=html.escape(", ".join(missing)))
        return HTMLResponse(body, status_code=503)
    app = request.app
    # Behind a proxy that mounts the app under a prefix, every URL in the page needs it too.
    prefix = str(request.scope.get("root_path", "")).rstrip("/")
    return get_swagger_ui_html(
        openapi_url=prefix + app.openapi_url,
        title=f"{app.title} API",
        swagger_js_url=prefix + vendor_url("swagger-ui-bundle.js"),
        swagger_css_url=prefix + vendor_url("swagger-ui.css"),
        swagger_favicon_url=prefix + vendor_url("favicon-32x32.png"),
        # The default validator badge calls validator.swagger.io; an intranet has no such host.
        swagger_ui_parameters={"validatorUrl": None},
    )
