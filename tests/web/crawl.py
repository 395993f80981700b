"""Walk the dashboard the way a user does: follow every same-site link a page shows.

Generic on purpose, so pages other capabilities add (and link from the navigation or
from another page) are covered without listing them here. Pages of the same shape
(``/households/<id>``) are visited a few times, not thousands.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

HREF = re.compile(r'<a\b([^>]*)\bhref="([^"#]+)"([^>]*)>', re.I)
# Not pages: sign-out, assets, the JSON API, files to download, metrics.
SKIP_PREFIXES = ("/auth/", "/static/", "/api/", "/metrics", "/docs", "/openapi", "/redoc")
SKIP_PARAMS = {"lang", "format", "fmt"}
FILE_SUFFIXES = (".json", ".csv", ".xlsx", ".pdf", ".geojson", ".zip")
PER_SHAPE = 2


def page_links(html: str) -> list[str]:
    out = []
    for before, raw, after in HREF.findall(html):
        if re.search(r"\bdownload\b", before + after, re.I):
            continue  # a file, not a page
        url = raw.replace("&amp;", "&")
        if not url.startswith("/") or url.startswith("//"):
            continue
        parts = urlsplit(url)
        if parts.path.startswith(SKIP_PREFIXES) or parts.path.endswith(FILE_SUFFIXES):
            continue
        params = parse_qsl(parts.query)
        if any(k in SKIP_PARAMS for k, _ in params):
            continue
        out.append(parts.path + (f"?{urlencode(params)}" if params else ""))
    return out


def shape(url: str) -> str:
    """``/drill/city/HHHT?range=7d`` → ``/drill/city/*?range``: one kind of page."""
    parts = urlsplit(url)
    segs = parts.path.strip("/").split("/")
    kept = [s if i == 0 or not re.search(r"\d|[A-Z]", s) else "*" for i, s in enumerate(segs)]
    keys = sorted(k for k, _ in parse_qsl(parts.query))
    return "/" + "/".join(kept) + ("?" + "&".join(keys) if keys else "")


def crawl(
    fetch: Callable[[str], tuple[int, str]], start: str = "/", limit: int = 60
) -> dict[str, tuple[int, str]]:
    """``{url: (status, html)}`` of the pages reachable from ``start``."""
    seen: dict[str, tuple[int, str]] = {}
    shapes: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        key = shape(url)
        if shapes.get(key, 0) >= PER_SHAPE:
            continue
        shapes[key] = shapes.get(key, 0) + 1
        status, html = fetch(url)
        seen[url] = (status, html)
        if status == 200:
            queue.extend(u for u in page_links(html) if u not in seen)
    return seen
