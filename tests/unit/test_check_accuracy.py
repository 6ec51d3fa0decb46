"""What `aligner check` says on the shapes real Dockerfiles have, and what it does not: one test per
class of false or missed finding seen on public ML-serving Dockerfiles. Version facts come from
rules/snapshot and rules/*.toml, read here."""

import json
from pathlib import Path

import pytest

from aligner.decide.check.engine import Settings, run
from aligner.read.config import Config

ROOT = Path(__file__).resolve().parent.parent.parent
SNAPSHOT = ROOT / "rules" / "snapshot"


def findings(tmp_path, text, name="Dockerfile"):
    path = tmp_path / name
    path.write_text(text)
    out = run([str(path)], Config(root=tmp_path, path=None), Settings(use_cache=False))
    assert not out.errors, out.errors
    return [(f.code, f.line, f.severity) for f in out.findings]


def codes(tmp_path, text, severities=("error", "warning")):
    return [(c, line) for c, line, sev in findings(tmp_path, text) if sev in severities]


def releases(project):
    return json.loads((SNAPSHOT / f"{project}.json").read_text())["releases"]


def amd64_only(project):
    """A release of `project` whose wheels are for linux/amd64 and not linux/arm64 (from the snapshot)."""
    for r in releases(project):
        if "linux/amd64" in r["platforms"] and "linux/arm64" not in r["platforms"] and not r["yanked"]:
            return r["version"]
    pytest.skip(f"no amd64-only release of {project} in the snapshot")


# -- platforms ------------------------------------------------------------------

def test_a_file_with_no_arm64_evidence_is_not_checked_for_arm64(tmp_path):
    v = amd64_only("lmcache")
    assert codes(tmp_path, f"FROM python:3.12\nRUN pip install lmcache=={v}\n") == []


def test_an_arm64_branch_makes_arm64_a_platform(tmp_path):
    v = amd64_only("lmcache")
    text = (f"FROM python:3.12\nARG TARGETARCH\nRUN pip install lmcache=={v} && "
            'if [ "$TARGETARCH" = "arm64" ]; then echo arm; fi\n')
    assert codes(tmp_path, text) == [("AL008", 3)]


def test_a_pip_line_in_the_amd64_branch_needs_no_arm64_wheel(tmp_path):
    v = amd64_only("lmcache")
    text = ("FROM python:3.12\nARG TARGETARCH\n"
            f'RUN if [ "$TARGETARCH" = "amd64" ]; then pip install lmcache=={v}; else echo build; fi\n')
    assert codes(tmp_path, text) == []


def test_a_case_arm_restricts_its_commands(tmp_path):
    v = amd64_only("lmcache")
    text = ("FROM python:3.12\nRUN case \"$(uname -m)\" in\\\n  x86_64) pip install lmcache==" + v +
            " ;;\\\n  aarch64) echo build ;;\\\nesac\n")
    assert codes(tmp_path, text) == []


# -- how torch gets its CUDA ------------------------------------------------------

def test_a_cu130_torch_on_a_cuda_12_base_is_a_major_mismatch(tmp_path):
    text = ("FROM nvidia/cuda:12.6.3-devel-ubuntu24.04\n"
            "RUN pip install torch==2.9.0 --index-url https://wheels.example/whl/cu130\n")
    assert codes(tmp_path, text) == [("AL005", 1)]


def test_the_cu_index_is_read_over_the_default_wheel(tmp_path):
    # torch 2.9.0's default wheel needs nvidia-cuda-runtime-cu12 (rules/snapshot/torch.json); the cu130 index
    # serves a CUDA 13.0 build, which matches the base
    wheel = [r for r in releases("torch") if r["version"] == "2.9.0"][0]
    assert any(d.startswith("nvidia-cuda-runtime-cu12") for d in wheel["requires-dist"])
    text = ("FROM nvidia/cuda:13.0.2-devel-ubuntu24.04\n"
            "RUN uv pip install torch==2.9.0 --torch-backend=cu130\n")
    assert codes(tmp_path, text) == []


