"""The release a city installs, and the workflows that build and run it (issue 25).

* ``.ci/release-check``, the script ``.github/workflows/release.yml`` runs on a tag, runs here
  on every change: it builds the sdist and the wheel, checks them with twine, installs the
  wheel into a new virtual environment outside the checkout and runs the README's Quick start
  from it.
* The shared-store install line works with Python 3.11's own pip (23.2.1): a site whose
  ``requirements.txt`` holds a ``git+`` line installs the PostgreSQL driver as the scaffolded
  workflow does, where the old form ends in ``ResolutionImpossible``.
* Every workflow (this repository's and the one ``feedkit init`` writes) passes zizmor offline at
  its strictest persona, the GitHub Actions and Dependabot schemas, and pins every action by
  commit hash with its version in a comment; permissions are per job.

No test here reaches the internet: pip installs from a wheelhouse folder (``--no-index``), filled
from the package index once (``.tools/wheelhouse``, like the other tools under ``.tools/``);
without the index and without that folder these tests skip and say why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from feedkit import __version__

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SCAFFOLD = REPO / "templates" / "scaffold"
ALL_WORKFLOWS = [*WORKFLOWS, SCAFFOLD / "feedkit.yml"]
DEPENDABOT = [REPO / ".github" / "dependabot.yml", SCAFFOLD / "dependabot.yml"]
PIP_23 = "pip==23.2.1"   # what Python 3.11's ensurepip brings


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)   # YAML 1.1 reads a bare `on` as true
    return data


def tool(name: str) -> str:
    """A console script installed with the test extras, next to this interpreter."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.skip(f"needs {name}: pip install -e '.[test]'")
    return found


