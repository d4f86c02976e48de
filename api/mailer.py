"""SMTP adapter of the core's :class:`ioffice.notify.Notifier` port, and its wiring.

E-mails queued on a session by ``ioffice.notify.notify`` are sent only AFTER the transaction
commits (a SQLAlchemy ``after_commit`` listener on the app's session factory hands each to a
``send_mail`` background job, ``api.jobs``, retried with a delay when SMTP fails), so the request
never holds a transaction open on SMTP and never fails because of it. A rollback drops the queue.
Failures are logged without addresses or secrets.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from ioffice.notify.services import Notifier, OutgoingMail, discard_outbox, take_outbox

from .container import Container
from .settings import Settings

if TYPE_CHECKING:
    from .jobs import Jobs

log = logging.getLogger("ioffice.mail")
_INSTALL_LOCK = threading.Lock()


class SmtpNotifier:
    """Sends each mail over one SMTP connection per batch (STARTTLS and login when configured)."""

    def __init__(self, *, host: str, port: int = 25, user: str | None = None, password: str | None = None,
                 sender: str = "ioffice@localhost", starttls: bool = False, timeout: float = 15.0) -> None:
        self.host, self.port, self.user, self._password = host, port, user, password
        self.sender, self.starttls, self.timeout = sender, starttls, timeout

    def _message(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = formataddr((mail.to_name, mail.to))
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain="ioffice")
        msg.set_content(mail.body, charset="utf-8")
        return msg

    def _connect(self) -> smtplib.SMTP:
        """An open SMTP session (STARTTLS and login when configured); use it in a ``with``."""
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send_one(self, mail: OutgoingMail) -> None:
        """Deliver one mail; raises :class:`MailNotSent` (class name only) so the job is retried."""
        try:
            with self._connect() as smtp:
                smtp.send_message(self._message(mail))
        except Exception as exc:  # network, TLS, authentication, refusal
            log.warning("e-mail notification not sent, will retry: %s", type(exc).__name__)
            raise MailNotSent(type(exc).__name__) from None

    def send(self, mails: list[OutgoingMail]) -> None:
        """Deliver ``mails``; never raises (failures are logged by class name and count only)."""
        if not mails:
            return
        try:
            with self._connect() as smtp:
                failed = 0
                for mail in mails:
                    try:
                        smtp.send_message(self._message(mail))
                    except smtplib.SMTPException as exc:
                        failed += 1
                        log.warning("e-mail notification refused by the SMTP server: %s", type(exc).__name__)
                if failed:
                    log.warning("%d of %d e-mail notifications were not sent", failed, len(mails))
        except Exception as exc:  # network, TLS, authentication: log and move on
            log.warning("e-mail notifications not sent (%d): %s", len(mails), type(exc).__name__)


class MailNotSent(Exception):
    """One e-mail could not be delivered; carries the error's class name only (no address)."""


class QueuedMailer:
    """Hands a session's queued mails to the background job queue after commit: one ``send_mail``
    job per mail, retried by huey with a delay when the SMTP server cannot take it."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def after_commit(self, session: Session) -> None:
        for mail in take_outbox(session):
            try:
                self.jobs.submit(self.jobs.send_mail, mail)
            except Exception as exc:  # the queue is down: the in-app notification stays
                log.warning("e-mail notification not queued: %s", type(exc).__name__)

    def flush(self, timeout: float = 30.0) -> None:
        """Run the mail jobs queued so far in this thread (tests; the worker does it otherwise)."""
        self.jobs.run_pending()

    def close(self) -> None:
        pass


class AfterCommitMailer:
    """Hands a session's queued mails to ``notifier`` on a single worker thread after commit."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ioffice-mail")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def after_commit(self, session: Session) -> None:
        mails = take_outbox(session)
        if not mails:
            return
        try:
            fut = self._pool.submit(self.notifier.send, mails)
        except RuntimeError:  # shut down: the app is stopping
            log.warning("e-mail notifications dropped at shutdown (%d)", len(mails))
            return
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: Future[None]) -> None:
        with self._lock:
            self._pending.discard(fut)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait for the mails handed over so far (tests, shutdown)."""
        with self._lock:
            pending = list(self._pending)
        for f in pending:
            f.result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def notifier_from_settings(settings: Settings) -> SmtpNotifier | None:
    """The SMTP notifier when ``IOFFICE_SMTP_HOST`` is set, else None (in-app notifications only)."""
    if not settings.smtp_host:
        return None
    return SmtpNotifier(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
                        password=settings.smtp_password, sender=settings.smtp_from, starttls=settings.smtp_starttls)


def install(container: Container) -> AfterCommitMailer | QueuedMailer | None:
    """Attach the after-commit mailer to the container's session factory (idempotent). Without SMTP
    settings queued mails are simply dropped after commit."""
    with _INSTALL_LOCK:
        if container.mailer_installed:
            return container.mailer
        notifier = notifier_from_settings(container.settings)
        mailer: AfterCommitMailer | QueuedMailer | None = None
        if notifier is not None:
            from .jobs import install as install_jobs

            mailer = QueuedMailer(install_jobs(container))

        def _after_commit(session: Session) -> None:
            if mailer is not None:
                mailer.after_commit(session)
            else:
                discard_outbox(session)

        def _after_rollback(session: Session) -> None:
            discard_outbox(session)

        event.listen(container.sessions, "after_commit", _after_commit)
        event.listen(container.sessions, "after_rollback", _after_rollback)
        container.mailer_installed = True
        container.mailer = mailer
        return mailer


def uninstall(container: Container) -> None:
    mailer, container.mailer = container.mailer, None
    if mailer is not None:
        mailer.close()