def test_a_torch_built_from_source_uses_the_image_cuda(tmp_path):
    text = ("FROM nvidia/cuda:13.0.2-devel-ubuntu24.04\nARG TORCH_VERSION=2.9.0\n"
            "RUN git clone -b v${TORCH_VERSION} https://github.com/pytorch/pytorch.git && cd pytorch && "
            "python setup.py bdist_wheel\n")
    assert codes(tmp_path, text) == []


def test_a_minor_cuda_skew_is_a_notice(tmp_path):
    text = "FROM nvidia/cuda:12.9.1-devel-ubuntu24.04\nRUN pip install torch==2.9.0\n"
    got = findings(tmp_path, text)
    assert [(c, sev) for c, _, sev in got] == [("AL005", "info")]


# -- NGC builds and releases aligner cannot know -------------------------------------

@pytest.mark.parametrize("version", ["2.8.0a0+5228986c39.nv25.6", "2.8.0.dev20250318+cu128"])
def test_a_build_of_its_own_is_not_said_to_be_missing_from_the_index(tmp_path, version):
    assert codes(tmp_path, f"FROM python:3.12\nRUN pip install torch=={version}\n") == []


# -- arch lists ---------------------------------------------------------------------

def test_an_expansion_is_not_read_as_architecture_names(tmp_path):
    text = ('FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\nARG TORCH_CUDA_ARCH_LIST="9.0 10.0"\n'
            'ENV TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST/ 10.0/}"\n')
    assert codes(tmp_path, text) == []


def test_an_arch_list_copied_into_env_is_one_finding_at_its_root(tmp_path):
    # rules/cuda.toml: CUDA 13.0 dropped compute 7.0 (Volta)
    text = ('FROM nvidia/cuda:13.0.2-devel-ubuntu24.04\nARG TORCH_CUDA_ARCH_LIST="7.0 9.0"\n'
            "ENV TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST}\n")
    assert codes(tmp_path, text) == [("AL006", 2)]


# -- AL001: what is and is not unpinned --------------------------------------------------

def test_the_images_own_wheels_are_not_unpinned(tmp_path):
    text = "FROM python:3.12\nRUN pip install --no-index --find-links /wheels ai-dynamo nixl\n"
    assert codes(tmp_path, text) == []


def test_a_constraints_file_decides_an_open_spec(tmp_path):
    text = "FROM python:3.12\nENV UV_CONSTRAINT=/etc/constraints.txt\nRUN uv pip install torch\n"
    assert codes(tmp_path, text) == []


def test_an_arg_that_ci_passes_is_not_unpinned(tmp_path):
    text = "FROM python:3.12\nARG VLLM_VERSION\nRUN pip install vllm==${VLLM_VERSION}\n"
    assert codes(tmp_path, text) == []


def test_a_from_tag_with_no_value_is_not_shown_as_an_empty_tag(tmp_path):
    text = "ARG TAG\nFROM vllm/vllm-openai:v${TAG}\n"
    assert [c for c, _ in codes(tmp_path, text)] == []


def test_a_clone_with_no_ref_is_unpinned(tmp_path):
    text = "FROM python:3.12\nRUN git clone https://github.com/vllm-project/vllm.git && pip install -e vllm\n"
    assert codes(tmp_path, text) == [("AL001", 2)]


def test_a_clone_with_a_later_checkout_is_pinned(tmp_path):
    text = ("FROM python:3.12\nARG VLLM_REF=v0.10.2\n"
            "RUN git clone https://github.com/vllm-project/vllm.git && cd vllm && git checkout ${VLLM_REF}\n")
    assert codes(tmp_path, text) == []


# -- AL011: unknown is not empty ------------------------------------------------------------

