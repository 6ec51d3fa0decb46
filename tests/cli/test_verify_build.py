"""`aligner verify --build` against a real Docker engine (tests/setup-machine.sh starts one and
makes the local base image). Never skipped: without an engine these tests fail, and say why.

The fixture repo tests/fixtures/repos/verify pins small real packages through ARGs; the tests that build
install them from the real package index inside the image (marked `network`). What the
images really hold is read independently of aligner: the base image's Python by running it,
the pins by reading the Dockerfiles' text.
"""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import processes
from tests.support.repos import copy_repo

BASE = "aligner-test-base:bookworm"
# the builds pip install the fixture's small packages (packaging, tomli) inside the image, from the real
# package index the base image's pip is configured for
NETWORK = pytest.mark.network


def docker(*args, **kw):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def engine():
    if docker("info").returncode != 0:
        pytest.fail("no Docker engine answers: run `sh tests/setup-machine.sh` as root (the README's test command does)")
    if docker("image", "inspect", BASE).returncode != 0:
        pytest.fail(f"no {BASE} image: run `sh tests/setup-machine.sh` as root")


def aligner(*args, cwd):
    return processes.run(*args, cwd=cwd, timeout=900)


def base_python() -> str:
    out = docker("run", "--rm", BASE, "python3", "-c", "import platform; print(platform.python_version())")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def arg_default(path: Path, name: str) -> str:
    return re.search(rf"^ARG {name}=(\S+)$", path.read_text(), re.M).group(1)


def set_pin(lock: Path, image: str, component: str, value: str) -> None:
    """Edit one pin of one image in the lock, by hand, as a person would."""
    text = lock.read_text()
    head = text.index(f'name = "{image}"')
    body_end = text.find("[[image]]", head)
    body = text[head:body_end if body_end > 0 else len(text)]
    new = re.sub(rf'^{re.escape(component)} = "[^"]*"$', f'{component} = "{value}"', body, count=1, flags=re.M)
    assert new != body
    lock.write_text(text.replace(body, new))


def clone(repo: Path, tmp_path: Path) -> Path:
    """The locked repo, without what an earlier verify wrote."""
    dst = tmp_path / "repo"
    shutil.copytree(repo, dst, ignore=shutil.ignore_patterns("logs", "verify.json"))
    return dst


def verify(repo: Path, *extra):
    report = repo / "verify.json"
    logs = repo / "logs"
    out = aligner("verify", "--build", "--host-secrets", "--jobs", "2", "--logs", str(logs), "--report", str(report),
                  *extra, cwd=repo)
    data = json.loads(report.read_text()) if report.exists() else None
    return out, data


def rows(data, image):
    entry = next(i for i in data["images"] if i["image"] == image)
    return entry, {r["component"]: r for r in entry["rows"]}


@pytest.fixture(scope="module")
def locked_repo(engine, tmp_path_factory):
    repo = copy_repo("verify", tmp_path_factory.mktemp("verify"))
    out = aligner("lock", cwd=repo)
    assert out.returncode == 0, out.stderr
    return repo


@NETWORK
def test_a_correct_lock_verifies_with_one_container_start_per_image(locked_repo):
    py = base_python()
    time.sleep(1)  # docker events counts whole seconds: keep that container out of the window
    since = int(time.time())
    out, data = verify(locked_repo)
    until = int(time.time()) + 1
    assert out.returncode == 0, out.stdout + out.stderr
    assert data["ok"] is True
    assert {i["image"] for i in data["images"]} == {"tools", "stack"}
    tools, found = rows(data, "tools")
    assert found["python"]["found"] == py and found["python"]["ok"] is True
    assert found["packaging"]["found"] == arg_default(locked_repo / "Dockerfile.tools", "PACKAGING_VERSION")
    assert found["cuda"]["found"] == arg_default(locked_repo / "Dockerfile.tools", "CUDA_VERSION")
    assert found["cuda"]["how"] == "CUDA_VERSION"
    # the chained image: Dockerfile.app was built on the image Dockerfile.base made
    stack, found = rows(data, "stack")
    assert found["packaging"]["found"] == arg_default(locked_repo / "Dockerfile.base", "PACKAGING_VERSION")
    assert found["tomli"]["found"] == re.search(r'"tomli==([^"]+)"', (locked_repo / "Dockerfile.app").read_text())[1]
    assert stack["build_args"][1]["BASE_IMAGE"] == "aligner-verify/stack-0:amd64"
    # every probe of an image ran in ONE container start (builds run no containers of the engine)
    events = docker("events", "--since", str(since), "--until", str(until), "--filter", "type=container",
                    "--filter", "event=start", "--format", "{{.Actor.Attributes.image}}")
    assert events.returncode == 0, events.stderr
    starts = events.stdout.split()
    assert sorted(starts) == sorted(i["tag"] for i in data["images"])
    # the table for people, and a build log per image kept where --logs says
    assert "verified: 2 image builds match the lock" in out.stdout
    assert sorted(p.name for p in (locked_repo / "logs").iterdir()) == ["stack-amd64.log", "tools-amd64.log"]


