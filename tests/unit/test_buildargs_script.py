"""Build commands in shell scripts: each --build-arg value with its exact bytes, or unknown when only the
running script knows it. The scripts are written here in the shapes of real public ones (each names the
file it follows); no line is copied from them."""

import pytest

from aligner.base.errors import InputError
from aligner.read.buildargs import link, script
from tests.support.traced import held

# ai-dynamo/dynamo container/build.sh: plain defaults at the top, build args gathered into one string that
# the final command expands unquoted, the Dockerfile under the script's own folder, a dry-run prefix
DYNAMO = b"""#!/usr/bin/env bash
set -e
SOURCE_DIR=$(dirname "$(readlink -f "$0")")
NIXL_REF=0.7.1
VLLM_BASE_IMAGE_TAG="25.01-cuda12.8-devel-ubuntu24.04"
BUILD_ARGS=""
BUILD_ARGS+=" --build-arg NIXL_REF=${NIXL_REF} "
BUILD_ARGS+=" --build-arg BASE_IMAGE_TAG=$VLLM_BASE_IMAGE_TAG "
DOCKERFILE=${SOURCE_DIR}/Dockerfile.vllm
BUILD_CONTEXT=$(dirname "$(readlink -f "$SOURCE_DIR")")
$RUN_PREFIX docker build -f $DOCKERFILE $BUILD_ARGS --tag dynamo:latest-vllm $BUILD_CONTEXT
"""

# LMCache docker/example_build.sh: a default of a default, the value passed unquoted, --file and a context
LMCACHE = b"""#!/bin/bash
VLLM_VERSION="${VLLM_VERSION:-${PINNED_VLLM_VERSION:-0.11.0}}"
DOCKERFILE_NAME=Dockerfile
DOCKER_BUILD_PATH='../'
docker build --build-arg CUDA_VERSION=12.8 --build-arg VLLM_VERSION=$VLLM_VERSION \\
    --target image-release --file $DOCKERFILE_NAME $DOCKER_BUILD_PATH
"""

# vllm-project/aibrix build/container/README.md: the documented build command, as a script
AIBRIX = b"""docker build -f Dockerfile.vllm \\
  --build-arg VLLM_VERSION=v0.10.2 \\
  --build-arg AIBRIX_BRANCH=v0.5.0 \\
  --build-arg NIXL_VERSION=0.7.1 \\
  -t aibrix/vllm-openai:v0.10.2-aibrix-v0.5.0-nixl-0.7.1-$(date +'%Y%m%d') .
"""

# eugr/spark-vllm-docker build-and-copy.sh: the command held in an array, flag and value as two elements
SPARK = b"""#!/bin/bash
VLLM_REF="main"
GPU_ARCH_LIST="12.1a"
VLLM_CMD=("docker" "build" "--target" "vllm-export" "--build-arg" "TORCH_CUDA_ARCH_LIST=$GPU_ARCH_LIST" "--build-arg" "VLLM_REF=$VLLM_REF" ".")
"${VLLM_CMD[@]}"
"""


def args(inv):
    return {a.name: a for a in inv.args}


def test_dynamo_build_args_gathered_in_a_string_are_traced_to_their_defaults():
    (inv,) = script.read("build.sh", DYNAMO)
    got = args(inv)
    assert set(got) == {"NIXL_REF", "BASE_IMAGE_TAG"}
    assert got["NIXL_REF"].value.text == "0.7.1" and held(DYNAMO, got["NIXL_REF"]) == "0.7.1"
    line = DYNAMO.decode().splitlines().index("NIXL_REF=0.7.1") + 1
    assert got["NIXL_REF"].value.origin_of(0, 5) == "build.sh"
    assert held(DYNAMO, got["BASE_IMAGE_TAG"]) == "25.01-cuda12.8-devel-ubuntu24.04"
    assert (inv.dockerfile, inv.partial) == ("/Dockerfile.vllm", True)  # ${SOURCE_DIR} is known only when it runs
    assert inv.context is None
    assert inv.line == len(DYNAMO.decode().splitlines()) and line == 4


def test_lmcache_default_of_a_default_and_file_and_target():
    (inv,) = script.read("example_build.sh", LMCACHE)
    got = args(inv)
    assert got["VLLM_VERSION"].value.text == "0.11.0" and held(LMCACHE, got["VLLM_VERSION"]) == "0.11.0"
    assert held(LMCACHE, got["CUDA_VERSION"]) == "12.8"
    assert (inv.dockerfile, inv.context, inv.target) == ("Dockerfile", "../", "image-release")


def test_aibrix_readme_command_gives_literal_values_and_its_dockerfile():
    (inv,) = script.read("build.sh", AIBRIX)
    got = args(inv)
    assert {k: held(AIBRIX, v) for k, v in got.items()} == {
        "VLLM_VERSION": "v0.10.2", "AIBRIX_BRANCH": "v0.5.0", "NIXL_VERSION": "0.7.1"}
    assert [a.line for a in inv.args] == [2, 3, 4]
    assert (inv.dockerfile, inv.context) == ("Dockerfile.vllm", ".")


