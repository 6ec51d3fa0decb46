"""examples/spark-serving end to end, through this checkout's CLI.

Every expected value is derived here from the example's own files and from
rules/ (rules/gpus.toml, rules/cuda.toml, the release metadata in
rules/snapshot), never copied from aligner's output.
"""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.cuda_facts import added, smallest_move_at_least
from tests.support.example_docs import blocks, run_all
from tests.support.example_facts import (
    EXAMPLES, arch_row, arg, by_place, check, copy_example, gpu_compute, line_of, release, releases, rules,
    tomllib,
)


EXAMPLE = EXAMPLES / "spark-serving"
BASE, LMCACHE, EAGLE3 = "Dockerfile.base", "Dockerfile.lmcache", "Dockerfile.eagle3"
ARM64 = "linux/arm64"


# ---- facts from rules/ ---------------------------------------------------------------------------

def requirement(project: str, version: str, name: str) -> Requirement:
    """The requirement of `project==version` on `name` that applies with no extra."""
    (req,) = [Requirement(line) for line in release(project, version)["requires-dist"]
              if Requirement(line).name.replace("_", "-") == name
              and (Requirement(line).marker is None or Requirement(line).marker.evaluate({"extra": ""}))]
    return req


def pinned(req: Requirement) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", req
    return spec.version


def torch_runtime_cuda(torch: str) -> str:
    """major.minor of the CUDA runtime a torch release's wheels require (nvidia-cuda-runtime-cu12==X.Y.Z)."""
    return ".".join(pinned(requirement("torch", torch, "nvidia-cuda-runtime-cu12")).split(".")[:2])


def spark_minimum() -> str:
    (row,) = [r for r in rules("gpus")["min-cuda"] if r["gpu"] == "GB10"]
    return row["cuda"]


def locked_cuda() -> str:
    """The CUDA the lock takes: at least the Spark's minimum and the first release that compiles `12.0f`
    (rules/cuda.toml [[arch-added]]), the lowest such minor, its newest patch of this base's tag."""
    floor = max(spark_minimum(), added(arg(EXAMPLE / BASE, "CUDA_ARCH")), key=Version)
    return smallest_move_at_least(floor, "devel", "ubuntu24.04")


def newest_with_wheel(project: str, platform: str) -> str:
    return str(max(Version(r["version"]) for r in releases(project)
                   if platform in r["platforms"] and not Version(r["version"]).is_prerelease))


def target(text: str) -> tuple:
    """'12.0f' -> (12, 0, 'f')"""
    m = re.fullmatch(r"(\d+)\.(\d)([af]?)", text)
    return int(m.group(1)), int(m.group(2)), m.group(3)


def covers(entry: str, gpu: tuple) -> bool:
    """As the CUDA Programming Guide has it (rules/cuda.toml's header): `a` code runs on exactly its
    compute capability, plain and `f` code on the same major with a minor at least its own."""
    major, minor, suffix = target(entry)
    return gpu == (major, minor) if suffix == "a" else (gpu[0] == major and gpu[1] >= minor)


def compilable(entry: str, row: dict) -> bool:
    major, minor, suffix = target(entry)
    key = {"a": "arch-specific", "f": "family-specific", "": "compute"}[suffix]
    return entry in row[key] if suffix else f"{major}.{minor}" in row[key]


# ---- the example's own files ----------------------------------------------------------------------

def value(path: Path, prefix: str) -> str:
    """The value of the one `ARG NAME=...` / `ENV NAME=...` line starting with prefix, quotes removed."""
    line = path.read_text().splitlines()[line_of(path, prefix) - 1]
    return line.split("=", 1)[1].strip().strip('"')


def tag_versions(tag: str) -> dict:
    """vllm-0.12.0-lmcache-0.3.9-cpu-offload -> {'vllm': '0.12.0', 'lmcache': '0.3.9'}"""
    parts = tag.split("-")
    return {name: parts[i + 1] for i, name in enumerate(parts[:-1]) if name in ("vllm", "lmcache")}


@pytest.fixture
def repo(tmp_path):
    return copy_example(EXAMPLE, tmp_path)