def test_a_name_the_base_image_sets_is_not_empty(tmp_path):
    # rules/base_env.toml: nvidia/cuda sets CUDA_VERSION itself
    text = ("ARG CUDA_VERSION=12.8.1\nFROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04\n"
            "RUN echo ${CUDA_VERSION%%.*}\n")
    assert codes(tmp_path, text) == []


def test_a_global_arg_a_stage_does_not_redeclare_is_one_finding_at_its_first_use(tmp_path):
    text = ("ARG GITHUB_REF\nFROM python:3.12 AS runtime\nRUN curl -o a https://x.example/${GITHUB_REF}/a && \\\n"
            "    curl -o b https://x.example/${GITHUB_REF}/b\n")
    assert codes(tmp_path, text) == [("AL011", 3)]


# -- flashinfer's kernel packages ---------------------------------------------------------

def test_flashinfer_cubin_must_equal_flashinfer_python(tmp_path):
    cubin = [r["version"] for r in releases("flashinfer-cubin")]
    python = {r["version"] for r in releases("flashinfer-python")}
    both = [v for v in cubin if v in python]
    assert len(both) >= 2
    text = f"FROM python:3.12\nRUN pip install flashinfer-python=={both[-1]} flashinfer-cubin=={both[-2]}\n"
    assert codes(tmp_path, text) == [("AL003", 2)]
    same = f"FROM python:3.12\nRUN pip install flashinfer-python=={both[-1]} flashinfer-cubin=={both[-1]}\n"
    assert codes(tmp_path, same) == []


def test_an_ngc_torch_is_checked_against_its_release(tmp_path):
    # rules/ngc.toml: the torch of NGC PyTorch 25.05 and 25.10, from TensorRT-LLM's requirements at those releases
    rows = {r["release"]: r["torch"] for r in _ngc_pytorch() if r.get("torch")}
    own, other = rows["25.05"], rows["25.10"]
    assert own != other
    right = f"FROM python:3.12\nRUN pip install torch=={own}+5228986c39.nv25.05\n"
    wrong = f"FROM python:3.12\nRUN pip install torch=={other}+145a3a7bda.nv25.05\n"
    assert codes(tmp_path, right) == []
    assert codes(tmp_path, wrong) == [("AL007", 2)]


def test_a_spec_reinstalled_pinned_later_is_not_unpinned(tmp_path):
    text = "FROM python:3.12\nRUN pip install vllm\nRUN pip install --force-reinstall vllm==0.10.2\n"
    assert codes(tmp_path, text) == []


def test_a_release_older_than_the_snapshot_is_a_notice(tmp_path):
    since = [r["version"] for r in releases("vllm")][0]
    older = "0.6.3"  # a vLLM release before the snapshot's floor
    from packaging.version import Version
    assert Version(older) < Version(since)
    got = findings(tmp_path, f"FROM python:3.12\nRUN pip install vllm=={older}\n")
    assert [(c, sev) for c, _, sev in got] == [("AL014", "info")]


def _ngc_pytorch():
    import tomllib
    return tomllib.loads((ROOT / "rules" / "ngc.toml").read_text())["pytorch"]


def test_a_clone_checked_out_in_a_later_run_of_the_stage_is_pinned(tmp_path):
    text = ("FROM python:3.12\nARG VLLM_COMMIT=v0.10.2\nRUN git clone https://github.com/vllm-project/vllm.git\n"
            "RUN cd vllm && git checkout ${VLLM_COMMIT}\n")
    assert codes(tmp_path, text) == []


def test_a_clone_in_another_stage_is_not_pinned_by_this_stages_checkout(tmp_path):
    text = ("FROM python:3.12 AS a\nRUN git clone https://github.com/vllm-project/vllm.git\n"
            "FROM python:3.12 AS b\nARG VLLM_COMMIT=v0.10.2\nRUN git clone https://github.com/vllm-project/vllm.git "
            "&& cd vllm && git checkout ${VLLM_COMMIT}\n")
    assert codes(tmp_path, text) == [("AL001", 2)]
