"""docker/: the compose stack, the image and the workspace agree with each other and with the
environment variables the code reads. There is no Docker engine in CI, so the files are parsed;
`docker compose config` runs too where a compose plugin is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")
PRODUCTION_REQUIRED = ("DATABASE_URL", "DAGSTER_PG_URL")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_PIN = re.compile(r"torch==(\d+(?:\.\d+)*)")

_NAME = r"([A-Z][A-Z0-9_]*)"
_Q = r"[\"']"
_READS = [
    re.compile(rf"os\.environ\.get\(\s*{_Q}{_NAME}{_Q}"),
    re.compile(rf"os\.environ\[\s*{_Q}{_NAME}{_Q}\s*\]"),
    re.compile(rf"os\.environ\.setdefault\(\s*{_Q}{_NAME}{_Q}"),
    re.compile(rf"os\.getenv\(\s*{_Q}{_NAME}{_Q}"),
    re.compile(rf"\bEnvVar\(\s*{_Q}{_NAME}{_Q}"),  # dg.EnvVar("...") too
    re.compile(rf"\b_env\(\s*{_Q}{_NAME}{_Q}"),  # resources' EnvVar-when-set helper
    re.compile(rf"^\s*[A-Z_]*ENV\s*=\s*{_Q}{_NAME}{_Q}", re.MULTILINE),  # LOCATION_ENV = "..."
    # the project's own names in mappings and tuples (e.g. spotify_resource's settings)
    re.compile(rf"{_Q}((?:SPOTIFY|DAGSTER_PG)_[A-Z0-9_]+|DATABASE_URL){_Q}"),
]


def env_vars_read() -> set[str]:
    """Every variable the package reads: its source plus `{env: NAME}` in dagster.yaml."""
    names: set[str] = set()
    for path in (REPO / "spotify_assets").rglob("*.py"):
        text = path.read_text("utf-8")
        for pattern in _READS:
            names.update(pattern.findall(text))
    return names | instance_env_vars()


def instance_env_vars() -> set[str]:
    def walk(node: object) -> set[str]:
        if isinstance(node, dict):
            if set(node) == {"env"}:
                return {str(node["env"])}
            return set().union(*(walk(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(walk(value) for value in node))
        return set()

    return walk(yaml.safe_load((REPO / "dagster.yaml").read_text("utf-8")))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    """The variables .env.example assigns (commented-out lines are not assignments)."""
    assigned = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line):
            assigned[match[1]] = match[2]
    return assigned


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            result.append((instruction.upper(), args.strip()))
    return result


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(re.findall(r"([A-Z][A-Z0-9_]*)=(\S+)", args))
    return env


def service_env(service: dict, example: dict[str, str]) -> set[str]:
    """Names a service's container gets: `environment`, plus .env through `env_file`."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        names = {item.partition("=")[0] for item in environment}
    else:
        names = set(environment)
    env_files = service.get("env_file") or []
    env_files = [env_files] if isinstance(env_files, str | dict) else env_files
    paths = [item["path"] if isinstance(item, dict) else item for item in env_files]
    return names | (set(example) if ".env" in paths else set())


def command_of(compose: dict, name: str) -> list[str]:
    """The service's command, else the image's CMD."""
    command = compose["services"][name].get("command")
    if command is None:
        cmd = [args for instruction, args in dockerfile_instructions() if instruction == "CMD"]
        return json.loads(cmd[-1])
    return command.split() if isinstance(command, str) else list(command)


def option(command: list[str], *flags: str) -> str:
    for flag in flags:
        if flag in command:
            return command[command.index(flag) + 1]
    raise AssertionError(f"{flags} not in {command}")


# ---- compose ---------------------------------------------------------------------------------


def test_services(compose):
    services = compose["services"]
    assert {"postgres", "user_code", "webserver", "daemon"} <= set(services)
    postgres = services["postgres"]
    assert postgres["image"].startswith("pgvector/pgvector:")
    test = " ".join(postgres["healthcheck"]["test"])
    assert "pg_isready" in test
    assert any(volume.startswith("pgdata:") for volume in postgres["volumes"])
    assert "pgdata" in compose["volumes"]
    for name in DAGSTER_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert services[name]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}


