"""Build arguments in GitHub Actions workflows, each value traced to the bytes that hold it. The workflows are
written here in the shapes of real ones (each names the file it follows); no line is copied from them."""

import pytest

from aligner.base.errors import InputError
from aligner.read.buildargs import workflow
from tests.support.traced import held

# sgl-project/sglang .github/workflows/release-docker-npu.yml: docker/build-push-action with a context, a
# file, and a build-args block mixing a literal with a matrix value
NPU = b"""name: Release Docker Images (NPU)
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ubuntu-22.04
    strategy:
      matrix:
        cann_version: ["8.3.rc1"]
    steps:
      - uses: actions/checkout@v4
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: docker
          file: docker/npu.Dockerfile
          push: true
          build-args: |
            SGLANG_KERNEL_NPU_TAG=20251120
            CANN_VERSION=${{ matrix.cann_version }}
"""

# LMCache/LMCache .github/workflows/nightly_build.yml: a run step with a one-line docker build
LMCACHE = b"""name: nightly
on:
  schedule:
    - cron: "0 6 * * *"
env:
  CUDA_VERSION: "12.8"
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - name: build
        env:
          UBUNTU: "24.04"
        run: docker build --build-arg CUDA_VERSION=$CUDA_VERSION --build-arg UBUNTU_VERSION=${UBUNTU} --target image-build --file docker/Dockerfile .
"""

# vllm-project/vllm-ascend .github/workflows/_schedule_image_build.yaml: comment lines inside build-args,
# an input with a written fallback, an env expression
ASCEND = b"""on:
  workflow_call:
    inputs:
      memcache_version:
        type: string
env:
  VLLM_TAG: v0.11.0
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          file: ${{ inputs.dockerfile || 'Dockerfile' }}
          build-args: |
            # the vLLM this image is built on
            VLLM_TAG=${{ env.VLLM_TAG }}
            MEMCACHE_VERSION=${{ inputs.memcache_version || '1.3.0' }}
"""


def test_build_push_action_args_with_a_literal_and_a_matrix_value():
    (inv,) = workflow.read(".github/workflows/release-docker-npu.yml", NPU)
    args = {a.name: a for a in inv.args}
    assert held(NPU, args["SGLANG_KERNEL_NPU_TAG"]) == "20251120"
    assert args["SGLANG_KERNEL_NPU_TAG"].line == 20
    assert args["CANN_VERSION"].value.unknown  # the matrix is known only when the workflow runs
    assert (inv.context, inv.dockerfile) == ("docker", "docker/npu.Dockerfile")


def test_a_run_step_is_a_script_with_the_workflow_and_step_env():
    (inv,) = workflow.read(".github/workflows/nightly_build.yml", LMCACHE)
    args = {a.name: a for a in inv.args}
    assert held(LMCACHE, args["CUDA_VERSION"]) == "12.8"  # the workflow's env, traced into its quotes
    assert held(LMCACHE, args["UBUNTU_VERSION"]) == "24.04"  # the step's env
    assert (inv.dockerfile, inv.context, inv.target) == ("docker/Dockerfile", ".", "image-build")


def test_comment_lines_are_no_argument_and_env_expressions_are_followed():
    (inv,) = workflow.read(".github/workflows/_schedule_image_build.yaml", ASCEND)
    args = {a.name: a for a in inv.args}
    assert set(args) == {"VLLM_TAG", "MEMCACHE_VERSION"}
    assert held(ASCEND, args["VLLM_TAG"]) == "v0.11.0"
    assert args["MEMCACHE_VERSION"].value.unknown  # an input: its fallback is only a fallback
    assert inv.dockerfile is None  # the file is an input too


def test_a_malformed_workflow_is_an_error_naming_its_line():
    with pytest.raises(InputError) as err:
        workflow.read(".github/workflows/x.yml", b"jobs:\n  a:\n    steps: [\n")
    assert err.value.line is not None


def test_which_files_are_workflows():
    assert workflow.is_workflow(".github/workflows/release.yml") and workflow.is_workflow("a/.github/workflows/b.yaml")
    assert not workflow.is_workflow("workflows/release.yml") and not workflow.is_workflow(".github/dependabot.yml")


# meltano/meltano .gitlab/ci/docker_base.gitlab-ci.yml: global and job variables, the args gathered in
# before_script, the build in script
GITLAB = b"""variables:
  DOCKERFILE: docker/base/Dockerfile
  PYTHON_VERSION: "3.12"
build-base:
  stage: build
  variables:
    VLLM_VERSION:
      value: "0.11.0"
      description: the vLLM the image ships
  before_script:
    - export EXTRA_ARGS="--build-arg PYTHON_VERSION=$PYTHON_VERSION --build-arg VLLM_VERSION=${VLLM_VERSION}"
  script:
    - docker build -f $DOCKERFILE $EXTRA_ARGS --build-arg COMMIT=$CI_COMMIT_SHA .
"""


def test_gitlab_jobs_read_their_scripts_with_the_variables():
    (inv,) = workflow.read(".gitlab-ci.yml", GITLAB)
    args = {a.name: a for a in inv.args}
    assert held(GITLAB, args["PYTHON_VERSION"]) == "3.12" and held(GITLAB, args["VLLM_VERSION"]) == "0.11.0"
    assert args["COMMIT"].value.unknown  # GitLab's own variables are known when the job runs
    assert (inv.dockerfile, inv.context) == ("docker/base/Dockerfile", ".")
    assert workflow.is_gitlab(".gitlab-ci.yml") and workflow.is_gitlab(".gitlab/ci/docker_base.gitlab-ci.yml")
