"""A RUN line read as the shell program it is: structure, nested scripts, variables the script sets,
and values made while the image builds. The shapes are those of real ML-serving Dockerfiles (vLLM's
docker/Dockerfile branches on TARGETPLATFORM, Dynamo's container/Dockerfile.vllm on ARCH, TensorRT-LLM's
Dockerfile.multi hands work to `bash -c`)."""

import pytest

from aligner.read.dockerfile import read


def pins(text, **match):
    out = read("Dockerfile", text.encode("utf-8")).pins
    return [p for p in out if all(getattr(p, k) == v for k, v in match.items())]


def found(text, **match):
    return [(p.component, p.value, p.line) for p in pins(text, **match)]


HEAD = "FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\nARG TARGETARCH\n"


@pytest.mark.parametrize("script", [
    'if [ "$TARGETARCH" = amd64 ]; then pip install flashinfer-python==0.4.1; fi',
    'if [ "$TARGETARCH" = arm64 ]; then echo skip; else pip install flashinfer-python==0.4.1; fi',
    'if false; then :; elif true; then pip install flashinfer-python==0.4.1; fi',
    'for i in 1; do pip install flashinfer-python==0.4.1; done',
    'while false; do :; done; until true; do :; done; { pip install flashinfer-python==0.4.1; }',
    '(cd /tmp && pip install flashinfer-python==0.4.1)',
    '! pip install flashinfer-python==0.4.1 || true',
    'case "$TARGETARCH" in amd64) pip install flashinfer-python==0.4.1 ;; *) echo no ;; esac',
    'case "$TARGETARCH" in\n  arm64) echo no ;;\n  amd64|x86_64) pip install flashinfer-python==0.4.1 ;;\nesac',
    'echo start | tee log && time pip install flashinfer-python==0.4.1',
])
def test_a_command_anywhere_in_the_shell_structure_is_read(script):
    text = HEAD + "RUN pip install vllm==0.10.2 && " + script.replace("\n", " \\\n") + "\n"
    got = found(text, kind="pip")
    assert ("vllm", "0.10.2", 3) in got
    assert [g for g in got if g[0] == "flashinfer-python"] and all(
        g[1] == "0.4.1" for g in got if g[0] == "flashinfer-python")


def test_a_reserved_word_as_an_argument_is_only_an_argument():
    assert found(HEAD + "RUN echo then pip install vllm==0.10.2\n", kind="pip") == []


@pytest.mark.parametrize("run", [
    "RUN bash -c 'pip install vllm==0.10.2'",
    'RUN sh -c "pip install vllm==0.10.2"',
    "RUN /bin/bash -ec 'set -x; pip install vllm==0.10.2'",
    'RUN ["/bin/bash", "-c", "pip install vllm==0.10.2"]',
])
def test_the_script_of_sh_c_is_read(run):
    text = HEAD + run + "\n"
    (pin,) = pins(text, kind="pip")
    assert (pin.value, pin.line) == ("0.10.2", 3)
    assert text.encode()[pin.start:pin.end] == b"0.10.2"


def test_a_variable_in_a_bash_c_script_is_followed_to_its_arg():
    text = HEAD + "ARG VLLM_VERSION=0.10.2\nRUN bash -c 'pip install vllm==${VLLM_VERSION}'\n"
    pin = pins(text, kind="pip")[0]
    assert (pin.value, pin.line, pin.use_line, pin.via) == ("0.10.2", 3, 4, "VLLM_VERSION")


def test_a_shell_heredoc_is_read():
    text = HEAD + "RUN <<EOF\nset -e\nif true; then\n  pip install nixl==0.7.1\nfi\nEOF\n"
    assert found(text, kind="pip") == [("nixl", "0.7.1", 6)]


def test_a_variable_the_script_sets_is_followed():
    text = HEAD + "RUN FI_VER=0.4.1 && pip install flashinfer-python==${FI_VER}\n"
    (pin,) = pins(text, kind="pip")
    assert (pin.value, pin.form, pin.via) == ("0.4.1", "version", "FI_VER")
    assert text.encode()[pin.start:pin.end] == b"0.4.1"


