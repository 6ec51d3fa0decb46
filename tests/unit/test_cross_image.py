"""AL009 across images: a warning when two images pin one component differently, unless the upstream
itself pins it differently for their extras (Dynamo pins one NIXL for vllm and another for sglang)."""

import json

import pytest

from tests.unit.test_upstream import snapshot_release

# two real NIXL releases, read from the snapshot
A, B = (r["version"] for r in (snapshot_release("nixl", "0.7.0"), snapshot_release("nixl", "0.7.1")))


def repo(tmp_path, vllm_spec, sglang_spec):
    (tmp_path / "upstream.toml").write_text(
        "[project]\nname = 'up'\nversion = '1'\n[project.optional-dependencies]\n"
        f"vllm = ['nixl{vllm_spec}']\nsglang = ['nixl{sglang_spec}']\n")
    (tmp_path / "aligner.toml").write_text(
        "upstream = 'upstream.toml'\nlock = 'aligner.lock'\nplatforms = ['linux/amd64']\n"
        "[images.one]\ndockerfiles = ['Dockerfile.one']\nextra = 'vllm'\n"
        "[images.two]\ndockerfiles = ['Dockerfile.two']\nextra = 'sglang'\n")
    for name, version in (("one", A), ("two", B)):
        (tmp_path / f"Dockerfile.{name}").write_text(
            f"FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\nARG NIXL_VERSION={version}\n"
            "RUN pip install \"nixl==${NIXL_VERSION}\"\n")
    return tmp_path


@pytest.mark.parametrize("vllm_spec,sglang_spec,warned", [
    (f"=={A}", f"=={B}", False),     # the upstream's own choice
    (f"<={B}", f"<={B}", True),      # one range for both: the images drifted apart
])
def test_al009_across_images_follows_the_upstream(tmp_path, run_aligner, vllm_spec, sglang_spec, warned):
    d = repo(tmp_path, vllm_spec, sglang_spec)
    out = run_aligner("check", "--no-cache", "--format", "json", "--ignore", "AL012", cwd=d)
    findings = json.loads(out.stdout)["findings"]
    al009 = [f for f in findings if f["code"] == "AL009"]
    assert bool(al009) == warned, findings
    assert not [f for f in findings if f["code"] != "AL009"], findings
