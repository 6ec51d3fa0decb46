"""Targeted reader behaviour: Docker's scoping and the shell's rules, by small examples."""

import pytest

from aligner.read.dockerfile import read


def pins(text, **match):
    data = text.encode("utf-8") if isinstance(text, str) else text
    out = read("Dockerfile", data).pins
    return [p for p in out if all(getattr(p, k) == v for k, v in match.items())]


def one(text, **match):
    found = pins(text, **match)
    assert len(found) == 1, found
    return found[0]


def test_stripped_prefix_pins_the_whole_arg_value():
    text = 'ARG VLLM_REF="v0.10.2"\nFROM python:3.12\nARG VLLM_REF\nRUN uv pip install "vllm[flashinfer]==${VLLM_REF#v}"\n'
    pip = one(text, kind="pip")
    assert (pip.value, pip.version, pip.line, pip.column, pip.via, pip.use_line) == ("v0.10.2", "0.10.2", 1, 15, "VLLM_REF", 4)
    assert pip.extras == ("flashinfer",) and pip.visible
    arg = one(text, kind="arg")
    assert (arg.start, arg.end) == (pip.start, pip.end)


def test_global_arg_not_redeclared_is_not_visible():
    text = "ARG VLLM_VERSION=0.10.2\nFROM python:3.12\nRUN pip install vllm==${VLLM_VERSION}\n"
    pip = one(text, kind="pip")
    assert not pip.visible
    doc = read("Dockerfile", text.encode())
    assert [(h.name, h.line, h.declared_line) for h in doc.hidden_uses] == [("VLLM_VERSION", 3, 1)]


def test_global_arg_is_visible_in_from():
    p = one("ARG CUDA_VERSION=12.9.1\nFROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04\n", kind="from")
    assert (p.value, p.line, p.column, p.via, p.visible, p.stage) == ("12.9.1", 1, 18, "CUDA_VERSION", True, "0")


def test_default_used_when_unset_and_ignored_when_set():
    unset = one("FROM python:3.12\nRUN pip install nixl==${NIXL_VER:-0.6.0}\n", kind="pip")
    assert (unset.value, unset.line, unset.column) == ("0.6.0", 2, 35)
    is_set = one("FROM python:3.12\nARG NIXL_VER=0.7.0\nRUN pip install nixl==${NIXL_VER:-0.6.0}\n", kind="pip")
    assert (is_set.value, is_set.line, is_set.via) == ("0.7.0", 2, "NIXL_VER")


def test_undefined_variable_pins_the_expression():
    p = one("FROM python:3.12\nRUN pip install vllm==${VLLM_VERSION}\n", kind="pip")
    assert (p.value, p.form, p.version, p.column) == ("${VLLM_VERSION}", "unset", None, 23)


def test_empty_ref_is_a_zero_width_pin_between_the_quotes():
    text = 'FROM python:3.12\nARG FLASHINF_REF=""\nRUN pip install flashinfer-python==${FLASHINF_REF}\n'
    arg = one(text, kind="arg")
    pip = one(text, kind="pip")
    assert arg.form == pip.form == "empty"
    assert (arg.line, arg.column, arg.start, arg.end) == (2, 19, 35, 35)
    assert (pip.start, pip.end, pip.via) == (35, 35, "FLASHINF_REF")


def test_single_quotes_stop_expansion_in_run():
    p = one("FROM python:3.12\nARG V=0.10.2\nRUN pip install 'vllm==$V'\n", kind="pip")
    assert p.value == "$V" and p.form == "moving"


def test_unquoted_expansion_is_split_into_words():
    text = 'FROM python:3.12\nARG PKGS="vllm==0.10.2 nixl==0.7.0"\nRUN pip install $PKGS\n'
    got = sorted((p.component, p.value, p.line, p.column) for p in pins(text, kind="pip"))
    assert got == [("nixl", "0.7.0", 2, 30), ("vllm", "0.10.2", 2, 17)]


