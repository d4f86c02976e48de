"""The ``ioffice`` command line. Errors print one line and exit non-zero; never a traceback."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ioffice.kernel.errors import DomainError

from .settings import Settings

if TYPE_CHECKING:
    from .bootstrap import InitResult

# Modules adding their own subcommands: each has ``register(subparsers)`` and sets ``func``.
COMMAND_MODULES = ["api.cli_sign", "api.cli_verify", "api.cli_token", "api.cli_admin", "api.cli_ops"]


def _err(msg: str, code: int = 1) -> int:
    print(f"ioffice: {msg}", file=sys.stderr)
    return code


def cmd_init(args: argparse.Namespace) -> int:
    from .bootstrap import init

    if args.demo and args.no_dev_pki:
        return _err("--demo cần PKI phát triển (khóa ký của tài khoản demo); bỏ --no-dev-pki hoặc bỏ --demo", 2)
    settings = Settings()
    result = init(settings, demo=args.demo, dev_pki=not args.no_dev_pki)
    print(f"Cơ sở dữ liệu sẵn sàng: {result.database_url}")
    if result.pki_dir:
        print(f"PKI phát triển: {result.pki_dir}")
    elif args.no_dev_pki:
        print("Không tạo PKI phát triển (--no-dev-pki): hãy nạp gốc tin cậy, khóa con dấu "
              "và dịch vụ cấp dấu thời gian thật.")
    if args.demo:
        _print_demo(result)
    else:
        from .cli_ops import print_next_steps

        print_next_steps(settings)
    return 0


def _print_demo(result: InitResult) -> None:
    print("Cơ quan demo: UBND huyện Yên Khánh")
    print("Tài khoản demo (mật khẩu chung): " + ", ".join(result.demo_users))
    print(f"Mật khẩu demo: {result.demo_password}")


def cmd_serve(args: argparse.Namespace) -> int:
    from .cli_ops import serve

    return serve(args.host, args.port, args.workers)


def cmd_demo(args: argparse.Namespace) -> int:
    import os

    from .bootstrap import init

    os.environ.setdefault("IOFFICE_BASE_URL", f"http://127.0.0.1:{args.port}")
    settings = Settings()
    result = init(settings, demo=True)
    print(f"ioffice đang chạy tại http://{args.host}:{args.port}  (API: /docs, tra cứu: /verify)")
    _print_demo(result)
    sys.stdout.flush()
    return cmd_serve(args)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ioffice.audit.anchors import AnchorProblem, load_anchors, verify_anchors
    from ioffice.audit.services import verify_chains
    from ioffice.kernel.errors import InvalidInput

    from .audit_anchor import cli_container, record_store, timestamp_authority

    container = cli_container(Settings())
    try:
        with container.sessions() as s:
            checked, problems = verify_chains(s)
            records = record_store(container)
            try:
                tsa = timestamp_authority(container)
            except InvalidInput:
                if load_anchors(records)[0]:
                    raise  # anchors to check, but no TSA certificate to check them with
                anchors, anchor_problems = 0, list[AnchorProblem]()
            else:
                anchors, anchor_problems = verify_anchors(s, records, tsa)
    finally:
        container.close()
    for p in problems:
        print(f"BROKEN chain={p.chain} seq={p.seq} event_id={p.event_id}: {p.reason}")
    for a in anchor_problems:
        print(f"BROKEN chain={a.chain} anchor={a.anchor}: {a.reason}")
    if problems or anchor_problems:
        return 1
    print(f"Audit chain OK: {checked} events verified against {anchors} anchors.")
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    from .audit_anchor import anchor_now, cli_container

    container = cli_container(Settings())
    try:
        written = anchor_now(container)
    finally:
        container.close()
    print(f"Audit anchoring: {written} chain head(s) timestamped and stored.")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ioffice.sweeper import sweep

    from .container import Container

    c = Container.from_settings(Settings())
    with c.sessions() as s:
        r = sweep(s, c.store, grace=timedelta(hours=args.grace_hours), dry_run=args.dry_run)
    cleanup = getattr(c.store, "cleanup_temp", None)  # unfinished uploads left by crashed writers
    temps = cleanup(max_age_seconds=max(3600.0, args.grace_hours * 3600)) if (cleanup and not args.dry_run) else 0
    c.close()
    verb = "would remove" if args.dry_run else "removed"
    print(f"scanned {r.scanned} blobs, {verb} {r.removed} ({r.freed_bytes} bytes), kept {r.kept_young} younger "
          f"than the grace period, {r.kept_final} locked; {temps} stale temporary uploads removed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ioffice", description="ioffice — quản lý văn bản và ký số")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sp = sub.add_parser("init", help="create or migrate the database and the development PKI")
    sp.add_argument("--demo", action="store_true", help="add the demo agency and users")
    sp.add_argument("--no-dev-pki", action="store_true",
                    help="production: generate no development PKI, TSA or demo keys")
    sp.set_defaults(func=cmd_init)
    for name, fn in (("serve", cmd_serve), ("demo", cmd_demo)):
        sp = sub.add_parser(name, help="run the HTTP service" if name == "serve" else "init --demo, then serve")
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=8000)
        sp.add_argument("--workers", type=int, default=None if name == "serve" else 1,
                        help="worker processes (default: the CPU count)" if name == "serve" else argparse.SUPPRESS)
        sp.set_defaults(func=fn)
    sp = sub.add_parser("audit", help="audit log tools")
    asub = sp.add_subparsers(dest="audit_command", metavar="ACTION")
    av = asub.add_parser("verify", help="check the audit hash chain")
    av.set_defaults(func=cmd_audit_verify)
    aa = asub.add_parser("anchor", help="timestamp the chain heads (RFC 3161) and store the anchors in object storage")
    aa.set_defaults(func=cmd_audit_anchor)
    sp.set_defaults(func=lambda a: _err("usage: ioffice audit verify|anchor", 2))
    sp = sub.add_parser("sweep", help="remove unreferenced blobs older than the grace period")
    sp.add_argument("--grace-hours", type=float, default=24.0)
    sp.add_argument("--dry-run", action="store_true")
    sp.set_defaults(func=cmd_sweep)
    for mod in COMMAND_MODULES:
        try:
            module = importlib.import_module(mod)
        except ImportError:
            continue
        module.register(sub)
    return p


def _bad_settings(exc: ValidationError) -> str:
    """One line naming each environment variable whose value the settings refused."""
    problems = [f"IOFFICE_{'_'.join(str(part) for part in e['loc']).upper()}={e['input']!r}: {e['msg']}"
                for e in exc.errors()]
    return "cấu hình không hợp lệ — " + "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        parser = build_parser()  # some commands' defaults come from the settings
    except ValidationError as exc:
        return _err(_bad_settings(exc))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DomainError as exc:
        return _err(exc.detail)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, no traceback
        if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
            return _err(_bad_settings(exc))
        return _err(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