def test_an_exported_variable_is_followed():
    text = HEAD + "RUN export NIXL_V=0.7.1; pip install nixl==$NIXL_V\n"
    assert [(p.value, p.form) for p in pins(text, kind="pip")] == [("0.7.1", "version")]


def test_a_prefix_assignment_sets_the_variable_for_its_command_only():
    text = HEAD + "ARG V=0.10.2\nRUN V=9 echo x && pip install vllm==$V\n"
    assert [p.value for p in pins(text, kind="pip")] == ["0.10.2"]


def test_a_variable_set_in_the_run_is_not_a_hidden_global():
    text = "ARG ARCH=amd64\nFROM python:3.12\nRUN ARCH=$(uname -m) && case \"$ARCH\" in x86_64) pip install vllm==0.10.2 ;; esac\n"
    doc = read("Dockerfile", text.encode())
    assert doc.hidden_uses == []
    assert [(p.value, p.line) for p in doc.pins if p.kind == "pip"] == [("0.10.2", 3)]


def test_a_loop_variable_is_not_known():
    (pin,) = pins(HEAD + "RUN for v in 0.7.0 0.7.1; do pip install nixl==$v; done\n", kind="pip")
    assert pin.form == "dynamic" and pin.version is None


@pytest.mark.parametrize("value", ["$(cat torch_version.txt)", "`cat torch_version.txt`"])
def test_a_value_made_at_build_time_is_a_dynamic_pin(value):
    text = HEAD + f"RUN pip install torch=={value}\n"
    (pin,) = pins(text, kind="pip")
    assert (pin.component, pin.value, pin.form, pin.version, pin.line) == ("torch", value, "dynamic", None, 3)


def test_a_variable_set_from_a_substitution_is_dynamic():
    text = HEAD + "RUN TV=$(python3 -c 'import torch; print(torch.__version__)') && pip install torch==$TV\n"
    (pin,) = pins(text, kind="pip")
    assert pin.form == "dynamic" and pin.value.startswith("$(python3")


def test_an_arg_without_default_is_unset_not_empty():
    text = "FROM python:3.12\nARG VLLM_VERSION\nRUN pip install vllm==${VLLM_VERSION}\n"
    (pin,) = pins(text, kind="pip")
    assert (pin.form, pin.value, pin.line) == ("unset", "${VLLM_VERSION}", 3)


def test_an_empty_default_is_empty():
    text = 'FROM python:3.12\nARG VLLM_VERSION=""\nRUN pip install vllm==${VLLM_VERSION}\n'
    assert {p.form for p in pins(text, component="vllm")} == {"empty"}


def test_a_single_quoted_dollar_is_text_not_a_build_time_value():
    (pin,) = pins(HEAD + "RUN pip install 'vllm==$(x)'\n", kind="pip")
    assert pin.form != "dynamic"


def test_a_run_the_reader_cannot_follow_is_left_unread_not_refused():
    text = HEAD + "RUN echo \"unterminated\nRUN pip install vllm==0.10.2\n"
    doc = read("Dockerfile", text.encode())
    assert doc.unread and doc.unread[0][0] == 3
    assert [(p.value, p.line) for p in doc.pins if p.kind == "pip"] == [("0.10.2", 4)]


def test_a_release_in_an_index_path_pins_the_unversioned_spec():
    # the shape of vLLM's per-release wheel index: …/<release>/<cu tag>
    text = HEAD + "RUN uv pip install vllm --extra-index-url https://wheels.example/0.13.0/cu130\n"
    (pin,) = pins(text, kind="pip")
    assert (pin.component, pin.value, pin.form, pin.cuda) == ("vllm", "0.13.0", "version", "13.0")
    assert text.encode()[pin.start:pin.end] == b"0.13.0"


def test_a_versioned_spec_is_not_taken_from_the_index_path():
    text = HEAD + "RUN uv pip install vllm==0.12.0 --extra-index-url https://wheels.example/0.13.0/cu130\n"
    assert [p.value for p in pins(text, kind="pip")] == ["0.12.0"]
