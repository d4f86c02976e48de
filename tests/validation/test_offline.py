"""The analysis process does not import an HTTP client it will not use (CPU per document), and one
that is allowed to fetch revocation data still gets the real client."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import sys
from signing.validation import offline
assert offline.without_http_client()
import pyhanko.sign.validation, pyhanko.sign.diff_analysis, pyhanko_certvalidator
print("offline", "aiohttp" in sys.modules)
offline.restore()
from pyhanko_certvalidator.fetchers import _default_fetcher_backend
backend = _default_fetcher_backend()
print("restored", type(backend).__name__, "aiohttp" in sys.modules)
"""


def test_offline_analysis_skips_aiohttp_and_fetching_gets_it_back():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "offline False" in out.stdout  # pyHanko's validation imported without aiohttp
    assert "restored AIOHttpFetcherBackend True" in out.stdout  # the real fetchers when allowed


def test_placeholders_refuse_to_be_used():
    script = ("from signing.validation import offline; offline.without_http_client()\n"
              "from pyhanko.sign.timestamps import HTTPTimeStamper\n"
              "try:\n    HTTPTimeStamper('http://tsa.invalid')\nexcept RuntimeError as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "refused network access is disabled" in out.stdout, out.stderr
