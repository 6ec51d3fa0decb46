"""Hypothesis strategies that write varied, valid Dockerfiles with pins in them."""

from hypothesis import strategies as st

ARG_NAMES = ["VLLM_REF", "NIXL_VERSION", "CUDA_VERSION", "FLASHINF_REF", "TORCH_VERSION", "UCX_REF",
             "LMCACHE_COMMIT", "PYTHON_VERSION", "SGLANG_VERSION", "TRTLLM_VERSION"]
PIP_FOR = {"VLLM_REF": "vllm", "NIXL_VERSION": "nixl", "FLASHINF_REF": "flashinfer-python",
           "TORCH_VERSION": "torch", "SGLANG_VERSION": "sglang", "TRTLLM_VERSION": "tensorrt-llm",
           "LMCACHE_COMMIT": "lmcache"}
DOTTED = {"CUDA_VERSION", "PYTHON_VERSION"}
COMMENTS = ["# pinned by hand", "# café: 版本", "#\tTODO bump", "# renovate-ish note"]

numbers = st.integers(min_value=0, max_value=40)


@st.composite
def versions(draw):
    parts = draw(st.lists(numbers, min_size=2, max_size=3))
    text = ".".join(map(str, parts))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["rc1", "rc5", ".post3", ""]))
    return text


@st.composite
def values(draw):
    kind = draw(st.sampled_from(["version", "version", "v", "commit", "branch"]))
    if kind == "v":
        return "v" + draw(versions())
    if kind == "commit":
        return draw(st.text("0123456789abcdef", min_size=40, max_size=40))
    if kind == "branch":
        return draw(st.sampled_from(["main", "master", "release-1.2"]))
    return draw(versions())


def quoted(draw, value):
    q = draw(st.sampled_from(["", '"', "'"]))
    return f"{q}{value}{q}"


@st.composite
def dockerfiles(draw):
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    backtick = draw(st.booleans())
    esc = "`" if backtick else "\\"
    lines = ["# escape=`"] if backtick else []
    names = draw(st.lists(st.sampled_from(ARG_NAMES), min_size=1, max_size=5, unique=True))
    globals_ = []
    for name in names:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(COMMENTS)))
        # CUDA and Python go into image tags: always plain dotted numbers there
        value = ".".join(map(str, draw(st.lists(numbers, min_size=2, max_size=3)))) if name in DOTTED else draw(values())
        lines.append(f"ARG {name}={quoted(draw, value)}")
        globals_.append(name)
    stages = draw(st.integers(min_value=1, max_value=3))
    for n in range(stages):
        image = draw(st.sampled_from(["python:3.12-slim", "nvidia/cuda:12.8.1-devel-ubuntu24.04",
                                      "localhost:5000/nvidia/pytorch:25.06-py3", "lmsysorg/sglang:v0.5.5.post3-cu129"]))
        if "CUDA_VERSION" in globals_ and draw(st.booleans()):
            image = "nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04"
        platform = "--platform=$BUILDPLATFORM " if draw(st.booleans()) else ""
        lines.append(f"FROM {platform}{image} AS stage{n}")
        redeclared = draw(st.lists(st.sampled_from(globals_), unique=True))
        for name in redeclared:
            lines.append(f"ARG {name}")
        if draw(st.booleans()):
            lines.append(f"ENV UCX_VERSION={draw(values())} OTHER=1")
        specs = []
        for name in draw(st.lists(st.sampled_from(globals_), max_size=3, unique=True)):
            if name in PIP_FOR:
                op = draw(st.sampled_from(["==", "<=", "==="]))
                ref = draw(st.sampled_from(["${%s}" % name, "$%s" % name, "${%s#v}" % name]))
                specs.append(f'"{PIP_FOR[name]}{op}{ref}"')
        for dist in draw(st.lists(st.sampled_from(["vllm", "nixl", "torch", "lmcache"]), max_size=2)):
            specs.append(f"{dist}=={draw(versions())}")
        if specs:
            tool = draw(st.sampled_from(["pip install", "pip3 install --no-cache-dir", "uv pip install --system",
                                         "python3 -m pip install -c constraints.txt"]))
            if draw(st.booleans()):
                sep = f" {esc}{nl}" + draw(st.sampled_from(["    ", "\t", "  "]))
                body = sep.join(specs)
                if draw(st.booleans()):
                    body = specs[0] + f" {esc}{nl}    # a comment line inside{nl}    " + " ".join(specs[1:])
                lines.append(f"RUN {tool} {body}")
            elif draw(st.booleans()):
                lines += ["RUN <<EOF", "set -e", f"{tool} {' '.join(specs)}", "EOF"]
            else:
                lines.append(f"RUN {tool} {' '.join(specs)} && echo done")
        if draw(st.booleans()):
            lines.append(f"RUN git clone --depth 1 -b {draw(values())} https://github.com/openucx/ucx.git")
    return (nl.join(lines) + nl).encode("utf-8")
