"""The container image: built by the install script `make` uses, and its health check.

Building and running it needs a container engine able to start containers and to pull
the slim Python base image. Where there is none (README: "Running it in a container"
says why this machine has none), that test is skipped with the engine's own words.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "sh scripts/install.sh"


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per line of a Dockerfile, continuation lines joined."""
    joined = dockerfile.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def test_image_and_make_install_with_the_same_script() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    runs = [args for word, args in steps if word == "RUN"]
    assert f"{INSTALL} /opt/newsbot" in runs
    makefile = (ROOT / "Makefile").read_text()
    assert f"{INSTALL} $(VENV) --dev" in makefile
    # Nothing else installs Python packages in the image.
    assert not [r for r in runs if "pip" in r]
    assert "pip install" not in makefile


def test_image_runs_unprivileged_with_data_in_a_volume_and_a_health_check() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    stages = [args for word, args in steps if word == "FROM"]
    assert len(stages) == 2  # build stage (compiler) and a runtime stage without it
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][-1] :]
    words = dict(runtime)
    assert words["USER"] == "newsbot"
    assert words["VOLUME"] == '["/data"]'
    assert "DATABASE_URL=sqlite:////data/newsbot.db" in words["ENV"]
    assert words["HEALTHCHECK"].endswith('CMD ["newsbot", "health"]')
    assert not any("gcc" in args for word, args in runtime if word == "RUN")


def test_compose_runs_the_bot_and_offers_postgresql_with_two_bots() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert "profiles" not in services["newsbot"]
    assert services["newsbot"]["volumes"][0] == "newsbot-data:/data"
    alternative = {n for n, s in services.items() if "postgres" in s.get("profiles", [])}
    assert alternative == {"postgres", "newsbot-pg-1", "newsbot-pg-2"}
    roles = {services[n]["environment"]["NEWSBOT_ROLES"] for n in ("newsbot-pg-1", "newsbot-pg-2")}
    assert roles == {"poll,deliver,chat", "poll,deliver"}  # one chat connection, two workers
    for name in ("newsbot-pg-1", "newsbot-pg-2"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def _engine() -> tuple[str | None, str]:
    """A container engine that can run containers here, or why there is none."""
    why = []
    for engine in ("docker", "podman"):
        if shutil.which(engine) is None:
            why.append(f"no {engine}")
            continue
        probe = subprocess.run(
            [engine, "info"], capture_output=True, text=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return engine, ""
        last = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or ["?"]
        why.append(f"{engine}: {last[0]}")
    return None, "; ".join(why)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_built_image_reports_healthy() -> None:
    engine, why = _engine()
    if engine is None:
        pytest.skip(f"no container engine can run here ({why})")
    tag = f"newsbot-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [engine, "build", "-t", tag, str(ROOT)], capture_output=True, text=True, check=False
    )
    if build.returncode != 0 and "pull" in (build.stderr + build.stdout).lower():
        last = (build.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"{engine} cannot pull the base image here: {last}")
    assert build.returncode == 0, build.stderr
    name = f"newsbot-health-{uuid.uuid4().hex[:8]}"
    run = subprocess.run(
        [engine, "run", "-d", "--name", name, tag], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    try:
        deadline = time.monotonic() + 90  # a guard, not a measurement
        while True:
            health = subprocess.run(
                [engine, "exec", name, "newsbot", "health"],
                capture_output=True,
                text=True,
                check=False,
            )
            if health.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert health.returncode == 0, health.stdout + health.stderr
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True, check=False)
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, check=False)