def test_spark_command_in_an_array():
    (inv,) = script.read("build-and-copy.sh", SPARK)
    got = args(inv)
    assert held(SPARK, got["TORCH_CUDA_ARCH_LIST"]) == "12.1a" and held(SPARK, got["VLLM_REF"]) == "main"
    assert inv.target == "vllm-export"


@pytest.mark.parametrize("line,unknown", [
    ("docker build --build-arg VLLM_REF=$1 .", True),  # the script's argument
    ("docker build --build-arg VLLM_REF=$(git describe) .", True),  # computed when it runs
    ("docker build --build-arg VLLM_REF .", True),  # the environment's value
    ("docker build --build-arg=VLLM_REF=v0.11.0 .", False),
    ("podman build --build-arg VLLM_REF=v0.11.0 .", False),
    ("sudo DOCKER_BUILDKIT=1 docker buildx build --build-arg VLLM_REF=v0.11.0 .", False),
])
def test_values_known_and_unknown(line, unknown):
    (inv,) = script.read("b.sh", line.encode() + b"\n")
    (arg,) = inv.args
    assert arg.name == "VLLM_REF" and arg.value.unknown == unknown
    if not unknown:
        assert held(line.encode(), arg) == "v0.11.0"


def test_an_arg_whose_name_is_known_only_when_the_script_runs_is_left_out():
    """ai-dynamo/dynamo container/build.sh passes `--build-arg ${FRAMEWORK}_FRAMEWORK=1`."""
    (inv,) = script.read("b.sh", b'FRAMEWORK=${FRAMEWORK^^}\ndocker build --build-arg ${FRAMEWORK}_FRAMEWORK=1 --build-arg X=1 .\n')
    assert [a.name for a in inv.args] == ["X"]


def test_commands_that_build_nothing_are_not_builds():
    data = b"docker run --build-arg X=1 img\ndocker push img\necho docker build --build-arg X=1 .\nmake build\n"
    assert script.read("b.sh", data) == []


def test_a_script_the_shell_reader_cannot_follow_is_an_error_naming_its_line():
    with pytest.raises(InputError) as err:
        script.read("b.sh", b"echo ok\ndocker build --build-arg X='unterminated .\n")
    assert err.value.path == "b.sh" and err.value.line == 2


def test_named_sources_report_errors_and_found_ones_are_passed_over(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "bad.sh").write_bytes(b"docker build --build-arg X='unterminated .\n")
    read = lambda p: (tmp_path / p).read_bytes()
    assert [e.path for e in link.given(str(tmp_path / "Dockerfile"), ["bad.sh"], read, tmp_path).errors] == ["bad.sh"]
    assert link.given(str(tmp_path / "Dockerfile"), ["bad.sh"], read, tmp_path, named=False).errors == []


def test_which_builds_build_which_dockerfile(tmp_path):
    (tmp_path / "container").mkdir()
    df = tmp_path / "container" / "Dockerfile.vllm"
    df.write_text("FROM python:3.12\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")

    def inv(line, where="build.sh"):
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / where).write_bytes(line.encode() + b"\n")
        (found,) = script.read(str(tmp_path / where), line.encode() + b"\n")
        return found

    assert link.builds(inv("docker build -f container/Dockerfile.vllm ."), str(df), tmp_path)  # from the root
    assert link.builds(inv("docker build -f Dockerfile.vllm .", "container/b.sh"), str(df), tmp_path)  # its folder
    assert link.builds(inv("docker build -f ${D}/Dockerfile.vllm ."), str(df), tmp_path)  # by its known end
    assert not link.builds(inv("docker build -f ${D}/Dockerfile.sglang ."), str(df), tmp_path)
    assert link.builds(inv("docker build container"), str(tmp_path / "container" / "Dockerfile"), tmp_path)
    assert link.builds(inv("docker build ."), str(tmp_path / "Dockerfile"), tmp_path)  # the context's Dockerfile


def test_two_builds_passing_different_values_are_recorded(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "a.sh").write_bytes(b"docker build --build-arg VLLM_REF=v0.10.2 .\n")
    (tmp_path / "b.sh").write_bytes(b"docker build --build-arg VLLM_REF=v0.11.0 .\n")
    got = link.given(str(tmp_path / "Dockerfile"), ["a.sh", "b.sh"], lambda p: (tmp_path / p).read_bytes(), tmp_path)
    assert got.args["VLLM_REF"].text == "v0.10.2"  # the first build decides
    ((name, taken, other),) = got.disagree
    assert (name, taken.value.text, other.value.text) == ("VLLM_REF", "v0.10.2", "v0.11.0")