def test_unquoted_redirect_cuts_a_range_like_the_shell_does():
    p = one("FROM python:3.12\nRUN pip install torch>=2.7,<2.9\n", kind="pip")
    assert p.form == "empty" and p.value == ""


def test_env_inherited_by_a_stage_built_from_it():
    text = "FROM python:3.12 AS base\nENV LMCACHE_VERSION=0.3.9\nFROM base AS app\nRUN pip install lmcache==${LMCACHE_VERSION}\n"
    p = one(text, kind="pip")
    assert (p.stage, p.line, p.via, p.visible) == ("app", 2, "LMCACHE_VERSION", True)
    assert not pins(text, kind="from", stage="app")


def test_env_legacy_form():
    p = one("FROM python:3.12\nENV TORCH_VERSION 2.8.0\n", kind="env")
    assert (p.value, p.column) == ("2.8.0", 19)


def test_several_names_on_one_arg_line():
    got = pins("ARG NIXL_REF=0.7.1 UCX_REF='v1.19.0' PYTHON_VERSION=\"3.12\"\nFROM python:3.12\n", kind="arg")
    assert [(p.component, p.value, p.column) for p in got] == [("nixl", "0.7.1", 14), ("ucx", "v1.19.0", 29), ("python", "3.12", 54)]


def test_requirement_suffix_arg_is_parsed_as_a_requirement():
    text = 'ARG TENSORRTLLM_PIP_WHEEL="tensorrt-llm==1.1.0rc5"\nFROM python:3.12\nARG TENSORRTLLM_PIP_WHEEL\nRUN pip install ${TENSORRTLLM_PIP_WHEEL}\n'
    arg = one(text, kind="arg")
    pip = one(text, kind="pip")
    assert (arg.value, arg.version, arg.column) == ("1.1.0rc5", "1.1.0rc5", 42)
    assert (pip.start, pip.end, pip.name, pip.op) == (arg.start, arg.end, "tensorrt-llm", "==")


def test_unpinned_requirement_suffix_arg():
    p = one('ARG TENSORRTLLM_PIP_WHEEL="tensorrt-llm"\nFROM python:3.12\n', kind="arg")
    assert (p.form, p.value, p.column) == ("empty", "", 40)


def test_renovate_comment_maps_an_unrecognised_name():
    text = "# renovate: datasource=pypi depName=vllm\nARG ENGINE_VERSION=0.10.2\nFROM python:3.12\n"
    p = one(text, kind="arg")
    assert (p.component, p.name, p.line) == ("vllm", "ENGINE_VERSION", 2)
    assert not pins("ARG ENGINE_VERSION=0.10.2\nFROM python:3.12\n", kind="arg")


def test_git_clone_branch_and_checkout():
    text = ("FROM python:3.12\nRUN git clone --depth 1 --branch v1.19.0 https://github.com/openucx/ucx.git /src/ucx && "
            "cd /src/ucx && git checkout 1a2b3c4d\n")
    got = [(p.component, p.value, p.form, p.name) for p in pins(text, kind="git")]
    assert got == [("ucx", "v1.19.0", "version", "openucx/ucx"), ("ucx", "1a2b3c4d", "commit", "openucx/ucx")]


def test_checkout_without_a_clone_in_the_run_is_not_a_pin():
    assert not pins("FROM python:3.12\nRUN git checkout v0.10.2\n", kind="git")


def test_exec_form_run():
    p = one('FROM python:3.12\nRUN ["pip", "install", "vllm==0.10.2"]\n', kind="pip")
    assert (p.value, p.column) == ("0.10.2", 31)


def test_heredoc_body_is_a_script_but_python_heredoc_is_not():
    script = "FROM python:3.12\nRUN <<EOF\nset -e\npip install nixl==0.7.0\nEOF\n"
    assert [(p.value, p.line, p.column) for p in pins(script, kind="pip")] == [("0.7.0", 4, 19)]
    python = "FROM python:3.12\nRUN python3 <<EOF\nprint('pip install nixl==0.7.0')\nEOF\n"
    assert not pins(python, kind="pip")


