"""A version a build script passes is the version built: check judges it where it is written, the lock
takes it, fix rewrites it in the script, and the Dockerfile's own bytes stay as they are.

The repository is shaped as Dynamo's container/: a Dockerfile.vllm whose ARG VLLM_REF has no default
(the build always passes it) and a build.sh beside it that sets its defaults at the top and passes them
with --build-arg, the Dockerfile named through the script's own folder. Versions come from rules/snapshot.
"""

import json
from pathlib import Path

import pytest

from tests.support.example_facts import release, tomllib

# both releases this test writes require the Dockerfile's torch (rules/snapshot/vllm.json)
assert all("torch==2.8.0" in release("vllm", v)["requires-dist"] for v in ("0.10.2", "0.11.0"))

DOCKERFILE = """ARG BASE_IMAGE_TAG=12.8.1-devel-ubuntu24.04
FROM nvidia/cuda:${BASE_IMAGE_TAG}
ARG PYTHON_VERSION=3.12
ARG VLLM_REF
ARG TORCH_VERSION=2.8.0
RUN uv pip install --system torch==${TORCH_VERSION}
RUN git clone https://github.com/vllm-project/vllm.git && cd vllm && git checkout ${VLLM_REF}
"""

SCRIPT = """#!/usr/bin/env bash
SOURCE_DIR=$(dirname "$(readlink -f "$0")")
VLLM_REF=${{VLLM_REF:-{vllm}}}
BUILD_ARGS=""
BUILD_ARGS+=" --build-arg VLLM_REF=${{VLLM_REF}} "
$RUN_PREFIX docker build -f ${{SOURCE_DIR}}/Dockerfile.vllm $BUILD_ARGS "$(dirname "$SOURCE_DIR")"
"""

UPSTREAM = '[project]\nname = "team"\nversion = "1"\n[project.optional-dependencies]\nvllm = ["vllm=={vllm}"]\n'


def repo(tmp_path: Path, vllm="v0.11.0", config_extra="", upstream=None) -> Path:
    d = tmp_path / "repo"
    (d / "container").mkdir(parents=True)
    (d / "container" / "Dockerfile.vllm").write_text(DOCKERFILE)
    (d / "container" / "build.sh").write_text(SCRIPT.format(vllm=vllm))
    cfg = 'platforms = ["linux/amd64"]\n'
    if upstream:
        (d / "pyproject.up.toml").write_text(UPSTREAM.format(vllm=upstream))
        cfg = 'upstream = "pyproject.up.toml"\n' + cfg
    cfg += '[images.vllm]\ndockerfile = "container/Dockerfile.vllm"\n' + config_extra
    if upstream:
        cfg += 'extra = "vllm"\n'
    (d / "aligner.toml").write_text(cfg)
    return d


def findings(run_aligner, d, *args):
    result = run_aligner("check", "--no-cache", "--format", "json", *args, cwd=d)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


def line_of(path: Path, text: str) -> int:
    (n,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return n


def test_the_script_pins_what_the_dockerfile_leaves_to_the_build(tmp_path, run_aligner):
    d = repo(tmp_path)
    found = findings(run_aligner, d)
    assert not [f for f in found if f["code"] in ("AL001", "AL013")], found  # VLLM_REF is the script's v0.11.0
    lock = run_aligner("lock", cwd=d)
    assert lock.returncode == 0, lock.stderr
    pins = tomllib.loads((d / "lock" / "aligner.lock").read_text())["image"][0]
    assert pins["pins"]["vllm"] == "0.11.0"
    assert pins["why"]["vllm"] == f"kept the pin of container/build.sh:{line_of(d / 'container' / 'build.sh', 'VLLM_REF=${VLLM_REF:-')}"


def test_without_the_script_the_arg_is_set_at_build_time(tmp_path, run_aligner):
    d = repo(tmp_path)
    (d / "container" / "build.sh").unlink()
    found = findings(run_aligner, d)
    use = line_of(d / "container" / "Dockerfile.vllm", "git checkout ${VLLM_REF}")
    assert {(f["code"], f["path"], f["line"]) for f in found} == {
        ("AL013", "container/Dockerfile.vllm", use), ("AL012", "lock/aligner.lock", 1)}, found
    # and the lock takes a vllm that keeps the Dockerfile's torch: an unknown pin never moves a written one
    assert run_aligner("lock", cwd=d).returncode == 0
    vllm = tomllib.loads((d / "lock" / "aligner.lock").read_text())["image"][0]["pins"]["vllm"]
    assert "torch==2.8.0" in release("vllm", vllm)["requires-dist"]


def test_a_mismatch_is_found_where_the_value_is_written_and_fixed_there(tmp_path, run_aligner):
    """The upstream pins vllm 0.10.2; the script passes v0.11.0: AL002 in build.sh, and fix rewrites build.sh
    (keeping its `v`), leaving every byte of the Dockerfile as it was."""
    d = repo(tmp_path, upstream="0.10.2")
    script, dockerfile = d / "container" / "build.sh", d / "container" / "Dockerfile.vllm"
    found = findings(run_aligner, d)
    (drift,) = [f for f in found if f["code"] == "AL002"]
    assert (drift["path"], drift["line"]) == ("container/build.sh", line_of(script, "VLLM_REF=${VLLM_REF:-"))
    assert drift["fix"]["replacement"] == "v0.10.2" and drift["fix"]["safe"] is False  # a downgrade
    before = dockerfile.read_bytes()
    result = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "r.json", cwd=d)
    assert result.returncode == 0, result.stderr
    assert "VLLM_REF=${VLLM_REF:-v0.10.2}" in script.read_text()
    assert dockerfile.read_bytes() == before
    report = json.loads((d / "r.json").read_text())
    assert {e["path"] for e in report["edits"]} == {"container/build.sh"}
    assert "+++ b/container/build.sh" in report["diff"]
    assert [f["code"] for f in findings(run_aligner, d)] == []


