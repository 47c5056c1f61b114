"""The web tests' app and client (bound to each test's session) for the insights pages and API."""

from tests.web.conftest import app, client

__all__ = ["app", "client"]