# ---- the tests ------------------------------------------------------------------------------------

def test_config_is_an_arm64_spark():
    cfg = tomllib.loads((EXAMPLE / "aligner.toml").read_text())
    assert cfg["platforms"] == [ARM64]
    assert {name: img["gpus"] for name, img in cfg["images"].items()} == \
        {"spark-baseline": ["GB10"], "spark-lmcache": ["GB10"], "spark-eagle3": ["GB10"]}
    assert all(img["dockerfiles"][0] == BASE for img in cfg["images"].values())


def test_check_finds_every_misalignment_and_nothing_else(repo, run_aligner):
    base, lmc, eagle = repo / BASE, repo / LMCACHE, repo / EAGLE3
    cuda = arg(base, "CUDA_VERSION")
    vllm, torch = arg(base, "VLLM_VERSION"), arg(base, "TORCH_VERSION")
    lmcache = arg(lmc, "LMCACHE_VERSION")
    gb10 = gpu_compute("GB10")
    row = arch_row(cuda)
    base_arch, lmc_arch = arg(base, "CUDA_ARCH"), value(lmc, "ENV TORCH_CUDA_ARCH_LIST=")
    vllm_torch = pinned(requirement("vllm", vllm, "torch"))

    # what the facts say, before asking aligner
    assert covers(base_arch, gb10) and not compilable(base_arch, row)  # 12.0f: right GPUs, wrong compiler
    first_cuda_with_it = min((r["cuda"] for r in rules("cuda")["arch"] if compilable(base_arch, r)),
                             key=lambda c: tuple(map(int, c.split("."))))
    assert tuple(map(int, first_cuda_with_it.split("."))) > tuple(map(int, cuda.split(".")[:2]))
    assert compilable(lmc_arch, row) and not covers(lmc_arch, gb10)  # 12.0a: compiles, misses 12.1
    assert torch != vllm_torch
    assert torch_runtime_cuda(torch) == torch_runtime_cuda(vllm_torch) == ".".join(cuda.split(".")[:2])
    assert ARM64 in release("vllm", vllm)["platforms"] and ARM64 in release("torch", torch)["platforms"]
    assert ARM64 not in release("lmcache", lmcache)["platforms"]
    assert not str(requirement("lmcache", lmcache, "torch").specifier)  # lmcache takes any torch
    eagle_tag = tag_versions(arg(eagle, "IMAGE_TAG"))
    assert eagle_tag["vllm"] != vllm and tag_versions(arg(base, "IMAGE_TAG")) == {"vllm": vllm}
    assert tag_versions(arg(lmc, "IMAGE_TAG")) == {"vllm": vllm, "lmcache": lmcache}

    rc, findings = check(run_aligner, repo)
    assert rc == 1
    found = by_place(findings)
    places = {
        "cuda": ("AL005", BASE, line_of(base, "ARG CUDA_VERSION=")),
        "torch": ("AL003", BASE, line_of(base, "ARG TORCH_VERSION=")),
        "vllm-commit": ("AL001", BASE, line_of(base, "ARG VLLM_COMMIT=")),
        "arch-arg": ("AL006", BASE, line_of(base, "ARG CUDA_ARCH=")),
        "tag": ("AL010", EAGLE3, line_of(eagle, "ARG IMAGE_TAG=")),
        "lmcache-commit": ("AL001", LMCACHE, line_of(lmc, "ARG LMCACHE_COMMIT=")),
        "arch-lmcache": ("AL006", LMCACHE, line_of(lmc, "ENV TORCH_CUDA_ARCH_LIST=")),
        "lock": ("AL012", "lock/aligner.lock", 1),
    }
    # not found: AL008 for lmcache (built from source here: no wheel needed), and AL006 again for
    # `ENV TORCH_CUDA_ARCH_LIST=${CUDA_ARCH}` (the list of the ARG, reported once at its root)
    assert set(found) == set(places.values())  # every finding, and no other
    f = {k: found[p] for k, p in places.items()}
    assert {k: x["severity"] for k, x in f.items()} == {k: ("warning" if k in ("tag", "cuda") else "error")
                                                        for k in places}
    msg = {k: x["message"] for k, x in f.items()}

    assert f"torch {torch} does not satisfy vllm {vllm}" in msg["torch"]
    assert f"requires torch=={vllm_torch}" in msg["torch"]
    # an upgrade, held back with the base image's move to another CUDA major
    assert not f["torch"]["fix"]["safe"] and f["torch"]["fix"]["replacement"] == vllm_torch
    assert f"CUDA {cuda} is older than the GB10 needs: CUDA >= {spark_minimum()}" in msg["cuda"]
    assert f["cuda"]["fix"]["replacement"] == locked_cuda() and not f["cuda"]["fix"]["safe"]
    assert "VLLM_COMMIT is 'main'" in msg["vllm-commit"] and msg["vllm-commit"].startswith("vllm ")
    assert "LMCACHE_COMMIT is 'main'" in msg["lmcache-commit"] and msg["lmcache-commit"].startswith("lmcache ")
    assert f"CUDA {cuda} cannot compile for {base_arch}" in msg["arch-arg"]
    assert "GB10" not in msg["arch-arg"]  # 12.0f covers the GB10: the compiler is the problem
    assert f"'{lmc_arch}' leaves out the target GPU GB10" in msg["arch-lmcache"]
    assert f"compute capability {'.'.join(map(str, gb10))}" in msg["arch-lmcache"]
    assert f"IMAGE_TAG says vllm {eagle_tag['vllm']}, but the image pins {vllm}" in msg["tag"]
    assert "missing" in msg["lock"]


