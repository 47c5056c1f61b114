"""Sending one outbox message: an e-mail through SMTP, or a JSON POST to a chat robot.

Nothing here touches the database. A failure is either temporary (the server is down, busy or
slow: try again later) or permanent (this recipient or this message will never be accepted:
give up at once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from flywheel.collections.outbox import ClaimedMessage
from flywheel.config import Settings, SmtpTls
from flywheel.models.enums import CollectionChannel

log = logging.getLogger("flywheel.worker")

# The most of a robot's answer that is read (they answer a few dozen bytes).
_MAX_RESPONSE_BYTES = 64 * 1024
_CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt. ``message_id`` is the e-mail's Message-ID header."""

    ok: bool
    error: str | None = None
    permanent: bool = False
    message_id: str | None = None


class DeliveryFailed(Exception):
    def __init__(self, error: str, *, permanent: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent


def message_id_for(message: ClaimedMessage, sender: str) -> str:
    """The Message-ID of an outbox e-mail: the same for every attempt, so a copy sent again
    after a crash carries the same one and mail clients and archives can drop it."""
    digest = hashlib.sha256(message.dedupe_key.encode("utf-8")).hexdigest()[:16]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "flywheel.local"
    return f"<outbox-{message.id}-{digest}@{domain}>"


def build_email(message: ClaimedMessage, *, sender: str) -> EmailMessage:
    """The MIME message: UTF-8 text, with an HTML alternative when the row has one, and the
    files rendered for its attachment."""
    email = EmailMessage()
    email["Subject"] = message.subject or ""
    email["From"] = sender
    email["To"] = message.recipient
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id_for(message, sender)
    # Out-of-office replies should not answer a reminder.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body, charset="utf-8")
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html", charset="utf-8")
    for file in message.files:
        maintype, _, subtype = file.content_type.partition("/")
        email.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    # After the content: setting it clears every Content-* header.
    if message.language in _CONTENT_LANGUAGE:
        email["Content-Language"] = _CONTENT_LANGUAGE[message.language]
    return email


def recipients(value: str) -> list[str]:
    """The addresses in a recipient field: "a@x.cn, 王经理 <b@y.cn>; c@z.cn"."""
    found = [address for _name, address in getaddresses([value.replace(";", ",")]) if address]
    return found


class Mailer:
    """One SMTP connection, opened on the first message and reused for the next ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        assert settings.smtp_host, "no SMTP host configured"
        timeout = settings.smtp_timeout_seconds
        smtp: smtplib.SMTP
        if settings.smtp_tls is SmtpTls.SSL:
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        try:
            smtp.ehlo()
            if settings.smtp_tls is SmtpTls.STARTTLS:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: ClaimedMessage) -> str:
        """Send one e-mail and return its Message-ID; DeliveryFailed when it was not accepted."""
        to = recipients(message.recipient)
        if not to or any("@" not in address for address in to):
            raise DeliveryFailed(f"not an e-mail address: {message.recipient!r}", permanent=True)
        sender = self.settings.smtp_from
        email = build_email(message, sender=sender)
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                raise ServerUnavailable(f"SMTP server unavailable: {_describe(exc)}") from exc
        try:
            self._smtp.send_message(email, from_addr=parseaddr(sender)[1], to_addrs=to)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            refused = "; ".join(
                f"{address}: {code} {_text_of(text)}"
                for address, (code, text) in exc.recipients.items()
            )
            raise DeliveryFailed(
                f"recipient refused: {refused}", permanent=all(code >= 500 for code in codes)
            ) from exc
        except smtplib.SMTPDataError as exc:
            # The server read the message and refused it (size, content): 5xx will not change.
            raise DeliveryFailed(
                f"message refused: {exc.smtp_code} {_text_of(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # An address that needs SMTPUTF8 on a server without it.
            raise DeliveryFailed(f"not supported by the server: {exc}", permanent=True) from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our own sender refused: configuration, not this message; retried after a fix.
            self.close()
            raise DeliveryFailed(
                f"sender {exc.sender} refused: {exc.smtp_code} {_text_of(exc.smtp_error)}"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryFailed(f"SMTP error: {_describe(exc)}") from exc
        return str(email["Message-ID"])

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class ServerUnavailable(DeliveryFailed):
    """The server could not be reached at all (refused, timed out, TLS or login failed)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot that redirects a POST is misconfigured; never resend the body elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_webhook(url: str, body: str, *, timeout: float) -> None:
    """POST the JSON ``body`` to ``url``. DeliveryFailed unless the answer is a 2xx whose JSON
    (if any) reports no error: WeCom and DingTalk answer ``errcode`` 0, Feishu ``code`` 0."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise DeliveryFailed(f"not an http(s) URL: {url!r}", permanent=True)
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "flywheel"},
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(_MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        status = exc.code
        detail = _text_of(exc.read(500) if exc.fp else b"").strip()
        temporary = status >= 500 or status in (408, 429)
        raise DeliveryFailed(
            f"HTTP {status} {exc.reason}" + (f": {detail}" if detail else ""),
            permanent=not temporary,
        ) from exc
    except urllib.error.URLError as exc:
        raise ServerUnavailable(f"webhook unreachable: {_describe(exc.reason)}") from exc
    except (OSError, ValueError) as exc:
        raise ServerUnavailable(f"webhook unreachable: {_describe(exc)}") from exc
    problem = robot_error(raw)
    if problem:
        raise DeliveryFailed(problem)


def robot_error(raw: bytes) -> str | None:
    """The error a chat robot reports inside a 2xx answer, or None."""
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    for code_key, text_key in (("errcode", "errmsg"), ("code", "msg")):
        code = data.get(code_key)
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            return f"robot answered {code_key} {code}: {data.get(text_key, '')}"
    return None


class Deliverer:
    """Sends the messages of one batch. Keeps the SMTP connection open between them, and once
    a server cannot be reached at all, fails the batch's other messages to it at once rather
    than waiting for a timeout on each (they are retried later like any temporary failure)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.mailer = Mailer(settings)
        self._down: dict[str, str] = {}

    def deliver(self, message: ClaimedMessage) -> Outcome:
        if message.channel == CollectionChannel.EMAIL.value:
            target = "smtp"
        else:
            target = urlsplit(message.recipient).netloc
        if target in self._down:
            return Outcome(ok=False, error=self._down[target])
        try:
            if message.channel == CollectionChannel.EMAIL.value:
                return Outcome(ok=True, message_id=self.mailer.send(message))
            if message.channel == CollectionChannel.WEBHOOK.value:
                post_webhook(
                    message.recipient, message.body, timeout=self.settings.webhook_timeout_seconds
                )
                return Outcome(ok=True)
            return Outcome(
                ok=False, error=f"no sender for channel {message.channel!r}", permanent=True
            )
        except ServerUnavailable as exc:
            self._down[target] = exc.error
            return Outcome(ok=False, error=exc.error)
        except DeliveryFailed as exc:
            return Outcome(ok=False, error=exc.error, permanent=exc.permanent)
        except Exception as exc:  # a bug must not strand the batch: record it and retry
            log.exception("outbox %s: unexpected error while sending", message.id)
            self.mailer.close()
            return Outcome(ok=False, error=f"unexpected {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.mailer.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _text_of(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