def test_only_localhost_ports(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.rsplit(":", 2)[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond localhost"
    assert compose["services"]["webserver"]["ports"] == ["127.0.0.1:3000:3000"]


def test_dagster_processes_get_the_production_settings(compose, example):
    read = env_vars_read()
    assert {"DATABASE_URL", "SPOTIFY_ASSETS_BUNDLES", "SPOTIFY_CLIENT_SECRET"} <= read
    # every process loads the instance, so it needs what dagster.yaml reads
    needed = {*PRODUCTION_REQUIRED, *instance_env_vars()}
    for name in DAGSTER_SERVICES:
        missing = needed - service_env(compose["services"][name], example)
        assert not missing, f"{name} lacks {sorted(missing)}"
    # runs execute in user_code: it gets the optional settings through .env
    user_code = service_env(compose["services"]["user_code"], example)
    assert {"SPOTIFY_ASSETS_COMPUTE_BACKEND"} <= user_code


def strings(node: object) -> list[str]:
    """Every key and scalar in a parsed YAML document (comments are gone by then)."""
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in [*strings(key), *strings(value)]]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


def test_every_variable_is_in_env_example(compose, example):
    referenced = {
        name
        for text in strings(compose)
        for name in re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text)
    }
    assert {"POSTGRES_PASSWORD", *PRODUCTION_REQUIRED} <= referenced
    assert not referenced - set(example), "missing from docker/.env.example"
    # the project's own settings are documented there (or set by the image)
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))
    documented |= set(dockerfile_env())
    project = {n for n in env_vars_read() if n.startswith("SPOTIFY_") or n in PRODUCTION_REQUIRED}
    assert not project - documented, "undocumented in docker/.env.example"
    for name in ("MODAL_TOKEN_ID", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_REGION"):
        assert name in documented


def test_env_example_urls_match_the_postgres_service(example):
    # the app connects with psycopg; the instance through SQLAlchemy, with the psycopg2 driver
    urls = (
        ("DATABASE_URL", "postgresql", example["POSTGRES_DB"]),
        ("DAGSTER_PG_URL", "postgresql+psycopg2", "dagster"),
    )
    for name, scheme, dbname in urls:
        url = urlsplit(example[name])
        assert (url.scheme, url.hostname, url.port) == (scheme, "postgres", 5432), name
        assert (url.username, url.password) == (
            example["POSTGRES_USER"],
            example["POSTGRES_PASSWORD"],
        )
        assert url.path == f"/{dbname}", name
    sql = (DOCKER / "initdb" / "01-databases.sql").read_text("utf-8")
    assert re.search(r"^CREATE DATABASE dagster;", sql, re.M)
    assert re.search(r"^CREATE EXTENSION IF NOT EXISTS vector;", sql, re.M)


def test_initdb_is_mounted(compose):
    volumes = compose["services"]["postgres"]["volumes"]
    assert "./initdb:/docker-entrypoint-initdb.d:ro" in volumes


def test_compose_config_validates():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker binary")
    version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if version.returncode != 0:
        pytest.skip(f"docker compose plugin unavailable: {version.stderr.strip()[:200]}")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "--env-file", str(ENV_EXAMPLE), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# ---- workspace and image ---------------------------------------------------------------------


def test_workspace_points_at_the_code_server(compose):
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text("utf-8"))
    [entry] = workspace["load_from"]
    grpc = entry["grpc_server"]
    assert grpc["location_name"] == "spotify_assets"
    assert grpc["host"] in compose["services"]
    command = command_of(compose, grpc["host"])
    assert command[:3] == ["dagster", "code-server", "start"]
    assert option(command, "-p", "--port") == str(grpc["port"])
    assert option(command, "-h", "--host") == "0.0.0.0"
    assert option(command, "-m", "--module-name") == "spotify_assets.definitions"
    exposed = {
        port
        for instruction, args in dockerfile_instructions()
        if instruction == "EXPOSE"
        for port in args.split()
    }
    assert str(grpc["port"]) in exposed
    health = compose["services"][grpc["host"]]["healthcheck"]["test"]
    assert option(health, "-p") == str(grpc["port"])


def test_webserver_and_daemon_load_the_copied_workspace(compose):
    copies = image_copies()
    for name, head in (("webserver", ["dagster-webserver"]), ("daemon", ["dagster-daemon", "run"])):
        command = command_of(compose, name)
        assert command[: len(head)] == head
        workspace = option(command, "-w", "--workspace")
        assert copies.get(workspace) == "docker/workspace.yaml", (workspace, copies)
    assert option(command_of(compose, "webserver"), "-h", "--host") == "0.0.0.0"