def test_fix_holds_the_cuda_major_move_back_with_the_base_images_changes(repo, run_aligner):
    base, lmc, eagle = repo / BASE, repo / LMCACHE, repo / EAGLE3
    before = base.read_text()
    result = run_aligner("fix", "--apply", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: the unsafe changes are left
    assert base.read_text() == before
    lmcache = value(lmc, "ARG LMCACHE_VERSION=")
    assert arg(lmc, "LMCACHE_COMMIT").lstrip("v") == lmcache  # safe, and of other images' files
    assert tag_versions(arg(eagle, "IMAGE_TAG")) == {"vllm": arg(base, "VLLM_VERSION")}


def test_after_fix_with_unsafe_fixes_only_the_lmcache_architecture_list_is_left(repo, run_aligner):
    base, lmc, eagle = repo / BASE, repo / LMCACHE, repo / EAGLE3
    vllm, lmc_tag_before = arg(base, "VLLM_VERSION"), arg(lmc, "IMAGE_TAG")
    kept = {"CUDA_ARCH": arg(base, "CUDA_ARCH"), "lmcache-arch": value(lmc, "ENV TORCH_CUDA_ARCH_LIST=")}
    result = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "fix-report.md", cwd=repo)
    assert result.returncode == 0, result.stderr  # everything fix found was written; the arch lists are not its
    # 0.3.9 has no arm64 wheel, but Dockerfile.lmcache builds it from source (`pip wheel .`): no wheel is
    # needed, so nothing moves it
    lmcache = value(lmc, "ARG LMCACHE_VERSION=")
    assert ARM64 not in release("lmcache", lmcache)["platforms"] and "pip wheel" in lmc.read_text()
    assert arg(base, "TORCH_VERSION") == pinned(requirement("vllm", vllm, "torch"))
    assert arg(base, "VLLM_VERSION") == vllm
    assert arg(base, "VLLM_COMMIT").lstrip("v") == vllm  # a release now, not the moving main
    assert arg(lmc, "LMCACHE_VERSION") == lmcache and arg(lmc, "LMCACHE_COMMIT").lstrip("v") == lmcache
    assert tag_versions(arg(eagle, "IMAGE_TAG")) == {"vllm": vllm}
    assert tag_versions(arg(lmc, "IMAGE_TAG")) == {"vllm": vllm, "lmcache": lmcache}
    assert arg(lmc, "IMAGE_TAG").split("-")[4:] == lmc_tag_before.split("-")[4:]  # the words after the versions kept
    assert {"CUDA_ARCH": arg(base, "CUDA_ARCH"), "lmcache-arch": value(lmc, "ENV TORCH_CUDA_ARCH_LIST=")} == kept
    assert arg(base, "CUDA_VERSION") == locked_cuda()  # the lock's CUDA: the Spark's minimum, and 12.0f compiles
    assert (repo / "lock" / "aligner.lock").is_file()

    rc, findings = check(run_aligner, repo)
    assert rc == 1
    left = {(f["code"], f["path"], f["line"]) for f in findings}
    assert left == {("AL006", LMCACHE, line_of(lmc, "ENV TORCH_CUDA_ARCH_LIST="))}
    assert all(f["fix"] is None for f in findings)
    report = (repo / "fix-report.md").read_text()
    left_part = report.split("### Findings left", 1)[1]
    for code, path, line in left:
        assert f"`{path}:{line}` {code}" in left_part