# -- a wheelhouse, so that pip never needs the network while testing ---------------------------


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """Wheels of everything the release installs: feedkit's dependencies with the postgres
    extra, its build backend (hatchling, for the isolated builds) and pip 23.2.1."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [*meta["project"]["dependencies"],
              *meta["project"]["optional-dependencies"]["postgres"],
              *meta["build-system"]["requires"], PIP_23]
    house = REPO / ".tools" / "wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    # Filled before, and still enough? (pip resolves against the folder alone.)
    enough = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
                             "--ignore-installed", "--no-index", "--find-links", str(house),
                             "--disable-pip-version-check", *wanted],
                            capture_output=True, text=True, timeout=300)
    if enough.returncode == 0:
        return house
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet",
                           "--disable-pip-version-check", "--wheel-dir", str(house), *wanted],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip("could not fill .tools/wheelhouse from the package index: "
                    + (done.stderr.strip().splitlines() or ["no reason given"])[-1])
    return house


def offline_env(house: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "FEEDKIT_CONFIG", "FEEDKIT_STORE_URL")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(house), PIP_DISABLE_PIP_VERSION_CHECK="1",
               **extra)
    return env


# -- the release ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_release_builds_installs_and_runs_the_quick_start_outside_the_checkout(
        tmp_path, wheelhouse):
    dist = tmp_path / "dist"
    done = subprocess.run(["bash", str(REPO / ".ci" / "release-check"), str(dist)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env=offline_env(wheelhouse, PYTHON=sys.executable,
                                          RELEASE_TAG=f"v{__version__}", TMPDIR=str(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # The README's Quick start, from the README, ran against the installed wheel.
    for command in ("feedkit import", "feedkit build", "feedkit validate"):
        assert f"release-check: + {command}\n" in out
    assert "all feeds valid" in out
    assert out.rstrip().endswith(f"ok: feedkit {__version__} installs from its wheel and runs "
                                 "the Quick start outside the checkout")
    assert "PASSED" in out and "FAILED" not in out          # twine check, both files
    assert sorted(p.name for p in dist.iterdir()) == [
        f"feedkit_city-{__version__}-py3-none-any.whl", f"feedkit_city-{__version__}.tar.gz"]
    # Nothing was left in the checkout, and the temporary environment is gone.
    assert not (REPO / "build").exists()
    assert not list(tmp_path.glob("feedkit-release.*"))


def test_a_tag_that_is_not_the_version_is_refused_before_anything_is_built(tmp_path):
    done = subprocess.run(["bash", str(REPO / ".ci" / "release-check"), str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RELEASE_TAG": "v99.0.0", "TMPDIR": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip() == (f"release-check: tag v99.0.0 does not match "
                                   f"feedkit/__init__.py's version {__version__} "
                                   f"(tag v{__version__})")
    assert list((tmp_path / "d").iterdir()) == []


def test_the_release_workflow_runs_the_checked_script_then_publishes_without_a_token():
    data = load(REPO / ".github" / "workflows" / "release.yml")
    assert data["on"] == {"push": {"tags": ["v*"]}}
    build, publish = data["jobs"]["build"], data["jobs"]["publish"]
    check = next(s for s in build["steps"] if ".ci/release-check" in s.get("run", ""))
    assert check["run"] == "bash .ci/release-check dist"
    assert check["env"]["RELEASE_TAG"] == "${{ github.ref_name }}"
    uploaded = next(s for s in build["steps"] if "upload-artifact" in s.get("uses", ""))
    assert uploaded["with"]["path"] == "dist/"
    # Publishing happens only after the build job, from its files, with trusted publishing:
    # the OIDC permission on this job alone, no password or token anywhere.
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    [action] = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert "with" not in action
    code = "\n".join(line.split("#")[0] for line in (
        REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8").splitlines())
    assert "secrets." not in code and "password" not in code


def test_one_version_everywhere():
    """feedkit/__init__.py is the one place the version is written: the build reads it
    (hatch), `feedkit --version` shows it, and CHANGELOG.md has its section."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["dynamic"] == ["version"]
    assert meta["tool"]["hatch"]["version"] == {"path": "feedkit/__init__.py"}
    assert "version" not in meta["project"]
    version = subprocess.run([sys.executable, "-m", "feedkit", "--version"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == f"feedkit, version {__version__}"
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(__version__)} — ", changelog, re.M)


# -- pip 23.2.1 and the postgres extra -----------------------------------------------------------


def _git_repository_of_this_checkout(dest: Path) -> str:
    """A git repository holding this checkout's files as they are now (committed or not),
    as a city's requirements.txt would point at; returns its commit."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    git = ["git", "-C", str(dest), "-c", "user.name=feedkit test",
           "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "feedkit"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _workflow_step(name: str) -> str:
    steps = load(SCAFFOLD / "feedkit.yml")["jobs"]["update"]["steps"]
    return next(s["run"] for s in steps if s.get("name") == name)


@pytest.mark.slow
def test_pip_23_installs_the_postgres_driver_beside_a_git_requirement(tmp_path, wheelhouse):
    source = tmp_path / "feedkit-src"
    commit = _git_repository_of_this_checkout(source)
    site = tmp_path / "site"
    site.mkdir()
    # What `feedkit init` writes after a git install (file://localhost: pip 23's parser wants
    # a host in a URL requirement; a city's is https://github.com/...).
    url = f"git+file://localhost{source.as_posix()}@{commit}"
    (site / "requirements.txt").write_text(f"feedkit-city @ {url}\n", encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = offline_env(wheelhouse, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # The index offers a feedkit-city release too, as PyPI does once one is published.
    index = tmp_path / "index"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--wheel-dir", str(index), str(source)], env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    env["PIP_FIND_LINKS"] = f"{wheelhouse} {index}"

    def sh(script: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=site, env=env,
                              capture_output=True, text=True, timeout=600)

    assert sh(f"python -m pip install --quiet '{PIP_23}'").returncode == 0
    assert sh("pip --version").stdout.startswith("pip 23.2.1 ")
    # The old install line: the same feedkit twice, once with the extra, cannot be resolved.
    old = sh('pip install -r requirements.txt "feedkit-city[postgres]"')
    assert old.returncode != 0 and "ResolutionImpossible" in old.stdout + old.stderr
    # The scaffolded workflow's two install steps, as a shared-store run takes them.
    first = sh(_workflow_step("Install feedkit"))
    assert first.returncode == 0, first.stdout + first.stderr
    driver_step = _workflow_step("Install the PostgreSQL driver (shared store only)")
    assert sh("python -m feedkit.install --extra postgres").stdout == (
        f"feedkit-city[postgres] @ {url}\n")
    second = sh(driver_step)
    assert second.returncode == 0, second.stdout + second.stderr
    probe = sh("python -c 'import psycopg, feedkit.install as i; print(i.running_install()"
               ".requirement)'")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == f"feedkit-city @ {url}"   # still that commit, not another


# -- the workflows ---------------------------------------------------------------------------------


def test_every_workflow_passes_zizmor_offline_at_its_strictest():
    """zizmor's `auditor` persona reports everything, false positives included. Two findings
    are answered in feedkit.yml itself, each with its reason in a comment: the save step's push
    credential (artipacked) and the secrets being repository secrets (secrets-outside-env)."""
    zizmor = tool("zizmor")
    inputs = [str(p.relative_to(REPO)) for p in [*ALL_WORKFLOWS, *DEPENDABOT]]
    done = subprocess.run([zizmor, "--offline", "--no-progress", "--persona", "auditor",
                           "--format", "json", "--strict-collection", *inputs],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []
    for path in ALL_WORKFLOWS:
        ignores = re.findall(r"zizmor: ignore\[([\w-]+)\]", path.read_text(encoding="utf-8"))
        expected = ["secrets-outside-env", "artipacked"] if path.name == "feedkit.yml" else []
        assert ignores == expected, path


def test_workflows_and_dependabot_configs_match_their_schemas():
    checker = tool("check-jsonschema")
    for schema, files in (("vendor.github-workflows", ALL_WORKFLOWS),
                          ("vendor.dependabot", DEPENDABOT)):
        done = subprocess.run([checker, "--builtin-schema", schema, *map(str, files)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_by_hash_with_its_version_and_the_same_everywhere():
    seen: dict[str, tuple[str, str]] = {}
    for path in ALL_WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
            if not m:
                continue
            action, ref = m.group(1).split("@")
            assert re.fullmatch(r"[0-9a-f]{40}", ref), (path.name, line)
            version = re.fullmatch(r" # (v\d+\.\d+\.\d+)", m.group(2))
            assert version, (path.name, line)
            pin = (ref, version.group(1))
            assert seen.setdefault(action, pin) == pin, f"{action} pinned two ways"
    assert {"actions/checkout", "actions/setup-python", "actions/upload-pages-artifact",
            "actions/deploy-pages", "pypa/gh-action-pypi-publish"} <= set(seen)
    # Dependabot updates those pins, here and in every site `feedkit init` makes.
    for path in DEPENDABOT:
        updates = yaml.safe_load(path.read_text(encoding="utf-8"))["updates"]
        assert [u["package-ecosystem"] for u in updates] == ["github-actions"]


def test_permissions_are_granted_per_job_and_only_the_pushing_job_keeps_its_credential():
    for path in ALL_WORKFLOWS:
        data = load(path)
        assert data["permissions"] in ({}, {"contents": "read"}), path.name
        for name, job in data["jobs"].items():
            granted = job.get("permissions", {})
            writes = sorted(k for k, v in granted.items() if v == "write")
            # a step pushes with git itself, or through `feedkit state save` (which pushes)
            pushes = any("git push" in s.get("run", "") or "feedkit state save" in s.get("run", "")
                         for s in job.get("steps", []))
            expected = {("feedkit.yml", "update"): ["contents"],
                        ("feedkit.yml", "deploy"): ["id-token", "pages"],
                        ("release.yml", "publish"): ["id-token"]}.get((path.name, name), [])
            assert writes == expected, (path.name, name)
            assert pushes == ((path.name, name) == ("feedkit.yml", "update"))
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is pushes, (path.name, name)
