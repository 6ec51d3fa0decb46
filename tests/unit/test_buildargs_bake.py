"""Build arguments in Docker Bake files, each value traced to its bytes. The files are written here in the
shapes of real ones (each names the file it follows); no line is copied from them."""

import pytest

from aligner.base.errors import InputError
from aligner.read.buildargs import bake
from tests.support.traced import held

# vllm-project/vllm docker/docker-bake.hcl: variables with string and number defaults, a base target with the
# Dockerfile and context, args as bare variable names, a child that inherits it and adds its own
VLLM = b"""variable "MAX_JOBS" {
  default = 16
}

variable "CUDA_VERSION" {
  default = "12.9.1"
}

target "_common" {
  dockerfile = "docker/Dockerfile"
  context    = "."
  args = {
    max_jobs     = MAX_JOBS
    CUDA_VERSION = CUDA_VERSION
  }
}

target "openai" {
  inherits = ["_common"]
  target   = "vllm-openai"
  args = {
    UBUNTU_VERSION = "24.04"
    GIT_SHA        = BUILDKITE_COMMIT
    BUILD_DATE     = timestamp()
  }
}

group "default" {
  targets = ["openai"]
}
"""

# runpod-workers/worker-vllm docker-bake.hcl: a quoted interpolation of a variable beside a literal
RUNPOD = b"""variable "BASE_IMAGE_VERSION" {
  default = "v1.4.0"
}
target "worker-vllm" {
  dockerfile = "Dockerfile"
  args = {
    BASE_IMAGE_VERSION = "${BASE_IMAGE_VERSION}"
    WORKER_CUDA_VERSION = "12.1.0"
  }
}
"""


def test_vllm_targets_inherit_and_follow_variable_defaults():
    (inv,) = bake.read("docker/docker-bake.hcl", VLLM)  # _common is a base, not a build
    args = {a.name: a for a in inv.args}
    assert held(VLLM, args["max_jobs"]) == "16" and held(VLLM, args["CUDA_VERSION"]) == "12.9.1"
    assert held(VLLM, args["UBUNTU_VERSION"]) == "24.04"
    assert args["GIT_SHA"].value.unknown and args["BUILD_DATE"].value.unknown  # undeclared, and computed
    assert (inv.dockerfile, inv.context, inv.target) == ("docker/Dockerfile", ".", "vllm-openai")


def test_a_quoted_interpolation_is_the_variable_default():
    (inv,) = bake.read("docker-bake.hcl", RUNPOD)
    args = {a.name: a for a in inv.args}
    assert held(RUNPOD, args["BASE_IMAGE_VERSION"]) == "v1.4.0"
    assert held(RUNPOD, args["WORKER_CUDA_VERSION"]) == "12.1.0"
    assert args["WORKER_CUDA_VERSION"].line == 8


@pytest.mark.parametrize("data", [b'target "x" {\n  args = {\n', b'variable "V" { default = "a" \n', b"{" * 5000])
def test_a_malformed_bake_file_is_an_error(data):
    with pytest.raises(InputError) as err:
        bake.read("docker-bake.hcl", data)
    assert err.value.path == "docker-bake.hcl"


def test_which_files_are_bake_files():
    assert bake.is_bake("docker-bake.hcl") and bake.is_bake("docker/docker-bake.override.hcl")
    assert not bake.is_bake("main.hcl") and not bake.is_bake("bake.json")


# nebari-dev/nebari-docker-images docker-bake.json: variables with defaults, `${VAR}` inside strings, targets
# that inherit a base
JSON = b"""{
  "variable": {
    "VLLM_VERSION": {"default": "0.11.0"},
    "TAG": {"default": "latest"}
  },
  "target": {
    "_base": {"context": ".", "dockerfile": "docker/Dockerfile"},
    "vllm": {
      "inherits": ["_base"],
      "args": {"VLLM_VERSION": "${VLLM_VERSION}", "TORCH": "2.8.0", "SHA": "${GIT_SHA}"}
    }
  }
}
"""


def test_a_json_bake_file_keeps_every_value_in_its_place():
    (inv,) = bake.read("docker-bake.json", JSON)
    args = {a.name: a for a in inv.args}
    assert held(JSON, args["VLLM_VERSION"]) == "0.11.0" and held(JSON, args["TORCH"]) == "2.8.0"
    assert args["SHA"].value.unknown
    assert (inv.dockerfile, inv.context) == ("docker/Dockerfile", ".")
    assert bake.is_bake("docker-bake.json")
