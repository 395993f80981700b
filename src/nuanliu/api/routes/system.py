"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nuanliu.api.deps import StoreDep
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import StoreError

router = APIRouter(tags=["system"])


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Liveness and store reachability",
    responses={503: ERROR_RESPONSES[401] | {"description": "store unreachable"}},
)
def healthz(store: StoreDep) -> dict[str, str]:
    try:
        with store.read() as q:
            ok = q.scalar("SELECT 1")
    except Exception as exc:  # any driver failure means "not healthy", said as StoreError
        raise StoreError(f"store unreachable: {type(exc).__name__}") from exc
    if ok != 1:
        raise StoreError("store answered SELECT 1 wrongly")
    return {"status": "ok", "engine": str(store.caps.engine)}


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