def test_image_tags():
    text = ("FROM localhost:5000/nvidia/cuda-dl-base:25.01-cuda12.8-devel-ubuntu24.04 AS a\n"
            "FROM lmsysorg/sglang:v0.5.5.post3-cu129 AS b\n"
            "FROM vllm/vllm-openai:latest AS c\n"
            "FROM nvidia/cuda AS d\n"
            "FROM nvidia/cuda@sha256:" + "0" * 64 + " AS e\n"
            "FROM b AS f\n")
    got = [(p.component, p.value, p.version, p.form, p.stage) for p in pins(text, kind="from")]
    assert got == [
        ("ngc-cuda-dl-base", "25.01", "25.01", "version", "a"),
        ("cuda", "12.8", "12.8", "version", "a"),
        ("sglang", "v0.5.5.post3", "0.5.5.post3", "version", "b"),
        ("cuda", "129", "12.9", "version", "b"),
        ("vllm", "latest", None, "moving", "c"),
        ("cuda", "", None, "empty", "d"),
    ]


def test_pip_forms():
    text = 'FROM python:3.12\nRUN pip install "nixl<=0.7.0" "torch>=2.7,<2.9" flashinfer "vllm===0.10.2"\n'
    got = [(p.component, p.value, p.version, p.form, p.op) for p in pins(text, kind="pip")]
    assert got == [
        ("nixl", "0.7.0", "0.7.0", "range", "<="),
        ("torch", ">=2.7,<2.9", None, "range", ""),
        ("flashinfer-python", "", None, "empty", ""),
        ("vllm", "0.10.2", "0.10.2", "version", "==="),
    ]


