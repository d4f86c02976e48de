"""Running the analysis in a child process (forkserver) with wall-clock and memory limits, or in a
daemon thread when no child process can be started."""
from __future__ import annotations

import logging
import multiprocessing
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .limits import _CHILD_MEMORY_LIMIT
from .report import ValidationReport, _unreadable

logger = logging.getLogger("signing.validation")


@dataclass
class _Job:
    data: bytes
    roots: list[bytes]
    others: list[bytes]
    allow_fetching: bool
    now: datetime | None
    fetch_timeout: float
    # a file the analysis reads itself (the caller then holds no copy of the document)
    path: str | None = None
    max_bytes: int = 0

    def load(self) -> None:
        """Read ``path`` into ``data`` (in the analysis process). Raises OSError, ValueError."""
        if self.path is not None and not self.data:
            import os

            with open(self.path, "rb") as fh:
                # never ask for more than the file holds: a large read size is allocated up front
                size = os.fstat(fh.fileno()).st_size + 1
                data = fh.read(min(self.max_bytes + 1, size) if self.max_bytes else size)
            if self.max_bytes and len(data) > self.max_bytes:
                raise ValueError("file grew beyond the limit")
            self.data = data


def _timeout_report(job: _Job) -> ValidationReport:
    rep = _unreadable("Phân tích tài liệu vượt quá thời gian cho phép; tệp có thể đã bị làm hỏng "
                      "có chủ ý.")
    rep.sha256 = _sha256(job)
    return rep


