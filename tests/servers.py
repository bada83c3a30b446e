"""Start the real server (`pat-manager run`, gunicorn) on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CLI = str(Path(sys.executable).parent / "pat-manager")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, instance: Path, log_path: Path, workers: int = 2, **env):
        self.instance, self.log_path, self.workers = instance, log_path, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PAT_MANAGER_INSTANCE_PATH": str(instance),
            "PORT": str(self.port),
            **env,
        }
        self.process = None

    def start(self, timeout: float = 30) -> Server:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [CLI, "run", "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(self.base + "/login", timeout=1)
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(
                        "server did not start:\n" + self.log_path.read_text()
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as systemd would do it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def kill(self) -> None:
        """kill -9 of the master and every worker at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def cli(self, *args, input=None) -> str:
        result = subprocess.run(
            [CLI, *args],
            input=input,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
