"""`ioffice sweep` removes blobs that no row references once they are older than the grace period."""
import os
import subprocess
import sys
import time

from tests.conftest import make_pdf


def test_sweeper_removes_old_orphans_only(client, upload, env):
    from storage import FilesystemBlobStore

    kept = upload(pdf=make_pdf("referenced"))
    store = FilesystemBlobStore(env.data_dir / "blobs")
    old_orphan = store.put_bytes(make_pdf("orphan from a failed transaction"))
    young_orphan = store.put_bytes(make_pdf("upload still in flight"))
    week_ago = time.time() - 7 * 24 * 3600
    for sha in (old_orphan.sha256, kept["sha256"]):
        path = next((env.data_dir / "blobs").rglob(sha))
        os.utime(path, (week_ago, week_ago))

    environ = dict(os.environ, IOFFICE_DATA_DIR=str(env.data_dir), IOFFICE_DATABASE_URL=env.database_url)
    dry = subprocess.run([sys.executable, "-m", "api.cli", "sweep", "--dry-run"], env=environ, capture_output=True,
                         text=True, timeout=120)
    assert dry.returncode == 0 and "would remove 1" in dry.stdout
    assert store.exists(old_orphan.sha256)
    r = subprocess.run([sys.executable, "-m", "api.cli", "sweep"], env=environ, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "removed 1" in r.stdout
    assert not store.exists(old_orphan.sha256)
    assert store.exists(young_orphan.sha256)
    assert store.exists(kept["sha256"])


def test_sweeper_keeps_the_agency_seal_image(client, as_user, env):
    """The uploaded seal's hash lives only in the organisation's settings JSON: still a reference."""
    import io

    from PIL import Image

    from storage import FilesystemBlobStore

    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    for x in range(20, 180):
        img.putpixel((x, x), (200, 20, 20, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    r = client.put("/api/v1/organisation/seal-image", headers=as_user("admin"),
                   files={"file": ("seal.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    seal = r.json()["settings"]["seal_image_sha256"]
    store = FilesystemBlobStore(env.data_dir / "blobs")
    orphan = store.put_bytes(make_pdf("orphan"))
    environ = dict(os.environ, IOFFICE_DATA_DIR=str(env.data_dir), IOFFICE_DATABASE_URL=env.database_url)
    r = subprocess.run([sys.executable, "-m", "api.cli", "sweep", "--grace-hours", "0"], env=environ,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not store.exists(orphan.sha256)
    assert store.exists(seal)