def test_readme_shows_what_the_commands_print():
    shown = blocks((EXAMPLE / "README.md").read_text())
    assert [cmd for cmd, _ in shown] == ["aligner check", "aligner fix", "aligner explain lmcache==0.3.9",
                                         "aligner fix --apply --report fix-report.md", "cat fix-report.md",
                                         "aligner check"]
    replayed = run_all(EXAMPLE, [cmd for cmd, _ in shown])
    assert [out for out, _ in replayed] == [out for _, out in shown]
    assert [rc for _, rc in replayed] == [1, 1, 0, 1, 0, 1]
    explained = shown[2][1]
    assert "lmcache 0.3.9" in explained.splitlines()[0] and "kept the pin of Dockerfile.lmcache" in explained
    assert "wheel" not in explained  # built from source: no wheel constrains it


# ---- gaps found while writing the example; each test says what should happen ----------------------

def test_fix_of_a_branch_ref_writes_the_tag_of_a_published_release(repo, run_aligner):
    """Whether a tag exists in github.com/vllm-project/vllm cannot be known offline; what can: `main` is
    replaced by `v` and the release the image stamps (VLLM_VERSION, as the example wrote it), a final,
    unyanked vllm release of rules/snapshot/vllm.json, the form in which vLLM tags its releases."""
    stamped = arg(EXAMPLE / BASE, "VLLM_VERSION")
    assert arg(EXAMPLE / BASE, "VLLM_COMMIT") == "main"
    result = run_aligner("fix", "--apply", "--unsafe-fixes", cwd=repo)  # with the CUDA major move
    assert result.returncode == 0, result.stderr  # 0: everything it found was written
    assert arg(repo / BASE, "VLLM_COMMIT") == f"v{stamped}" and arg(repo / BASE, "VLLM_VERSION") == stamped
    rel = release("vllm", stamped)  # exactly one such release in the snapshot
    assert not rel["yanked"] and not Version(stamped).is_prerelease, rel


def test_cuda_of_torch_is_not_read_from_an_x86_64_only_requirement(repo, run_aligner):
    base = repo / BASE
    text = base.read_text().replace(f"ARG CUDA_VERSION={arg(base, 'CUDA_VERSION')}", "ARG CUDA_VERSION=13.0.1")
    base.write_text(text)
    (req,) = [Requirement(r) for r in release("torch", arg(base, "TORCH_VERSION"))["requires-dist"]
              if Requirement(r).name == "nvidia-cuda-runtime-cu12"]
    assert not req.marker.evaluate({"platform_machine": "aarch64", "platform_system": "Linux"})
    _, findings = check(run_aligner, repo)
    assert not [f for f in findings if f["code"] == "AL005" and "nvidia-cuda-runtime-cu12" in f["message"]]


def test_text_report_shows_a_continued_line_as_written(repo, run_aligner):
    base = repo / BASE
    arg_line = "ARG CUDA_ARCH=12.0f\n"
    assert arg_line in base.read_text()
    base.write_text(base.read_text().replace(arg_line, "ARG CUDA_ARCH=12.0f \\\n    BUILD_NOTE=spark\n"))
    out = run_aligner("check", "--no-cache", cwd=repo).stdout
    (frame,) = [line for line in out.splitlines() if "| ARG CUDA_ARCH=12.0f" in line]
    assert frame.endswith("12.0f \\")
