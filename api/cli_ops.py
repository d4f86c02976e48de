"""Operating the service: ``ioffice serve --workers N`` (several processes, one port; on SQLite
also the background job worker), ``ioffice worker`` and ``ioffice renew-timestamps``,
``ioffice backup DEST`` and ``ioffice restore SRC``, and the next steps printed by ``ioffice init``."""
from __future__ import annotations

import argparse
import errno
import os
import shutil
import socket
import sys
import tempfile
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from .jobs import Jobs


def print_next_steps(settings: Settings) -> None:
    """After a plain ``ioffice init``: how to set up a real office."""
    from sqlalchemy import func, select

    from ioffice.accounts.models import Organisation, User
    from ioffice.kernel.db import make_engine, make_session_factory

    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine)() as s:
            orgs = s.scalar(select(func.count()).select_from(Organisation))
            admins = [u for u in s.scalars(select(User)) if u.has_role("admin")]
    finally:
        engine.dispose()
    if orgs and admins:
        print("Đã có cơ quan và quản trị viên. Chạy dịch vụ: ioffice serve --host 0.0.0.0")
        return
    print("Các bước tiếp theo (xem README, mục Production):")
    if not settings.trust_roots:
        print("  ioffice trust add goc-tin-cay.pem        # chứng thư gốc (VGCA, NEAC…)")
        if settings.pki_dir.exists():
            print(f"  rm -r {settings.pki_dir}   # PKI phát triển chỉ để dùng thử; bỏ đi khi đã có gốc tin cậy thật")
    if not orgs:
        print('  ioffice org create "UBND huyện …" --code 000.00.00.H00 --abbr UBND --parent "UBND tỉnh …" --place "…"')
    print('  ioffice user create admin --org 000.00.00.H00 --role admin --full-name "…" --password-stdin')
    if not settings.seal_key:
        print("  ioffice key import-seal con-dau.p12 --passphrase-stdin   # hoặc một địa chỉ pkcs11:")
    print("  ioffice serve --host 0.0.0.0 --workers 2")
    print("Chỉ để dùng thử: ioffice init --demo")


