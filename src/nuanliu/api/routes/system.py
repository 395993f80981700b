"""Health, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nuanliu.api.deps import StoreDep
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.api.security import check_metrics_access
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
    "/readyz",
    operation_id="readyz",
    summary="Readiness: store, each ingest worker's broker connection, the scheduler",
    responses={503: {"description": "not ready; the failing checks say why"}},
    # For the load balancer and the operators (docs/deploy.md), like /healthz open to
    # anyone; kept out of the API schema (and so out of the roles matrix).
    include_in_schema=False,
)
def readyz(request: Request, store: StoreDep) -> JSONResponse:
    from nuanliu.api.readiness import readiness

    required = {p.strip() for p in request.app.state.settings.ready_require.split(",")}
    body = readiness(store, required)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics (allow-listed networks or the metrics token)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, 403: ERROR_RESPONSES[403]},
)
def metrics(request: Request) -> Response:
    check_metrics_access(
        request.app.state.settings,
        request.client.host if request.client else None,
        request.headers.get("authorization", ""),
    )
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