def test_the_lock_is_stale_once_the_script_changes(tmp_path, run_aligner):
    d = repo(tmp_path)
    assert run_aligner("lock", cwd=d).returncode == 0
    assert run_aligner("lock", "--check", cwd=d).returncode == 0
    script = d / "container" / "build.sh"
    script.write_text(script.read_text().replace("v0.11.0", "v0.10.2"))
    assert run_aligner("lock", "--check", cwd=d).returncode == 1
    assert "AL012" in {f["code"] for f in findings(run_aligner, d)}


def test_a_script_the_config_names_is_the_only_source(tmp_path, run_aligner):
    d = repo(tmp_path, config_extra='build-args = ["release.sh"]\n')
    (d / "release.sh").write_text('docker build -f container/Dockerfile.vllm --build-arg VLLM_REF=v0.10.2 .\n')
    result = run_aligner("lock", cwd=d)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads((d / "lock" / "aligner.lock").read_text())["image"][0]["pins"]["vllm"] == "0.10.2"


@pytest.mark.parametrize("text,message", [
    (None, "no such file 'missing.sh'"),
    ("docker build --build-arg VLLM_REF='v0.11.0 .\n", "missing.sh:1"),
])
def test_a_named_script_that_is_missing_or_unreadable_is_an_error(tmp_path, run_aligner, text, message):
    d = repo(tmp_path, config_extra='build-args = ["missing.sh"]\n')
    if text is not None:
        (d / "missing.sh").write_text(text)
    result = run_aligner("check", "--no-cache", cwd=d)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_found_script_that_cannot_be_read_is_passed_over(tmp_path, run_aligner):
    d = repo(tmp_path)
    (d / "tools.sh").write_text("echo 'unterminated\n")
    result = run_aligner("check", "--no-cache", cwd=d)
    assert result.returncode in (0, 1) and "tools.sh" not in result.stderr, result.stderr


def test_two_scripts_passing_different_versions_to_one_dockerfile_are_a_warning(tmp_path, run_aligner):
    d = repo(tmp_path)
    (d / "nightly.sh").write_text("docker build -f container/Dockerfile.vllm --build-arg VLLM_REF=v0.10.2 .\n")
    (found,) = [f for f in findings(run_aligner, d) if f["code"] == "AL009"]
    assert found["severity"] == "warning" and found["path"] in ("nightly.sh", "container/build.sh")
    other = "container/build.sh" if found["path"] == "nightly.sh" else "nightly.sh"
    assert f" at {other}:" in found["message"] and {"v0.10.2", "v0.11.0"} <= set(found["message"].replace("=", " ").split())


def test_a_compose_default_is_checked_and_fixed_where_it_is_written(tmp_path, run_aligner):
    """Shaped as SGLang's docker/docker-compose.envs.yaml: the context one folder up, the Dockerfile named from
    it, the version an interpolation's default."""
    d = repo(tmp_path, upstream="0.10.2")
    (d / "container" / "build.sh").unlink()
    compose = d / "container" / "compose.yaml"
    compose.write_text("services:\n  vllm:\n    build:\n      context: ..\n"
                       "      dockerfile: container/Dockerfile.vllm\n      args:\n"
                       "        - VLLM_REF=${VLLM_REF:-v0.11.0}\n")
    (drift,) = [f for f in findings(run_aligner, d) if f["code"] == "AL002"]
    assert (drift["path"], drift["line"]) == ("container/compose.yaml", 7)
    before = (d / "container" / "Dockerfile.vllm").read_bytes()
    assert run_aligner("fix", "--apply", "--unsafe-fixes", cwd=d).returncode == 0
    assert "${VLLM_REF:-v0.10.2}" in compose.read_text()
    assert (d / "container" / "Dockerfile.vllm").read_bytes() == before


