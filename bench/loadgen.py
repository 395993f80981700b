"""Load generation shared by the web and hotline benchmarks: the server on a free port,
simulated users who log in and browse with think time, and their latency samples."""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, server: subprocess.Popen, timeout_s: float) -> None:
    """Wait until ``base``/healthz answers 200; fail if the server exits or is too slow."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.3)


@dataclass
class Samples:
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def add(self, page: str, ms: float, ok: bool) -> None:
        self.latency_ms.setdefault(page, []).append(ms)
        if not ok:
            self.errors[page] = self.errors.get(page, 0) + 1

    def count(self) -> int:
        return sum(len(v) for v in self.latency_ms.values())

    def restart(self) -> None:
        """Forget the warm-up: measure from now."""
        self.latency_ms.clear()
        self.errors.clear()


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Log in through the form, as a browser does (its CSRF token arrives as a cookie)."""
    await client.get("/login")
    form = {"username": username, "password": password, "next": "/"}
    form["csrf_token"] = client.cookies.get("nuanliu_login_csrf") or ""
    r = await client.post("/auth/login", data=form)
    if r.status_code != 303 or "/login" in r.headers.get("location", ""):
        raise RuntimeError(f"login of {username} failed: {r.status_code} {r.text[:200]}")


async def browse(
    base: str,
    login: tuple[str, str],
    pick: Callable[[random.Random], tuple[str, str]],
    seed: int,
    until: float,
    samples: Samples,
    think_s: tuple[float, float],
    logins: asyncio.Semaphore,
) -> None:
    """One user: log in (``logins`` limits how many at once), then until ``until`` open
    the page ``pick`` chooses, record its latency, and think for a while."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        async with logins:  # people arrive over time; argon2 makes each login cost ~0.1 s
            await log_in(client, *login)
        await asyncio.sleep(rng.uniform(0, think_s[1]))
        while time.monotonic() < until:
            page, url = pick(rng)
            t0 = time.perf_counter()
            try:
                resp = await client.get(url)
                ok = resp.status_code == 200
                if not ok and len(samples.error_samples) < 5:
                    samples.error_samples.append(f"{url}: HTTP {resp.status_code}")
            except httpx.HTTPError as exc:
                ok = False
                if len(samples.error_samples) < 5:
                    samples.error_samples.append(f"{url}: {exc!r}")
            samples.add(page, (time.perf_counter() - t0) * 1000.0, ok)
            await asyncio.sleep(rng.uniform(*think_s))


async def warm_up(tasks: list[asyncio.Task], samples: Samples, visits: int, max_s: float) -> None:
    """Until every user has logged in and made its first visits (``visits`` in all, which
    fill the caches) or ``max_s`` passed; then the samples start afresh."""
    start = time.monotonic()
    await asyncio.sleep(0)
    while time.monotonic() < start + max_s and all(not t.done() for t in tasks):
        if samples.count() >= visits:
            break
        await asyncio.sleep(0.5)
    took = time.monotonic() - start
    print(f"warm-up: {samples.count()} requests in {took:.0f} s (logins and first visits)")
    samples.restart()


async def stop_users(tasks: list[asyncio.Task], *others: asyncio.Task) -> None:
    """Cancel the users (saying if any failed) and wait for them and ``others``."""
    failed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
    if failed:
        print(f"{len(failed)} user(s) failed, first: {failed[0]!r}")
    for t in tasks:
        t.cancel()
    await asyncio.gather(*others, *tasks, return_exceptions=True)
