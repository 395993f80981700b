"""Network twin: steady state of an example network at an outdoor temperature."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from nuanliu.api.accounts import User
from nuanliu.api.deps import require
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.network.examples import list_examples

router = APIRouter(
    prefix=f"{API_PREFIX}/simulation", tags=["simulation"], responses=ERROR_RESPONSES
)

Viewer = Annotated[User, Depends(require(Permission.READ_NETWORK))]


@router.get("/networks", operation_id="simulation_networks", summary="The example networks")
def simulation_networks(user: Viewer) -> list[dict[str, str]]:
    return [{"name": n, "description": d} for n, d in list_examples().items()]


@router.get(
    "/networks/{network}/steady",
    operation_id="simulation_steady",
    summary="Steady thermo-hydraulic state at an outdoor temperature: summary + stations",
)
async def simulation_steady(
    request: Request,
    user: Viewer,
    network: Annotated[str, Path(max_length=64)],
    outdoor_temp_c: float = Query(default=-10.0, ge=-45.0, le=20.0),
) -> dict[str, Any]:
    cache = request.app.state.sim_cache
    return await run_in_threadpool(cache.steady, network, outdoor_temp_c)