def image_copies() -> dict[str, str]:
    """Absolute path in the image -> repository path, for each COPY of a file."""
    workdir, env, copies = PurePosixPath("/"), {}, {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(re.findall(r"([A-Z][A-Z0-9_]*)=(\S+)", args))
        elif instruction == "WORKDIR":
            workdir = workdir / args
        elif instruction == "COPY":
            *sources, dest = [part for part in args.split() if not part.startswith("--")]
            dest = re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: env.get(m[1], m[0]), dest)
            target = workdir / dest
            for source in sources:
                is_dir = dest.endswith("/") or len(sources) > 1
                copies[str(target / PurePosixPath(source).name if is_dir else target)] = source
    return copies


def test_dockerfile_installs_cpu_torch_first():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [args for instruction, args in instructions if instruction == "RUN"]
    torch_runs = [i for i, run in enumerate(runs) if re.search(r"pip install .*torch==", run)]
    package_runs = [
        i for i, run in enumerate(runs) if re.search(r"pip install\b.*\s\"?\.(?=[\[\"$\s]|$)", run)
    ]
    assert len(torch_runs) == 1 and package_runs, runs
    assert torch_runs[0] < package_runs[0]
    assert f"--index-url {CPU_INDEX}" in runs[torch_runs[0]]
    assert "/whl/cu" not in DOCKERFILE.read_text()
    assert not (REPO / "docker" / "requirements.txt").exists()  # pyproject is the one list


def test_torch_pin_matches_setup_and_modal():
    pins = {
        path.name: set(TORCH_PIN.findall(path.read_text("utf-8")))
        for path in (
            DOCKERFILE,
            REPO / "scripts" / "setup.sh",
            REPO / "spotify_assets" / "modal_app.py",
        )
    }
    assert pins["setup.sh"] and len(pins["setup.sh"]) == 1, pins
    assert pins["Dockerfile"] == pins["setup.sh"] == pins["modal_app.py"], pins


def test_image_runs_as_non_root_with_the_instance_config():
    instructions = dockerfile_instructions()
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert dockerfile_env()["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert image_copies()["/opt/dagster/dagster_home/dagster.yaml"] == "dagster.yaml"


def test_build_context_keeps_what_the_image_copies():
    """docker/Dockerfile.dockerignore (BuildKit) keeps .venv out of the context, not sources."""
    patterns = (DOCKER / "Dockerfile.dockerignore").read_text("utf-8").split()
    assert "*" in patterns
    for source in set(image_copies().values()):
        assert f"!{source}" in patterns or f"!{source}/" in patterns, source


def test_dagster_cli_options_exist():
    """The commands the image and compose run take these options in the installed dagster."""
    bin_dir = Path(sys.executable).parent
    for command, options in (
        (["dagster", "code-server", "start"], ["--host", "--port", "--module-name"]),
        (["dagster-webserver"], ["--host", "--port", "--workspace"]),
        (["dagster-daemon", "run"], ["--workspace"]),
        (["dagster", "api", "grpc-health-check"], ["--port"]),
    ):
        executable = bin_dir / command[0]
        if not executable.exists():
            pytest.skip(f"{executable} not installed")
        result = subprocess.run(
            [str(executable), *command[1:], "--help"], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        for name in options:
            assert name in result.stdout, (command, name)


# ---- repository hygiene ----------------------------------------------------------------------


def test_env_file_is_git_ignored():
    git = shutil.which("git")
    if git and (REPO / ".git").exists():

        def ignored(path: str) -> bool:
            return subprocess.run([git, "check-ignore", "-q", path], cwd=REPO).returncode == 0

        assert ignored("docker/.env")
        assert not ignored("docker/.env.example")
    else:
        assert "docker/.env" in (REPO / ".gitignore").read_text("utf-8").splitlines()


def test_modal_deploy_script():
    script = REPO / "scripts" / "modal_deploy.sh"
    text = script.read_text("utf-8")
    assert script.stat().st_mode & 0o111
    assert "set -euo pipefail" in text
    assert "modal deploy spotify_assets/modal_app.py" in text
    assert "SPOTIFY_ASSETS_COMPUTE_BACKEND=modal" in text
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO)}
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "MODAL_TOKEN_ID MODAL_TOKEN_SECRET" in result.stderr
