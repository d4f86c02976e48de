"""``ioffice backup DEST`` / ``ioffice restore SRC``: a portable copy of an installation.

A backup is a folder:

    manifest.json          format, time, source dialect, row counts, every blob's SHA-256 and size
    db/<table>.jsonl       every row of every table (reflected from the database, so nothing is
                           forgotten when the schema grows), one JSON object a line
    blobs/sha256/ab/cd/…   every blob of the store (filesystem or S3), under its content address
    records/audit-anchors/… the audit chain's anchors (write-once records of the store)
    files/                 the data dir's secret.key, keys/, trust/ and pki/ (mode kept)

It works the same for SQLite and PostgreSQL (and across them). Restore migrates the target
database to the newest schema, refuses a database that already has rows (unless ``--force``),
inserts the rows, puts the blobs back (re-hashing each one), copies the files, and then checks
the audit hash chains and that every blob in the store hashes to its name. Anything that does not
match aborts with a one-line error.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Engine, MetaData, Table, func, insert, select, text
from sqlalchemy import types as sqltypes

from ioffice.audit.anchors import ANCHOR_PREFIX
from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.ports import RecordStore

from .settings import Settings

if TYPE_CHECKING:
    from ioffice.kernel.ports import BlobStore

    from .container import Container

FORMAT = "ioffice-backup/1"
DATA_FILES = ("secret.key", "demo-password.txt", "keys", "trust", "pki")
SKIP_TABLES = {"alembic_version"}
BATCH = 500


@dataclass
class Summary:
    path: Path
    tables: int = 0
    rows: int = 0
    blobs: int = 0
    files: int = 0
    audit_events: int = 0


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value: Any, column: Column[Any]) -> Any:
    if isinstance(value, dict) and len(value) == 1 and not isinstance(column.type, sqltypes.JSON):
        (tag, raw), = value.items()
        if tag == "$dt":
            dt = datetime.fromisoformat(raw)
            if dt.tzinfo is not None and not getattr(column.type, "timezone", False) \
                    and not isinstance(column.type, sqltypes.TypeDecorator):
                dt = dt.astimezone(UTC).replace(tzinfo=None)
            return dt
        if tag == "$date":
            return date.fromisoformat(raw)
        if tag == "$time":
            return time.fromisoformat(raw)
        if tag == "$b64":
            return base64.b64decode(raw)
        if tag == "$dec":
            return Decimal(raw)
    return value


def _open(settings: Settings) -> Container:
    from .container import Container

    return Container.from_settings(settings)


def _reflect(engine: Engine) -> MetaData:
    md = MetaData()
    md.reflect(bind=engine)
    return md


def backup(settings: Settings, dest: str | os.PathLike[str]) -> Summary:
    out = Path(dest).expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"Thư mục sao lưu {out} đã có dữ liệu; chọn một thư mục trống.")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "db").mkdir(parents=True)
    summary = Summary(path=out)
    c = _open(settings)
    try:
        md = _reflect(c.engine)
        counts: dict[str, int] = {}
        # One snapshot for all tables (REPEATABLE READ on PostgreSQL; SQLite's transaction is one).
        with c.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            for table in md.sorted_tables:
                if table.name in SKIP_TABLES:
                    continue
                n = 0
                order = list(table.primary_key.columns) or list(table.columns)[:1]
                with open(tmp / "db" / f"{table.name}.jsonl", "w", encoding="utf-8") as f:
                    for row in conn.execute(select(table).order_by(*order)).mappings():
                        f.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                        n += 1
                counts[table.name] = n
            dialect = conn.dialect.name
            revision = None
            if "alembic_version" in md.tables:
                revision = sorted(conn.execute(select(md.tables["alembic_version"])).scalars())
        blobs = []
        for info in c.store.iter_blobs():
            h = hashlib.sha256()
            target = tmp / "blobs" / f"sha256/{info.sha256[:2]}/{info.sha256[2:4]}/{info.sha256}"
            target.parent.mkdir(parents=True, exist_ok=True)
            with c.store.open(info.sha256) as src, open(target, "wb") as f:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
                    f.write(chunk)
            if h.hexdigest() != info.sha256:
                raise InvalidInput(f"Tệp dữ liệu {info.sha256[:12]}… bị hỏng trong kho; không sao lưu được.")
            blobs.append({"sha256": info.sha256, "size": info.size, "final": bool(c.store.is_final(info.sha256))})
        store = c.store
        records = store.list_records(ANCHOR_PREFIX) if isinstance(store, RecordStore) else []
        for name in records:
            assert isinstance(store, RecordStore)
            target = tmp / "records" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.read_record(name))
        summary.files = _copy_files(settings.resolved_data_dir, tmp / "files")
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(), "dialect": dialect,
                    "alembic_revision": revision, "tables": counts, "blobs": blobs, "records": records}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    finally:
        c.close()
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    os.chmod(out, 0o700)  # it holds the keys and the secret
    summary.tables, summary.rows, summary.blobs = len(counts), sum(counts.values()), len(blobs)
    return summary


def _copy_files(src_dir: Path, dst_dir: Path) -> int:
    n = 0
    for name in DATA_FILES:
        src = src_dir / name
        if src.is_dir():
            shutil.copytree(src, dst_dir / name, dirs_exist_ok=True)
            n += sum(1 for p in (dst_dir / name).rglob("*") if p.is_file())
        elif src.is_file():
            dst_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst_dir / name)
            n += 1
    return n


def restore(settings: Settings, src: str | os.PathLike[str], *, force: bool = False) -> Summary:
    from ioffice.audit.services import verify_chains
    from ioffice.migrate import upgrade

    root = Path(src).expanduser().resolve()
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{root} không phải một bản sao lưu ioffice (thiếu manifest.json).") from exc
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"Định dạng sao lưu không được hỗ trợ: {manifest.get('format')}")
    summary = Summary(path=root)
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    # Keys and the secret first: the restored rows refer to them.
    summary.files = _copy_files(root / "files", data_dir) if (root / "files").is_dir() else 0
    settings = Settings(**{**settings.model_dump(exclude_unset=True), "data_dir": settings.data_dir})
    c = _open(settings)
    try:
        upgrade(c.engine)
        md = _reflect(c.engine)
        tables = [t for t in md.sorted_tables if t.name not in SKIP_TABLES]
        with c.engine.begin() as conn:
            has_rows = any(conn.execute(select(func.count()).select_from(t)).scalar() for t in tables)
            if has_rows and not force:
                raise InvalidInput("Cơ sở dữ liệu đích đã có dữ liệu; khôi phục vào một cơ sở dữ liệu trống "
                                   "hoặc dùng --force để thay thế.")
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for t in reversed(tables):
                conn.execute(t.delete())
            for t in tables:
                path = root / "db" / f"{t.name}.jsonl"
                if not path.exists():
                    continue
                batch: list[dict[str, Any]] = []
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        row = json.loads(line)
                        batch.append({k: _decode(v, t.c[k]) for k, v in row.items() if k in t.c})
                        if len(batch) >= BATCH:
                            conn.execute(insert(t), batch)
                            summary.rows += len(batch)
                            batch = []
                if batch:
                    conn.execute(insert(t), batch)
                    summary.rows += len(batch)
                expected = manifest["tables"].get(t.name)
                got = conn.execute(select(func.count()).select_from(t)).scalar()
                if expected is not None and got != expected:
                    raise InvalidInput(f"Bảng {t.name}: khôi phục {got} dòng, bản sao lưu có {expected}.")
                summary.tables += 1
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, tables)
        for b in manifest["blobs"]:
            path = root / "blobs" / f"sha256/{b['sha256'][:2]}/{b['sha256'][2:4]}/{b['sha256']}"
            if not path.is_file():
                raise InvalidInput(f"Bản sao lưu thiếu tệp dữ liệu {b['sha256'][:12]}…")
            if not c.store.exists(b["sha256"]):
                with open(path, "rb") as f:
                    stored = c.store.put_stream(f)
                if stored.sha256 != b["sha256"]:
                    raise InvalidInput(f"Tệp dữ liệu {b['sha256'][:12]}… trong bản sao lưu bị hỏng.")
            if b.get("final") and not c.store.is_final(b["sha256"]):
                c.store.mark_final(b["sha256"])
            summary.blobs += 1
        summary.blobs = verify_blobs(c.store, [b["sha256"] for b in manifest["blobs"]])
        if isinstance(c.store, RecordStore):
            for name in manifest.get("records", []):
                c.store.put_record(name, (root / "records" / name).read_bytes())
        with c.sessions() as s:
            checked, problems = verify_chains(s)
        if problems:
            p = problems[0]
            raise InvalidInput(f"Chuỗi nhật ký kiểm tra bị hỏng sau khi khôi phục: chain={p.chain} seq={p.seq}")
        summary.audit_events = checked
    finally:
        c.close()
    return summary


def verify_blobs(store: BlobStore, expected: list[str]) -> int:
    """Every expected blob is in the store and hashes to its name. Returns how many were checked."""
    n = 0
    for sha in expected:
        h = hashlib.sha256()
        with store.open(sha) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != sha:
            raise InvalidInput(f"Tệp dữ liệu {sha[:12]}… không khớp SHA-256 sau khi khôi phục.")
        n += 1
    return n


def _reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    for t in tables:
        for col in t.primary_key.columns:
            if not isinstance(col.type, sqltypes.Integer):
                continue
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}).scalar()
            if seq:
                conn.execute(
                    text(f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{t.name}"), 0) + 1, false)'),
                    {"s": seq},
                )
