"""ioffice domain core: organisations, users, documents, registers, workflows, audit.

This package knows nothing of FastAPI, MinIO/S3 or pyHanko; it talks to them through the
protocols in :mod:`ioffice.ports`.
"""