def test_pip_options_and_their_arguments_are_skipped():
    text = ("FROM python:3.12\nRUN python3 -m pip install --no-cache-dir -c vllm==0.0.1 "
            "--extra-index-url http://127.0.0.1:8080/simple -r req.txt ./vllm /tmp/torch-2.8.0-cp312.whl nixl==0.7.0\n")
    # a wheel's file name holds its version (PEP 427): the local wheel pins torch 2.8.0; ./vllm pins nothing
    assert [(p.component, p.value) for p in pins(text, kind="pip")] == [("torch", "2.8.0"), ("nixl", "0.7.0")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_continuations_and_comment_lines_inside_them(newline):
    text = newline.join([
        "FROM python:3.12",
        "RUN pip install \\",
        "    # the engine",
        "    vllm==0.10.2 \\",
        "\tnixl==0.7.0",
        "",
    ])
    got = [(p.value, p.line, p.column) for p in pins(text, kind="pip")]
    assert got == [("0.10.2", 4, 11), ("0.7.0", 5, 8)]


def test_escape_directive_backtick():
    text = "# escape=`\nFROM python:3.12\nRUN pip install `\n    vllm==0.10.2\n"
    assert [(p.value, p.line) for p in pins(text, kind="pip")] == [("0.10.2", 4)]


def test_byte_offsets_count_utf8_bytes():
    text = "# café ☕\nARG VLLM_REF=v0.11.0\nFROM python:3.12\n"
    p = one(text, kind="arg")
    data = text.encode("utf-8")
    assert data[p.start:p.end] == b"v0.11.0" and p.column == 14


def test_trailing_comment_on_an_arg_line_is_read_as_buildkit_does():
    # moby/buildkit frontend/dockerfile/instructions/parse.go parseArg: every word is a name or
    # name=value and only a blank name is refused, so `# latest` declares ARGs named "#" and "latest"
    doc = read("Dockerfile", b'ARG VLLM_REF="v0.10.1.1"  # from v0.10.1.1\nFROM python:3.12\n')
    assert [(p.component, p.value, p.line) for p in doc.pins if p.kind == "arg"] == [("vllm", "v0.10.1.1", 1)]


def test_blank_line_inside_a_continuation_is_skipped_as_buildkit_does():
    # moby/buildkit frontend/dockerfile/parser/parser.go: isEmptyContinuationLine -> continue
    text = "FROM python:3.12\nRUN pip install \\\n\n    nixl==0.7.0\n"
    assert [(p.value, p.line) for p in pins(text, kind="pip")] == [("0.7.0", 4)]


def test_a_child_stage_inherits_its_parents_args():
    # docs.docker.com/build/building/variables ("Scoping"): a stage FROM an earlier stage inherits the
    # build arguments and environment variables of that stage
    text = ("FROM python:3.12 AS base\nARG VLLM_VERSION=0.10.2\nFROM base AS app\n"
            "RUN pip install vllm==${VLLM_VERSION}\nFROM python:3.12 AS other\nRUN pip install vllm==${VLLM_VERSION}\n")
    doc = read("Dockerfile", text.encode())
    got = [(p.stage, p.value, p.form) for p in doc.pins if p.kind == "pip"]
    assert got == [("app", "0.10.2", "version"), ("other", "${VLLM_VERSION}", "unset")]
    assert doc.hidden_uses == []


def test_an_arg_name_no_variable_can_reach_is_declared_and_ignored():
    # BuildKit's parseArg refuses only a blank name; `ARG 1BAD=2` builds, and `$1BAD` is `$1` then "BAD"
    doc = read("Dockerfile", b"ARG 1BAD=2 VLLM_REF=v0.10.2\nFROM python:3.12\n")
    assert [(p.name, p.value) for p in doc.pins if p.kind == "arg"] == [("VLLM_REF", "v0.10.2")]
    assert [v.name for v in doc.variables] == ["VLLM_REF"]


def test_nvidias_engine_containers_are_recognised():
    # NVIDIA publishes vLLM and SGLang framework containers as nvidia/vllm:YY.MM-py3 and nvidia/sglang:YY.MM-py3
    for repo, component in (("nvidia/vllm", "ngc-vllm"), ("nvidia/sglang", "ngc-sglang")):
        p = one(f"FROM {repo}:25.09-py3 AS serve\n", kind="from")
        assert (p.component, p.value, p.version) == (component, "25.09", "25.09")


@pytest.mark.parametrize("name", ["VLLM_COMMIT_SHA", "VLLM_VERSION_TAG", "VLLM_SHA", "VLLM_TAG"])
def test_name_forms_of_version_variables(name):
    p = one(f"FROM python:3.12\nARG {name}=v0.10.2\n", kind="arg")
    assert (p.component, p.name, p.version) == ("vllm", name, "0.10.2")


def test_a_re_release_of_an_ngc_container_is_its_release():
    p = one("FROM nvidia/vllm:25.12.post1-py3\n", kind="from")
    assert (p.component, p.value) == ("ngc-vllm", "25.12")


def test_a_renovate_comment_names_only_the_first_variable_of_its_arg():
    text = "# renovate: datasource=pypi depName=vllm\nARG ENGINE_VERSION=0.10.2 OTHER_VERSION=1.0\nFROM python:3.12\n"
    assert [(p.component, p.name) for p in pins(text, kind="arg")] == [("vllm", "ENGINE_VERSION")]


def test_a_variable_carries_the_span_of_its_value():
    data = 'ARG A="v1.2" B=x\nFROM python:3.12\nARG A\nENV TAG=${A}-nixl-0.7.1 C=$A\nARG D=\u00fc1\n'.encode()
    doc = read("Dockerfile", data)
    spans = {(v.name, v.line): v.span for v in doc.variables}
    a = spans[("A", 1)]
    assert (a.line, a.column) == (1, 8) and data[a.start:a.end] == b"v1.2"  # inside the quotes
    b = spans[("B", 1)]
    assert (b.line, b.column) == (1, 16) and data[b.start:b.end] == b"x"
    assert spans[("A", 3)] is None, "`ARG A` with no value has none"
    assert spans[("TAG", 4)] is None, "a value made of A's bytes and literal text lies in no one run of the file"
    c = spans[("C", 4)]
    assert (c.line, c.start, c.end) == (1, a.start, a.end), "a copy of A is A's bytes"
    d = spans[("D", 5)]
    assert data[d.start:d.end] == "\u00fc1".encode() and d.end - d.start == 3, "offsets count bytes, not characters"
