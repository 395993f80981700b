"""Real processes for the deployment tests: started with a log file, stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

NUANLIU = [sys.executable, "-m", "nuanliu"]


class Proc:
    """One child process (its own process group), output in ``log``."""

    def __init__(self, name: str, cmd: list[str], log_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.cmd = cmd
        self.log = log_dir / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        fh = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            self.cmd, stdout=fh, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        fh.close()
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 20) -> int | None:
        """SIGTERM the process group, SIGKILL it if it does not end in time."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: Proc, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited:\n{proc.text()[-3000:]}") from None
            time.sleep(0.1)
    raise AssertionError(f"{proc.name} did not listen on {port}:\n{proc.text()[-3000:]}")


def wait_until(what: str, check: object, timeout_s: float = 60, every_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if check():  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)
