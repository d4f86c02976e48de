"""``ioffice verify FILE… [--json] [--trust PEM]…``: validate the signatures of PDF files.

Exit codes (CONTRACT): 0 when every file's verdict is ``valid`` and trusted; 1 for any other
verdict; 2 for a usage error or a file that cannot be read at all (missing, a directory, no
permission) — 2 wins over 1 when both happen.

Trust roots: every ``--trust`` (PEM/DER file or folder); without ``--trust``, the
``IOFFICE_TRUST_ROOTS`` environment variable (file or folder, several joined with ``:``); without
that, the development root ``<IOFFICE_DATA_DIR>/pki/root-ca.pem`` when it exists.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_NOT_VALID = 1
EXIT_USAGE = 2

_LEVEL_TEXT = {None: "không thuộc chuẩn PAdES"}
_REVOCATION_TEXT = {"good": "chưa bị thu hồi", "revoked": "ĐÃ BỊ THU HỒI",
                    "unknown": "không rõ tình trạng thu hồi"}
_COVERAGE_TEXT = {"entire_file": "toàn bộ tệp", "entire_revision": "toàn bộ phiên bản được ký",
                  "partial": "một phần tệp"}
_CHANGES_TEXT = {"none": "không có thay đổi", "permitted": "có thay đổi được phép",
                 "disallowed": "CÓ THAY ĐỔI KHÔNG ĐƯỢC PHÉP"}


class UsageError(Exception):
    """Bad command line or trust configuration (exit 2)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``verify`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "verify", help="validate every signature of PDF files",
        description="Kiểm tra chữ ký số của các tệp PDF (PAdES).")
    p.add_argument("files", nargs="+", metavar="FILE", help="PDF file(s) to validate")
    p.add_argument("--json", action="store_true", help="print the JSON validation report")
    p.add_argument("--trust", action="append", default=[], metavar="PEM",
                   help="trust root certificate(s): PEM/DER file or folder (repeatable)")
    p.add_argument("--fetch", action="store_true",
                   help="allow fetching revocation data (OCSP/CRL) over the network")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="time limit per file in seconds (default 30)")
    p.set_defaults(func=run)
    return p


def _trust_sources(args: argparse.Namespace) -> list[str]:
    if args.trust:
        return list(args.trust)
    from api.settings import Settings

    settings = Settings()
    if settings.trust_root_paths:
        return settings.trust_root_paths
    dev_root = settings.pki_dir / "root-ca.pem"
    return [str(dev_root)] if dev_root.is_file() else []


def _load_roots(sources: Sequence[str]) -> list[bytes]:
    from signing.validation import load_certificates

    roots: list[bytes] = []
    for src in sources:
        p = Path(src)
        if not p.exists():
            raise UsageError(f"không tìm thấy chứng thư gốc tin cậy: {src}")
        try:
            found = load_certificates(p)
        except (OSError, ValueError):
            raise UsageError(f"không đọc được chứng thư gốc tin cậy: {src}") from None
        if not found and p.is_file():
            raise UsageError(f"tệp không chứa chứng thư số: {src}")
        roots.extend(found)
    return roots


def _read_file(path: str, max_bytes: int) -> bytes:
    p = Path(path)
    if not p.exists():
        raise OSError(f"không tìm thấy tệp: {path}")
    if p.is_dir():
        raise OSError(f"đây là thư mục, không phải tệp: {path}")
    try:
        with open(p, "rb") as fh:
            return fh.read(max_bytes + 1)
    except PermissionError:
        raise OSError(f"không có quyền đọc tệp: {path}") from None
    except OSError:
        raise OSError(f"không đọc được tệp: {path}") from None


def _vn_time(iso: str | None) -> str | None:
    """An ISO 8601 instant shown in Vietnam's time zone (Asia/Ho_Chi_Minh), seconds precision."""
    from signing.validation.people import vn_time

    return vn_time(iso) or iso


def format_report(path: str, report: Any) -> str:
    """Human summary of one report, in Vietnamese."""
    lines = [f"Tệp: {path}",
             f"  Kết luận: {report.verdict_label} ({report.verdict})",
             f"  {report.summary}"]
    if getattr(report, "integrity", ""):
        lines.append(f"  {report.integrity}")
    if report.signatures:
        lines.append(f"  Tin cậy: {'có' if report.trusted else 'KHÔNG'}")
    if getattr(report, "trust", ""):
        lines.append(f"  {report.trust}")
    for i, s in enumerate(report.signatures, start=1):
        what = getattr(s, "role_label", None) or (
            "Dấu thời gian tài liệu" if s.kind == "document_timestamp" else "Chữ ký")
        lines.append(f"  {i}. {what} — trường “{s.field}”:")
        lines.append(f"    Người ký: {s.signer or 'không rõ'}"
                     + (f" (cấp bởi {s.issuer})" if s.issuer else ""))
        if getattr(s, "trust_anchor", None):
            lines.append(f"    Chứng thư gốc: {s.trust_anchor}")
        lines.append(f"    Thời điểm ký (giờ Việt Nam): {_vn_time(s.signing_time) or 'không rõ'}"
                     + (f"; dấu thời gian: {_vn_time(s.timestamp)}" if s.timestamp
                        and s.kind != "document_timestamp" else ""))
        if s.kind != "document_timestamp":
            lines.append(f"    Mức chữ ký: {s.level or _LEVEL_TEXT[None]}")
        lines.append(f"    Toàn vẹn: {'có' if s.intact else 'KHÔNG'}; hợp lệ về mật mã: "
                     f"{'có' if s.valid else 'KHÔNG'}; tin cậy: {'có' if s.trusted else 'KHÔNG'}; "
                     f"{_REVOCATION_TEXT.get(s.revocation, s.revocation)}")
        lines.append(f"    Phạm vi ký: {_COVERAGE_TEXT.get(s.coverage, s.coverage)}; sau khi ký: "
                     f"{_CHANGES_TEXT.get(s.changes_after, s.changes_after)}")
        for p in s.problems:
            lines.append(f"    ! {p}")
    if report.changes:
        lines.append("  Thay đổi sau khi ký:")
        lines.extend(f"    - {c}" for c in report.changes)
    for r in getattr(report, "change_regions", None) or []:
        where = (f"vùng x={r['rect'][0]:g}–{r['rect'][2]:g}, y={r['rect'][1]:g}–{r['rect'][3]:g}"
                 if r.get("rect") else "toàn trang")
        lines.append(f"    • trang {r['page']}, {where}: {r['change']}")
    for p in report.problems:
        lines.append(f"  ! {p}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.files``; print a summary or JSON; return the CONTRACT exit code."""
    from signing.validation import MAX_PDF_BYTES, validate_pdf

    try:
        roots = _load_roots(_trust_sources(args))
    except UsageError as exc:
        print(f"ioffice verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    timeout = getattr(args, "timeout", 30.0) or 30.0
    results: list[tuple[str, Any]] = []
    read_error = False
    for path in args.files:
        try:
            data = _read_file(path, MAX_PDF_BYTES)
        except OSError as exc:
            print(f"ioffice verify: {exc}", file=sys.stderr)
            read_error = True
            continue
        # a one-shot, single-threaded process: a plain fork shares what is already imported
        # (with other threads running — e.g. when embedded — forking is unsafe: fork server)
        import threading

        method = "fork" if threading.active_count() == 1 else "forkserver"
        report = validate_pdf(data, trust_roots=roots,
                              allow_fetching=bool(getattr(args, "fetch", False)),
                              timeout=timeout, start_method=method)
        results.append((path, report))
        if not args.json:
            print(format_report(path, report))
            print()
    if args.json and results:
        docs = []
        for path, report in results:
            d = report.to_dict()
            d["file"] = path
            docs.append(d)
        out = docs[0] if len(args.files) == 1 else docs
        print(json.dumps(out, ensure_ascii=False, indent=2))
    sys.stdout.flush()
    if read_error:
        return EXIT_USAGE
    if results and all(r.verdict == "valid" and r.trusted for _p, r in results):
        return EXIT_OK
    return EXIT_NOT_VALID


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry: ``python -m api.cli_verify FILE… [--json] [--trust PEM]…``."""
    parser = argparse.ArgumentParser(prog="ioffice")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "verify":
        argv = ["verify", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse usage errors exit 2 already
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
