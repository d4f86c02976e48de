"""Imported first by the analysis fork server: see :mod:`signing.validation.offline`."""
from .offline import without_http_client

without_http_client()