def port_in_use(host: str, port: int) -> str | None:
    """None when ``host:port`` can be bound, else the reason."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "đang được một chương trình khác sử dụng"
            return exc.strerror or str(exc)
    return None


def serve(host: str, port: int, workers: int | None) -> int:
    """Run uvicorn with ``workers`` processes (default: the CPU count) on one socket. Each worker
    builds its own app from the environment (``api.app:create_app_from_env``); sessions, rate
    limits, login throttling and numbering live in the database, so workers share nothing else."""
    import uvicorn

    from .observability import log_config

    if workers is None:
        env_workers = os.environ.get("IOFFICE_WORKERS", "").strip()
        workers = int(env_workers) if env_workers.isdigit() else (os.cpu_count() or 1)
    if workers < 1:
        print("ioffice: --workers phải ≥ 1", file=sys.stderr)
        return 2
    busy = port_in_use(host, port)
    if busy:
        print(f"ioffice: cổng {port} trên {host} {busy}; chọn cổng khác bằng --port", file=sys.stderr)
        return 1
    if "IOFFICE_BASE_URL" not in os.environ and (port != 8000 or host != "127.0.0.1"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["IOFFICE_BASE_URL"] = f"http://{shown}:{port}"
    # The workers' metrics are summed from files in one folder (prometheus_client multiprocess mode).
    own_metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="ioffice-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    jobs = None
    settings = Settings()
    from .jobs import in_process_default

    if in_process_default(settings):  # the embedded default: the job worker runs in this process
        jobs = worker_jobs()
        jobs.start_worker()
    try:
        config = uvicorn.Config("api.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                                proxy_headers=False, server_header=False, log_config=log_config(), access_log=False)
        if workers == 1:
            uvicorn.Server(config).run()
        else:  # the parent hands connections to the workers in turn (api.balancer)
            from . import balancer

            balancer.run(config)
    except KeyboardInterrupt:
        pass
    finally:
        if jobs is not None:
            jobs.container.close()
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
    return 0


def worker_jobs() -> Jobs:
    """The job queue of a worker process, on a container wired exactly as the service's (the app
    factory also sets up the development PKI/TSA when the instance uses it)."""
    from .app import create_app
    from .jobs import install

    return install(create_app(Settings()).state.container)


def cmd_worker(args: argparse.Namespace) -> int:
    """``ioffice worker``: run background jobs (huey consumer) until stopped (Ctrl-C / SIGTERM)."""
    if args.check:  # a health check: the queue answers
        from .container import Container
        from .jobs import Jobs

        jobs = Jobs(Container.from_settings(Settings()))
        try:
            print(f"queued {jobs.pending()}, scheduled {jobs.scheduled()}")
        finally:
            jobs.container.close()
        return 0
    jobs = worker_jobs()
    try:
        if args.once:
            ran = jobs.run_pending()
            print(f"Đã chạy {ran} việc nền; còn {jobs.pending()} việc chờ, {jobs.scheduled()} việc hẹn giờ.")
            return 0
        print(f"Đang chạy việc nền ({args.threads or jobs.container.settings.jobs_threads} luồng); Ctrl-C để dừng.",
              flush=True)
        consumer = jobs.huey.create_consumer(workers=args.threads or jobs.container.settings.jobs_threads,
                                             worker_type="thread", periodic=not args.no_periodic,
                                             initial_delay=0.2, max_delay=2.0)
        consumer.run()
    finally:
        jobs.container.close()
    return 0


def cmd_renew_timestamps(args: argparse.Namespace) -> int:
    """``ioffice renew-timestamps``: the B-LTA renewal run now (the worker runs it daily)."""
    from datetime import timedelta

    from .jobs import renew_archived_timestamps

    jobs = worker_jobs()
    try:
        days = args.days if args.days is not None else jobs.container.settings.timestamp_renewal_days
        r = renew_archived_timestamps(jobs.container, window=timedelta(days=days))
    finally:
        jobs.container.close()
    print(f"Đã kiểm tra {r['checked']} văn bản đã ký; gia hạn dấu thời gian {len(r['renewed'])}, "
          f"lỗi {len(r['failed'])} (sẽ thử lại ở lần chạy sau).")
    return 1 if r["failed"] else 0


def cmd_backup(args: argparse.Namespace) -> int:
    from .backup import backup

    summary = backup(Settings(), args.dest)
    print(f"Đã sao lưu {summary.rows} dòng ({summary.tables} bảng), {summary.blobs} tệp dữ liệu, "
          f"{summary.files} tệp khóa/cấu hình vào {summary.path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from .backup import restore

    summary = restore(Settings(), args.src, force=args.force)
    print(f"Đã khôi phục {summary.rows} dòng ({summary.tables} bảng), {summary.blobs} tệp dữ liệu "
          f"(SHA-256 khớp), {summary.files} tệp khóa/cấu hình; chuỗi nhật ký: {summary.audit_events} sự kiện hợp lệ")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run the background jobs (batch signing, timestamp renewal, mail)")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default IOFFICE_JOBS_THREADS, 2)")
    p.add_argument("--once", action="store_true", help="run the jobs queued now, then exit")
    p.add_argument("--no-periodic", action="store_true", help="do not schedule the daily timestamp renewal")
    p.add_argument("--check", action="store_true", help="print the queue's depth and exit (a health check)")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("renew-timestamps", help="add a new document timestamp (B-LTA) to archived documents "
                                                "whose timestamp certificate expires soon")
    p.add_argument("--days", type=int, default=None,
                   help="renewal window in days (default IOFFICE_TIMESTAMP_RENEWAL_DAYS, 180)")
    p.set_defaults(func=cmd_renew_timestamps)
    p = sub.add_parser("backup", help="back up the database rows, the blobs and the data dir's keys to a folder")
    p.add_argument("dest")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into an empty database and store, then verify it")
    p.add_argument("src")
    p.add_argument("--force", action="store_true", help="replace the rows of a database that is not empty")
    p.set_defaults(func=cmd_restore)
