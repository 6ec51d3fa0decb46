"""torch 2.11 and later say their CUDA through `cuda-toolkit[...]==X`, not nvidia-cuda-runtime-cuNN:
AL005 and the resolver read both. The expected CUDA is read from the snapshot's torch metadata."""

import json

from packaging.requirements import Requirement

from aligner.know.snapshot import default_dir
from aligner.know.versions import runtime_cuda, runtime_major


def snapshot_toolkit(version):
    torch = json.loads((default_dir() / "torch.json").read_text())
    rel = next(r for r in torch["releases"] if r["version"] == version)
    return next(Requirement(r) for r in rel["requires-dist"] if r.startswith("cuda-toolkit"))


def test_the_cuda_runtime_requirement_forms():
    req = snapshot_toolkit("2.13.0")
    major, minor = str(req.specifier).lstrip("=").split(".")[:2]
    assert runtime_cuda(req) == f"{major}.{minor}" and runtime_major(req) == major
    old = Requirement('nvidia-cuda-runtime-cu12==12.8.90; platform_machine == "x86_64"')  # torch 2.8.0's form
    assert runtime_cuda(old) == "12.8" and runtime_major(old) == "12"
    assert runtime_major(Requirement("nvidia-cuda-runtime-cu13>=13.0")) == "13"
    assert runtime_cuda(Requirement("cuda-toolkit>=13")) is None and runtime_cuda(Requirement("filelock")) is None


def test_check_reads_torch_2_13s_cuda_from_cuda_toolkit(tmp_path, run_aligner):
    req = snapshot_toolkit("2.13.0")
    major = str(req.specifier).lstrip("=").split(".")[0]
    other = str(int(major) - 1)
    for base, expect in ((f"{other}.8.1", True), (f"{major}.0.0", False)):
        (tmp_path / "Dockerfile").write_text(f"FROM nvidia/cuda:{base}-devel-ubuntu24.04\nRUN pip install torch==2.13.0\n")
        out = json.loads(run_aligner("check", "--no-cache", "--format", "json", ".", cwd=tmp_path).stdout)["findings"]
        al005 = [f for f in out if f["code"] == "AL005"]
        assert bool(al005) == expect, out
        if expect:
            assert f"major {major}" in al005[0]["message"] and "cuda-toolkit" in al005[0]["message"]
