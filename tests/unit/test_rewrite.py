"""The rewrite primitive: only value bytes change, everything else is kept."""

import pytest

from aligner.read.dockerfile import read
from aligner.read.rewrite import RewriteError, render, rewrite


def pins_of(data):
    return read("Dockerfile", data).pins


def test_rewrite_keeps_quotes_prefix_crlf_and_comments():
    data = (b'# pins\r\nARG VLLM_REF="v0.10.2"  \r\nFROM python:3.12\r\nARG VLLM_REF\r\n'
            b'RUN uv pip install "vllm[flashinfer]==${VLLM_REF#v}" \\\r\n  nixl==0.7.1 # tail\r\n')
    pins = pins_of(data)
    vllm = [p for p in pins if p.component == "vllm"]
    nixl = next(p for p in pins if p.component == "nixl")
    changes = {p: render(p, "0.11.0") for p in vllm}
    changes[nixl] = render(nixl, "0.7.0")
    new = rewrite(data, changes)
    assert new == data.replace(b"v0.10.2", b"v0.11.0").replace(b"0.7.1", b"0.7.0")


def test_rewrite_to_own_values_is_identity():
    data = b"ARG CUDA_VERSION=12.8.1\nFROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04\nRUN pip install torch==2.8.0\n"
    pins = pins_of(data)
    assert rewrite(data, {p: p.value for p in pins}) == data


def test_conflicting_values_for_one_span_are_refused():
    data = b"ARG CUDA_VERSION=12.8.1\nFROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04\n"
    arg, frm = pins_of(data)
    assert (arg.start, arg.end) == (frm.start, frm.end)
    with pytest.raises(RewriteError, match="conflicting"):
        rewrite(data, [(arg, "12.9.1"), (frm, "13.0.0")])


def test_stale_pin_is_refused():
    data = b"FROM python:3.12\nRUN pip install nixl==0.7.1\n"
    (pin,) = [p for p in pins_of(data) if p.kind == "pip"]
    with pytest.raises(RewriteError, match="changed since it was read"):
        rewrite(data.replace(b"0.7.1", b"0.7.2"), {pin: "0.7.0"})


def test_render_styles():
    data = (b'FROM lmsysorg/sglang:v0.5.5.post3-cu129\nRUN pip install flashinfer\n')
    sglang, cuda, flashinfer = pins_of(data)
    assert render(sglang, "0.5.6") == "v0.5.6"
    assert render(cuda, "13.0") == "130"
    assert render(flashinfer, "0.3.0") == "==0.3.0"
    new = rewrite(data, {sglang: render(sglang, "0.5.6"), cuda: render(cuda, "13.0"), flashinfer: render(flashinfer, "0.3.0")})
    assert new == b"FROM lmsysorg/sglang:v0.5.6-cu130\nRUN pip install flashinfer==0.3.0\n"