def _sha256(job: _Job) -> str | None:
    """The document's SHA-256 (streamed from ``path`` when the bytes are not held here)."""
    import hashlib

    if job.data or job.path is None:
        return hashlib.sha256(job.data).hexdigest()
    try:
        h = hashlib.sha256()
        with open(job.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


# imported once in the fork server, so that each analysis process starts warm
_PRELOAD = [
    "signing.validation._offline_preload", "signing.validation", "asn1crypto.cms", "asn1crypto.ocsp", "asn1crypto.crl",
    "asn1crypto.tsp", "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec", "pyhanko_certvalidator",
    "pyhanko.pdf_utils.reader", "pyhanko.sign.fields", "pyhanko.sign.validation",
    "pyhanko.sign.validation.pdf_embedded", "pyhanko.sign.validation.dss",
    "pyhanko.sign.diff_analysis", "pyhanko.sign.validation.settings",
]


_mp_lock = threading.Lock()


_mp_context: Any = None


def _get_context() -> Any:
    global _mp_context
    with _mp_lock:
        if _mp_context is None:
            ctx = multiprocessing.get_context("forkserver")
            try:
                # not "__main__": the caller's program (the CLI, the web app) is never imported
                # into the analysis processes
                ctx.set_forkserver_preload(list(_PRELOAD))
            except Exception:  # noqa: BLE001
                pass
            _mp_context = ctx
        return _mp_context


def _lean_launch(self: Any, process_obj: Any) -> None:
    """``popen_forkserver.Popen._launch`` (CPython 3.10–3.12) without the main-module entries of
    the preparation data: by default multiprocessing runs the caller's main script again in every
    child — for ``ioffice verify`` the whole CLI, pydantic and FastAPI. The child needs only this
    package, which it imports to unpickle :func:`_child_main`."""
    import io
    import os
    from multiprocessing import popen_forkserver, spawn

    prep_data = spawn.get_preparation_data(process_obj._name)
    prep_data.pop("init_main_from_path", None)
    prep_data.pop("init_main_from_name", None)
    buf = io.BytesIO()
    # typeshed describes only ``Popen`` of popen_forkserver: its other names are CPython internals
    popen_forkserver.set_spawning_popen(self)  # type: ignore[attr-defined]
    try:
        popen_forkserver.reduction.dump(prep_data, buf)  # type: ignore[attr-defined]
        popen_forkserver.reduction.dump(process_obj, buf)  # type: ignore[attr-defined]
    finally:
        popen_forkserver.set_spawning_popen(None)  # type: ignore[attr-defined]
    self.sentinel, w = popen_forkserver.forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
    _parent_w = os.dup(w)
    self.finalizer = popen_forkserver.util.Finalize(  # type: ignore[attr-defined]
        self, popen_forkserver.util.close_fds, (_parent_w, self.sentinel))  # type: ignore[attr-defined]
    with open(w, "wb", closefd=True) as f:
        f.write(buf.getbuffer())
    self.pid = popen_forkserver.forkserver.read_signed(self.sentinel)  # type: ignore[attr-defined]


try:
    from multiprocessing import popen_forkserver as _pf
    from multiprocessing.context import ForkServerProcess as _ForkServerProcess

    class _LeanPopen(_pf.Popen):
        _launch = _lean_launch

    class _LeanProcess(_ForkServerProcess):
        """A forkserver process that does not re-import the caller's ``__main__``."""

        @staticmethod
        def _Popen(process_obj: Any) -> Any:
            return _LeanPopen(process_obj)
except Exception:  # noqa: BLE001 - no fork server on this platform
    _LeanProcess = None  # type: ignore[assignment,misc]


def _child_main(conn: Any, job: _Job, data_follows: bool = False) -> None:
    """Entry point of the analysis process: cap memory, read the document (sent on ``conn``
    right after the start, so that the parent never holds a pickled copy of it), analyse, send
    the report back."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _CHILD_MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(
            hard, _CHILD_MEMORY_LIMIT)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except Exception:  # noqa: BLE001
        pass
    logging.disable(logging.CRITICAL)
    from . import offline

    if job.allow_fetching:
        offline.restore()
    else:
        offline.without_http_client()
    try:
        if data_follows:
            job.data = conn.recv_bytes()
        rep = _analyse_safely(job)
        conn.send(rep)
    except BaseException:  # noqa: BLE001 - the child must always answer or die quietly
        try:
            conn.send(None)
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


def _run_isolated(job: _Job, timeout: float,
                  start_method: str = "forkserver") -> ValidationReport | None:
    """Analyse in a child process; None when no child process can be started.

    ``forkserver`` (default) suits servers (threads); a one-shot single-threaded program such as
    the CLI may use ``fork``: the child then shares the parent's memory (document included)
    instead of importing pyHanko in a fork server and receiving a copy."""
    import dataclasses
    import time

    # the limit counts from the call, so that starting the child (a cold fork server) and
    # sending it the document are inside it too
    deadline = time.monotonic() + float(timeout)
    data_follows = start_method != "fork" and job.path is None
    try:
        if start_method == "fork":
            ctx = multiprocessing.get_context("fork")
            args: tuple[Any, ...] = ()
        else:
            ctx = _get_context()
        parent, child = ctx.Pipe(duplex=True)
        args = (child, dataclasses.replace(job, data=b"") if data_follows else job, data_follows)
        proc: multiprocessing.process.BaseProcess | None = None
        if _LeanProcess is not None and start_method != "fork":
            try:
                proc = _LeanProcess(target=_child_main, args=args, daemon=True)
                proc.start()
            except Exception:  # noqa: BLE001 - another CPython's internals: the stock class
                logger.debug("lean analysis process failed to start", exc_info=True)
                proc = None
        if proc is None:
            proc = ctx.Process(target=_child_main, args=args, daemon=True)
            proc.start()
        child.close()
    except Exception:  # noqa: BLE001 - e.g. inside a daemonic worker
        logger.debug("cannot start an isolated validation process", exc_info=True)
        return None
    try:
        if data_follows:
            try:
                parent.send_bytes(job.data)
            except OSError:  # the child died before reading (memory cap): reported below
                pass
        if parent.poll(max(deadline - time.monotonic(), 0.1)):
            try:
                rep = parent.recv()
            except Exception:  # noqa: BLE001 - child died mid-send (memory cap, crash)
                rep = None
            proc.join(5)
            if isinstance(rep, ValidationReport):
                return rep
            out = _unreadable("Tệp quá phức tạp hoặc bị hỏng, không phân tích được.")
            out.sha256 = _sha256(job)
            return out
        return _timeout_report(job)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        parent.close()


def _run_in_thread(job: _Job, timeout: float) -> ValidationReport:
    """Fallback without a child process: a daemon thread we stop waiting for at ``timeout``."""
    box: list[ValidationReport] = []

    def target() -> None:
        box.append(_analyse_safely(job))

    t = threading.Thread(target=target, daemon=True, name=_THREAD_NAME)
    t.start()
    t.join(max(float(timeout), 0.1))
    if box:
        return box[0]
    return _timeout_report(job)


class _QuietAnalysisThread(logging.Filter):
    """Drops library log records (with their tracebacks) emitted by the analysis thread: every
    finding ends up in the report; an untrusted certificate is not an operational error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != _THREAD_NAME


_THREAD_NAME = "pdf-validation"


_quiet = _QuietAnalysisThread()


def _quiet_library_loggers() -> None:
    """Attach the filter to every pyHanko logger (filters do not apply to child loggers)."""
    for name, lg in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("pyhanko") and isinstance(lg, logging.Logger) \
                and _quiet not in lg.filters:
            lg.addFilter(_quiet)


def _analyse_safely(job: _Job) -> ValidationReport:
    from .analysis import _Analysis

    try:
        job.load()
    except (OSError, ValueError):
        return _unreadable("Không đọc được tệp.")
    try:
        return _Analysis(job).run()
    except RecursionError:
        rep = _unreadable("Cấu trúc tài liệu lồng nhau quá sâu, không phân tích được.")
    except MemoryError:
        rep = _unreadable("Tài liệu vượt quá giới hạn bộ nhớ khi phân tích.")
    except Exception:  # noqa: BLE001
        logger.debug("validation failed", exc_info=True)
        rep = _unreadable("Tệp bị hỏng, không phân tích được.")
    rep.sha256 = _sha256(job)
    return rep
