"""One JSON error shape: ``{"error": {"code", "message", "message_zh", "details"}}``.

Domain errors map to HTTP statuses here and only here. Framework errors (unknown route,
wrong method, request validation) and unexpected exceptions use the same shape; an
unexpected exception is logged with its traceback and answered with a plain 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nuanliu import errors as e

log = logging.getLogger(__name__)

# Most specific first: the first class the error is an instance of wins.
STATUS_BY_ERROR: list[tuple[type[e.NuanliuError], int]] = [
    (e.NotAuthenticated, 401),
    (e.PermissionDenied, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.RateLimited, 429),
    (e.NetworkInvalid, 422),
    (e.InvalidInput, 422),
    (e.NotConverged, 422),
    (e.Infeasible, 422),
    (e.StoreError, 503),
    (e.ConfigError, 500),
    (e.NuanliuError, 500),
]

MESSAGES_ZH = {
    "not_authenticated": "未登录或登录已过期",
    "permission_denied": "无权执行此操作",
    "not_found": "未找到",
    "conflict": "与现有数据冲突",
    "rate_limited": "尝试次数过多，请稍后再试",
    "invalid_input": "输入无效",
    "network_invalid": "管网模型无效",
    "not_converged": "计算未收敛",
    "infeasible": "计算结果超出物理限值",
    "store_error": "数据库暂不可用",
    "config_error": "配置错误",
    "method_not_allowed": "不支持的请求方法",
    "csrf_failed": "CSRF 校验失败，请刷新页面后重试",
    "internal_error": "服务器内部错误",
    "error": "错误",
}

_HTTP_CODES = {
    400: "invalid_input",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "invalid_input",
    415: "invalid_input",
    422: "invalid_input",
    429: "rate_limited",
}


def status_for(err: e.NuanliuError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(err, cls):
            return status
    return 500


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "message_zh": MESSAGES_ZH.get(code, MESSAGES_ZH["error"]),
            "details": details,
        }
    }


def _wants_html_redirect(request: Request) -> bool:
    """Browser navigation to a page (not the API) goes to the login page instead of JSON."""
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/auth/"):
        return False
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.NuanliuError)
    status = status_for(exc)
    if status == 401 and _wants_html_redirect(request):
        login_url = getattr(request.app.state, "login_url", "/login")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{login_url}?next={quote(target, safe='/')}", status_code=303)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, e.RateLimited) and isinstance(exc.details, dict):
        headers["Retry-After"] = str(exc.details.get("retry_after_s", 60))
    if status >= 500:
        log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.message)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error" if exc.status_code < 500 else "internal_error")
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return JSONResponse(
        error_body(code, detail, None),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    return JSONResponse(
        error_body("invalid_input", f"{where}: {first['msg']}" if where else first["msg"], details),
        status_code=422,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "internal server error; the incident was logged"),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(e.NuanliuError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


# OpenAPI description of the error shape, reused by every router's `responses`.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "message_zh", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "message_zh": {"type": "string"},
                "details": {},
            },
        }
    },
}
