"""Run the real `dagster-webserver` and `dagster-daemon` against the project, for tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DagsterServices:
    """Webserver (and optionally the daemon) on 127.0.0.1 with the project's dagster.yaml,
    its instance storage in Postgres (`dagster_pg_url`) and the app's data in `database_url`."""

    def __init__(self, home: Path, dagster_pg_url: str, database_url: str, env: dict | None = None):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": dagster_pg_url,
            "DATABASE_URL": database_url,
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "HF_HUB_OFFLINE": "1",
            "DAGSTER_DISABLE_TELEMETRY": "1",
            **(env or {}),
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, name: str, command: list[str]) -> None:
        log = self.home / f"{name}.log"
        self.logs.append(log)
        handle = log.open("wb")
        self.processes.append(
            subprocess.Popen(
                command, cwd=REPO_ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )  # fmt: skip

    def start_webserver(self, timeout: float = 120) -> None:
        workspace = str(REPO_ROOT / "workspace.yaml")
        self._start(
            "webserver",
            [
                str(BIN / "dagster-webserver"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-w",
                workspace,
            ],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[-1].poll() is not None:
                raise RuntimeError(f"dagster-webserver exited:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/server_info", timeout=2).status_code == 200:
                    # and the code location has loaded
                    data = self.graphql("{ repositoriesOrError { __typename } }")
                    if data["repositoriesOrError"]["__typename"] == "RepositoryConnection":
                        return
            except (httpx.HTTPError, RuntimeError):
                pass
            time.sleep(1)
        raise TimeoutError(f"dagster-webserver did not come up in {timeout}s:\n{self.tail()}")

    def start_daemon(self) -> None:
        self._start(
            "daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(REPO_ROOT / "workspace.yaml")]
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def tail(self, lines: int = 40) -> str:
        out = []
        for log in self.logs:
            if log.exists():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)

    def __enter__(self) -> DagsterServices:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