@NETWORK
def test_no_ca_bundle_or_proxy_ends_up_in_a_layer(locked_repo):
    out, data = verify(locked_repo, "--images", "tools")
    assert out.returncode == 0, out.stderr
    tag = data["images"][0]["tag"]
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag)
    assert history.returncode == 0
    assert "/run/secrets/ca" in history.stdout  # the secret was mounted for the RUN step ...
    files = docker("run", "--rm", "--entrypoint", "sh", tag, "-c", "ls /run/secrets 2>/dev/null | wc -l")
    assert files.stdout.strip() == "0"  # ... and is not in the image


@NETWORK
def test_a_wrong_lock_fails_naming_the_component_and_both_versions(locked_repo, tmp_path):
    repo = clone(locked_repo, tmp_path)
    lock = repo / "lock" / "aligner.lock"
    set_pin(lock, "stack", "tomli", "2.0.2")  # Dockerfile.app pins tomli literally: no build arg reaches it
    set_pin(lock, "stack", "python", "3.12")  # the base image's Python is what it is
    out, data = verify(repo)
    assert out.returncode == 1
    assert data["ok"] is False
    _, found = rows(data, "stack")
    tomli_pin = re.search(r'"tomli==([^"]+)"', (repo / "Dockerfile.app").read_text())[1]
    assert found["tomli"] == {"component": "tomli", "locked": "2.0.2", "found": tomli_pin, "ok": False,
                              "how": "importlib.metadata tomli"}
    assert found["python"]["locked"] == "3.12" and found["python"]["found"] == base_python()
    assert found["python"]["ok"] is False
    assert found["packaging"]["ok"] is True
    assert f"stack: tomli is locked at 2.0.2 but the image has {tomli_pin}" in out.stdout
    tools, _ = rows(data, "tools")
    assert tools["ok"] is True  # the other image is unaffected


@NETWORK
def test_a_failed_build_shows_its_log_tail_and_the_others_still_finish(locked_repo, tmp_path):
    repo = clone(locked_repo, tmp_path)
    set_pin(repo / "lock" / "aligner.lock", "tools", "packaging", "0.0.1")  # no such release
    out, data = verify(repo)
    assert out.returncode == 1
    tools, _ = rows(data, "tools")
    assert tools["ok"] is False and tools["error"] == "build of Dockerfile.tools failed (exit 1)"
    assert tools["rows"] == []
    log = repo / "logs" / "tools-amd64.log"
    assert "packaging==0.0.1" in log.read_text()
    assert "full log:" in out.stdout and "tools-amd64.log" in out.stdout
    assert "packaging==0.0.1" in out.stdout  # the tail of the log is shown
    stack, _ = rows(data, "stack")
    assert stack["ok"] is True and stack["error"] is None


def test_a_value_that_is_not_a_version_never_reaches_a_build(locked_repo, tmp_path):
    repo = clone(locked_repo, tmp_path)
    set_pin(repo / "lock" / "aligner.lock", "tools", "packaging", "23.2$(touch /tmp/pwned)")
    out, data = verify(repo)
    assert out.returncode == 2
    assert "lock/aligner.lock" in out.stderr and "is not a version" in out.stderr
    assert data is None and not (repo / "logs").exists()


def test_no_engine_is_a_clear_error_naming_docker_host(locked_repo):
    out = processes.run("verify", "--build", cwd=locked_repo, timeout=120,
                        extra={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert out.returncode == 2
    assert "unix:///nonexistent/docker.sock" in out.stderr and "Traceback" not in out.stderr
    out = processes.run("verify", "--build", cwd=locked_repo, timeout=120, extra={"ALIGNER_DOCKER": "no-such-docker-cli"})
    assert out.returncode == 2 and "no-such-docker-cli" in out.stderr


@NETWORK
def test_the_bake_builder_needs_buildx(locked_repo, tmp_path):
    repo = clone(locked_repo, tmp_path)
    has_buildx = docker("buildx", "version").returncode == 0
    out, data = verify(repo, "--builder", "bake")
    if has_buildx:  # a machine with buildx bakes the same images, and the probes agree
        assert out.returncode == 0 and data["ok"] is True
    else:
        assert out.returncode == 2 and "`docker buildx` is not installed" in out.stderr
