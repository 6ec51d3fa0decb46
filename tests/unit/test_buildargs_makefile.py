"""Build commands in Makefiles, with make's variables, each value traced to its bytes. The Makefiles are
written here in the shapes of real ones (each names the file it follows); no line is copied from them."""

from aligner.read.buildargs import makefile
from tests.support.traced import held

# kserve/kserve Makefile: `?=` defaults, the engine a variable, ${} references, a recipe continued with `\`
KSERVE = b"""BASE_IMG ?= python:3.11-slim-bookworm
ENGINE ?= docker
VLLM_VERSION := 0.11.0  # pinned for the release
ARCH ?=

docker-build-vllm:
\t${ENGINE} buildx build ${ARCH} --build-arg BASE_IMAGE=${BASE_IMG} \\
\t\t--build-arg VLLM_VERSION=$(VLLM_VERSION) -t kserve/vllm:latest -f vllm.Dockerfile .
"""

# llm-d/llm-d-inference-sim Makefile: a default from a make function, a literal, the shell's own `$$`
SIM = b"""TARGETOS ?= $(shell go env GOOS)
CONTAINER_TOOL := docker

image-build:
\t@echo building
\t$(CONTAINER_TOOL) build --build-arg TARGETOS=$(TARGETOS) --build-arg TARGETARCH=amd64 \\
\t\t--build-arg HOME_DIR=$$HOME -t sim:dev .
"""


def test_kserve_make_variables_reach_the_build_args():
    (inv,) = makefile.read("Makefile", KSERVE)
    args = {a.name: a for a in inv.args}
    assert held(KSERVE, args["BASE_IMAGE"]) == "python:3.11-slim-bookworm"
    assert held(KSERVE, args["VLLM_VERSION"]) == "0.11.0"  # its comment is no part of it
    assert args["VLLM_VERSION"].value.origin_of(0, 6) == "Makefile"
    assert (inv.dockerfile, inv.context) == ("vllm.Dockerfile", ".")


def test_make_functions_and_the_shells_variables_are_unknown():
    (inv,) = makefile.read("Makefile", SIM)
    args = {a.name: a for a in inv.args}
    assert args["TARGETOS"].value.unknown and args["HOME_DIR"].value.unknown
    assert held(SIM, args["TARGETARCH"]) == "amd64"


def test_which_files_are_makefiles():
    assert all(makefile.is_makefile(n) for n in ("Makefile", "docker/makefile", "GNUmakefile", "build/images.mk"))
    assert not makefile.is_makefile("Makefile.txt") and not makefile.is_makefile("make.sh")
