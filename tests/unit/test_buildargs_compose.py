"""Build arguments in Compose files, each value traced to the bytes that hold it. The files are written here
in the shapes of real ones (each names the file it follows); no line is copied from them."""

import pytest

from aligner.base.errors import InputError
from aligner.read.buildargs import compose, link

# sgl-project/sglang docker/docker-compose.envs.yaml: args as a list with a default to interpolate, the context
# one folder up and the Dockerfile named relative to it, a target, profiles
SGLANG = b"""services:
  sglang-dev:
    profiles: ["dev"]
    image: sglang:dev-${CUDA_VERSION:-12.6.1}
    build:
      context: ..
      dockerfile: docker/envs/Dockerfile.default
      target: dev-image
      args:
        - CUDA_VERSION=${CUDA_VERSION:-12.6.1}
        - BUILD_TYPE=all
"""

# a vLLM serving compose file: args as a map under a shared anchor merged into the service, a literal, an
# empty default, a `$$` escape, a quoted value and an integer
MAP = b"""x-gpu-common: &gpu-common
  build:
    context: .
    dockerfile: Dockerfile.vllm
    args:
      VLLM_VERSION: ${VLLM_VERSION:-0.10.2}
      FLASHINFER_VERSION: "0.3.0"
      EXTRA_PIP: ${EXTRA_PIP:-}
      MAX_JOBS: 8
      PRICE: $$5
services:
  vllm:
    <<: *gpu-common
    ports: ["8000:8000"]
  web:
    build: ./web
"""


def held(data: bytes, path: str, arg):
    where = arg.value.locate(0, len(arg.value.text))
    assert where is not None, arg
    (a, b), _ = where
    assert arg.value.origin_of(0, len(arg.value.text)) == path
    return data[a:b].decode()  # these files are ASCII: characters are bytes


def test_sglang_list_args_with_interpolated_defaults():
    (inv,) = compose.read("docker/docker-compose.envs.yaml", SGLANG)
    args = {a.name: a for a in inv.args}
    assert args["CUDA_VERSION"].value.text == "12.6.1"
    assert held(SGLANG, "docker/docker-compose.envs.yaml", args["CUDA_VERSION"]) == "12.6.1"
    assert args["CUDA_VERSION"].line == 10 and args["BUILD_TYPE"].value.text == "all"
    assert (inv.context, inv.dockerfile, inv.target) == ("..", "../docker/envs/Dockerfile.default", "dev-image")


def test_map_args_through_an_anchor_and_a_merge_key():
    vllm, web = compose.read("compose.yaml", MAP)
    args = {a.name: a for a in vllm.args}
    assert held(MAP, "compose.yaml", args["VLLM_VERSION"]) == "0.10.2"
    assert held(MAP, "compose.yaml", args["FLASHINFER_VERSION"]) == "0.3.0"  # inside its quotes
    assert args["EXTRA_PIP"].value.text == "" and not args["EXTRA_PIP"].value.unknown  # an empty default is empty
    assert args["MAX_JOBS"].value.text == "8" and args["PRICE"].value.text == "$5"
    assert (vllm.context, vllm.dockerfile) == (".", "Dockerfile.vllm")
    assert (web.context, web.dockerfile, web.args) == ("./web", None, [])


def test_a_dotenv_beside_the_file_gives_the_value_and_its_place(tmp_path):
    (tmp_path / "compose.yaml").write_bytes(MAP)
    (tmp_path / ".env").write_bytes(b"# pinned for the release\nVLLM_VERSION='0.11.0'\n")
    (tmp_path / "Dockerfile.vllm").write_text("FROM python:3.12\nARG VLLM_VERSION\n")
    got = link.given(str(tmp_path / "Dockerfile.vllm"), [str(tmp_path / "compose.yaml")],
                     lambda p: open(p, "rb").read(), tmp_path)
    value = got.args["VLLM_VERSION"]
    (a, b), _ = value.locate(0, len(value.text))
    assert value.origin_of(0, len(value.text)) == str(tmp_path / ".env")
    assert (tmp_path / ".env").read_bytes()[a:b] == b"0.11.0"
    assert str(tmp_path / ".env") in got.sources  # so that a pin there names the .env line


@pytest.mark.parametrize("text", [
    b"services:\n  vllm:\n    build:\n      args:\n        - VLLM_VERSION=${UNSET}\n",
    b"services:\n  vllm:\n    build:\n      args:\n        - VLLM_VERSION\n",
])
def test_a_value_only_the_environment_gives_is_unknown(text):
    (inv,) = compose.read("compose.yaml", text)
    (arg,) = inv.args
    assert arg.name == "VLLM_VERSION" and arg.value.unknown


def test_a_malformed_compose_file_is_an_error_naming_its_line():
    with pytest.raises(InputError) as err:
        compose.read("compose.yaml", b"services:\n  vllm:\n    build: [\n")
    assert err.value.path == "compose.yaml" and err.value.line is not None


def test_names_of_compose_files():
    assert all(compose.is_compose(n) for n in ("compose.yaml", "docker-compose.yml", "docker/compose.dev.yaml",
                                              "docker-compose.envs.yaml"))
    assert not any(compose.is_compose(n) for n in ("compose.py", "mycompose.yaml", "values.yaml"))


@pytest.mark.parametrize("data", [
    b"services:\n  s:\n    build:\n      args:\n        A: " + b"[" * 5000 + b"\n",  # nested past Python's stack
    b"services:\n  s:\n    build: &b\n      <<: *b\n",  # a mapping that merges itself
    b"services:\n  s: \x00\n",
    b"services:\n  s: \xff\n",
    b"services:\n\ts: 1\n",
])
def test_hostile_compose_files_are_errors_or_nothing_never_a_crash(data):
    from aligner.read.buildargs import workflow

    for read, path in ((compose.read, "compose.yaml"), (workflow.read, ".github/workflows/x.yml")):
        try:
            read(path, data)
        except InputError as exc:
            assert exc.path == path and "Traceback" not in str(exc)
