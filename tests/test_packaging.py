"""`pip install newsbot` from what `python -m build` makes: the sdist, and the wheel built
from it, installed into a fresh virtual environment that sees none of this tree.

Offline: the build runs without isolation on the setuptools this project's .venv has
(pyproject's dev extra pins it), the wheel is installed with --no-index --no-deps, and
the new environment reaches the dependencies through a .pth line naming the project
.venv's site-packages, added after the install (so pip never sees the editable install
there). A .pth line only extends sys.path; the editable finder in that directory is not
run, so `bot` can come only from the installed wheel, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from bot import __version__

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Without PYTHONPATH: a source tree named there would shadow the installed package.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel of a clean copy of the tree (the build writes build/ and
    *.egg-info beside the sources: never in the shared working tree)."""
    work = tmp_path_factory.mktemp("package")
    source = work / "src"
    source.mkdir()
    shutil.copytree(
        ROOT / "bot",
        source / "bot",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = work / "dist"
    # sdist first, then the wheel built from the unpacked sdist: a file the sdist
    # forgets makes the wheel (or the demo) fail here.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ".", cwd=source)
    return out


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (from the base interpreter, without pip) with the wheel in it."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run(sys._base_executable, "-m", "venv", "--without-pip", venv)  # type: ignore[attr-defined]
    python = venv / "bin" / "python"
    [wheel] = dist.glob("newsbot-*.whl")
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", wheel
    )
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (site / "zz_newsbot_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_sdist_and_wheel_hold_the_package_data(dist: Path) -> None:
    [sdist] = dist.glob(f"newsbot-{__version__}.tar.gz")
    [wheel] = dist.glob(f"newsbot-{__version__}-*.whl")
    with tarfile.open(sdist) as tar:
        in_sdist = {
            Path(n).relative_to(f"newsbot-{__version__}").as_posix() for n in tar.getnames()[1:]
        }
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
    for name in ("bot/samples/europe_desk.xml", "bot/store/migrations/0001_initial.sql"):
        assert name in in_wheel
        assert name in in_sdist
    assert "bot/core/matching/_matchcore.c" in in_sdist
    assert any(n.startswith("bot/store/postgres/migrations/") for n in in_wheel)
    compiled = [n for n in in_wheel if n.startswith("bot/core/matching/_matchcore")]
    if shutil.which("gcc") or shutil.which("cc"):
        assert compiled, "a C compiler is here, so the wheel carries the compiled core"
    entry = next(n for n in in_wheel if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "newsbot = bot.cli:main" in zf.read(entry).decode()


def test_installed_wheel_runs_version_and_demo(installed: Path, tmp_path: Path) -> None:
    newsbot = installed / "bin" / "newsbot"
    python = installed / "bin" / "python"
    where = _run(python, "-c", "import bot; print(bot.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(installed)), where  # the wheel's, not this tree's
    assert _run(newsbot, "--version", cwd=tmp_path).stdout.strip() == f"newsbot {__version__}"
    demo = _run(newsbot, "demo", cwd=tmp_path).stdout
    blocks = demo.split("\n\n")
    seed = next(b for b in blocks if "Russia-US talks on security guarantees" in b)
    assert "Matched: Russia, NATO, Ukraine" in seed
    # Alerts from every bundled sample feed: the package lost no sample or migration.
    assert len([b for b in blocks if "newsbot alert" in b]) >= 3
    assert "Webb telescope" not in demo  # and the matcher still leaves the rest out
