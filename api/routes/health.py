"""Liveness/readiness: names the failing part (503) when the database or storage is down."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ..container import Container
from ..deps import ContainerDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


def _check(container: Container) -> dict[str, Any]:
    result = {"status": "ok", "database": "ok", "storage": "ok"}
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        result["database"] = "unavailable"
    try:
        container.store.check()
    except Exception:
        result["storage"] = "unavailable"
    if "unavailable" in result.values():
        result["status"] = "unavailable"
    return result


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def healthz(container: ContainerDep) -> JSONResponse:
    result = await run_in_threadpool(_check, container)
    return JSONResponse(result, status_code=200 if result["status"] == "ok" else 503)