def test_a_workflow_env_value_is_checked_and_fixed_where_it_is_written(tmp_path, run_aligner):
    """Shaped as vllm-ascend's image workflow: build-push-action's build-args take the version from the
    workflow's env."""
    d = repo(tmp_path, upstream="0.10.2")
    (d / "container" / "build.sh").unlink()
    flows = d / ".github" / "workflows"
    flows.mkdir(parents=True)
    flow = flows / "image.yml"
    flow.write_text("on: [push]\nenv:\n  VLLM_REF: v0.11.0\njobs:\n  image:\n    runs-on: ubuntu-latest\n"
                    "    steps:\n      - uses: docker/build-push-action@v6\n        with:\n"
                    "          context: .\n          file: container/Dockerfile.vllm\n"
                    "          build-args: |\n            VLLM_REF=${{ env.VLLM_REF }}\n")
    (drift,) = [f for f in findings(run_aligner, d) if f["code"] == "AL002"]
    assert (drift["path"], drift["line"]) == (".github/workflows/image.yml", 3)
    assert run_aligner("fix", "--apply", "--unsafe-fixes", cwd=d).returncode == 0
    assert "  VLLM_REF: v0.10.2\n" in flow.read_text()
    assert [f["code"] for f in findings(run_aligner, d)] == []


def test_verify_and_bake_build_with_what_the_script_passes_and_the_lock_decides(tmp_path, run_aligner):
    d = repo(tmp_path)
    script = d / "container" / "build.sh"
    script.write_text(script.read_text().replace(
        'BUILD_ARGS+=" --build-arg VLLM_REF=${VLLM_REF} "',
        'BUILD_ARGS+=" --build-arg VLLM_REF=${VLLM_REF} --build-arg MAX_JOBS=4 --build-arg GIT_SHA=$(git rev-parse HEAD) "'))
    assert run_aligner("lock", cwd=d).returncode == 0
    result = run_aligner("bake", "--print", cwd=d)
    assert result.returncode == 0, result.stderr
    (target,) = json.loads(result.stdout)["target"].values()
    args = target["args"]
    assert args["MAX_JOBS"] == "4"  # what the script passes
    assert "GIT_SHA" not in args  # known only when the script runs: not passed
    locked = tomllib.loads((d / "lock" / "aligner.lock").read_text())["image"][0]["pins"]["vllm"]
    assert args["VLLM_REF"] == f"v{locked}"  # the lock's value, in the script's form


def test_a_bake_variable_default_is_checked_and_fixed_where_it_is_written(tmp_path, run_aligner):
    """Shaped as vLLM's docker/docker-bake.hcl: a variable whose default a target's args name."""
    d = repo(tmp_path, upstream="0.10.2")
    (d / "container" / "build.sh").unlink()
    hcl = d / "docker-bake.hcl"
    hcl.write_text('variable "VLLM_REF" {\n  default = "v0.11.0"\n}\n'
                   'target "vllm" {\n  dockerfile = "container/Dockerfile.vllm"\n  context = "."\n'
                   '  args = {\n    VLLM_REF = VLLM_REF\n  }\n}\n')
    (drift,) = [f for f in findings(run_aligner, d) if f["code"] == "AL002"]
    assert (drift["path"], drift["line"]) == ("docker-bake.hcl", 2)
    assert run_aligner("fix", "--apply", "--unsafe-fixes", cwd=d).returncode == 0
    assert '  default = "v0.10.2"\n' in hcl.read_text()
    assert [f["code"] for f in findings(run_aligner, d)] == []


def test_pins_lists_a_passed_version_at_the_line_that_sets_it(tmp_path, run_aligner):
    d = repo(tmp_path)
    result = run_aligner("pins", "--format", "json", "container", cwd=d)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    pins = doc["pins"] if isinstance(doc, dict) else doc
    vllm = [p for p in pins if p["component"] == "vllm"]
    line = line_of(d / "container" / "build.sh", "VLLM_REF=${VLLM_REF:-")
    assert vllm and all((p["path"], p["line"]) == ("container/build.sh", line) for p in vllm), vllm
