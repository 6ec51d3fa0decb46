"""The image's CUDA is a decision of the lock: it moves to meet the target GPUs, the arch list, the torch it
builds against and the hosts' driver, to the smallest move whose nvidia/cuda tag NVIDIA publishes.

Expected versions are worked out here from the rules/ tables (NVIDIA's tag lists, the release that added
each architecture, the driver table) and the snapshot, read with tomllib, never from aligner's output.
The FROM lines take the shapes of real files: vLLM's docker/Dockerfile (`ARG CUDA_VERSION` in
`FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04`, a builder and a `-base-` final stage) and a DGX
Spark community image (`FROM nvidia/cuda:13.0.1-devel-ubuntu24.04`).
"""

from pathlib import Path

import pytest
from packaging.version import Version

from aligner.decide import fix, lock
from aligner.know.versions import runtime_cuda
from aligner.read import config
from aligner.relate.workspace import Workspace
from tests.support.cuda_facts import RULES, SNAP, added, gpu_compute, published, smallest_move_at_least
from tests.support.example_facts import tomllib

def torch_runtime(version: str) -> str:
    """The CUDA of torch's x86_64 wheels, from its requirements in the snapshot."""
    rel = SNAP.release("torch", version)
    env = {"platform_system": "Linux", "platform_machine": "x86_64", "sys_platform": "linux", "python_version": "3.12"}
    found = {runtime_cuda(r) for r in rel.requirements() if runtime_cuda(r) and (r.marker is None or r.marker.evaluate(env))}
    (cuda,) = found
    return cuda


def repo(d: Path, dockerfile: str, image: str = "") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(dockerfile)
    (d / "aligner.toml").write_text('platforms = ["linux/amd64"]\n[images.serve]\ndockerfile = "Dockerfile"\n' + image)
    return d


def locked(d: Path):
    cfg = config.load(d / "aligner.toml")
    ws = Workspace(cfg)
    cat = cfg.catalog()
    return ws, cat, lock.compute(ws, cat, SNAP)


def cuda_of(d: Path) -> str:
    _, _, out = locked(d)
    assert not out.conflicts, out.conflicts[0].lines
    return out.locked[0].result.choices["cuda"].version


def test_a_gpu_moves_cuda(tmp_path):
    d = repo(tmp_path, "FROM nvidia/cuda:12.6.3-runtime-ubuntu22.04\nRUN echo serve\n", 'gpus = ["B200"]\n')
    want = smallest_move_at_least(added(gpu_compute("B200")), "runtime", "ubuntu22.04")
    assert cuda_of(d) == want


def test_an_arch_moves_cuda(tmp_path):
    d = repo(tmp_path, 'FROM nvidia/cuda:12.6.3-devel-ubuntu24.04\nARG TORCH_CUDA_ARCH_LIST="9.0 12.0"\n')
    assert cuda_of(d) == smallest_move_at_least(added("12.0"), "devel", "ubuntu24.04")


def test_torch_moves_the_toolkit_an_image_compiles_with(tmp_path):
    text = ('FROM nvidia/cuda:12.6.3-devel-ubuntu22.04\nENV TORCH_CUDA_ARCH_LIST="9.0"\n'
            "RUN pip install torch==2.8.0\n")
    d = repo(tmp_path, text)
    floor = torch_runtime("2.8.0")
    assert Version(floor) > Version("12.6")  # the case is only a test while the snapshot says so
    assert cuda_of(d) == smallest_move_at_least(floor, "devel", "ubuntu22.04")


def test_an_image_that_compiles_nothing_keeps_its_minor(tmp_path):
    # torch's wheels bring their own CUDA runtime: only the major has to agree
    d = repo(tmp_path, "FROM nvidia/cuda:12.6.3-runtime-ubuntu22.04\nRUN pip install torch==2.8.0\n")
    assert cuda_of(d) == "12.6.3"


def test_a_cuda_that_meets_everything_stays(tmp_path):
    d = repo(tmp_path, "FROM nvidia/cuda:12.8.1-devel-ubuntu22.04\nENV TORCH_CUDA_ARCH_LIST=\"10.0\"\n",
             'gpus = ["B200", "H100"]\n')
    ws, cat, out = locked(d)
    assert out.locked[0].result.choices["cuda"].version == "12.8.1"
    assert out.locked[0].why["cuda"].startswith("the image's cuda (Dockerfile:1)")


def test_a_torch_of_another_major_moves_cuda_as_an_unsafe_change(tmp_path):
    torch = next(r.version for r in reversed(SNAP.releases("torch")) if not Version(r.version).is_prerelease
                 and r.requires_dist and torch_runtime_or_none(r.version, "13"))
    d = repo(tmp_path, f"FROM nvidia/cuda:12.8.1-devel-ubuntu22.04\nRUN pip install torch=={torch}\n")
    ws, cat, out = locked(d)
    cuda = out.locked[0].result.choices["cuda"].version
    majors = sorted((Version(v) for v in published("devel", "ubuntu22.04") if v.startswith("13.")))
    lowest = majors[0].release[:2]
    assert cuda == str(max(v for v in majors if v.release[:2] == lowest))
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    held = [e for e in plan.held() if e.pin.component == "cuda"]
    assert held and "major" in held[0].unsafe, [(e.pin.component, e.unsafe) for e in plan.held()]
    assert not plan.changed()


def torch_runtime_or_none(version: str, major: str) -> bool:
    try:
        return torch_runtime(version).split(".")[0] == major
    except ValueError:
        return False


def test_a_driver_that_forbids_the_move_is_a_conflict_naming_both(tmp_path):
    rows = tomllib.loads((RULES / "cuda.toml").read_text())["driver"]
    floor = added(gpu_compute("B200"))
    # a driver that runs 12.6.3 and nothing of the B200's first release
    driver = next(r["linux"] for r in rows if r["cuda"] == "12.6.3")
    assert all(Version(r["linux"]) > Version(driver) for r in rows if Version(r["cuda"]) >= Version(floor))
    d = repo(tmp_path, "FROM nvidia/cuda:12.6.3-runtime-ubuntu22.04\n", f'gpus = ["B200"]\ndriver = "{driver}"\n')
    _, _, out = locked(d)
    (conflict,) = out.conflicts
    text = "\n".join(conflict.lines)
    assert f"driver {driver}" in text and "gpus B200" in text, text


def test_no_published_tag_is_a_conflict(tmp_path):
    # NVIDIA publishes no CUDA 13 image for Ubuntu 20.04
    assert not [v for v in published("devel", "ubuntu20.04") if v.startswith("13.")]
    d = repo(tmp_path, 'FROM nvidia/cuda:12.8.1-devel-ubuntu20.04\n', 'gpus = ["GB10"]\n')
    _, _, out = locked(d)
    (conflict,) = out.conflicts
    assert "gpus GB10" in "\n".join(conflict.lines)


def test_stages_move_together_through_one_arg(tmp_path):
    # vLLM's docker/Dockerfile: one CUDA_VERSION ARG for a devel builder and a base final stage
    text = ("ARG CUDA_VERSION=12.6.3\n"
            "FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04 AS build\n"
            "RUN echo build\n"
            "FROM nvidia/cuda:${CUDA_VERSION}-base-ubuntu24.04\n")
    d = repo(tmp_path, text, 'gpus = ["B200"]\n')
    ws, cat, out = locked(d)
    want = smallest_move_at_least(added(gpu_compute("B200")), "devel", "ubuntu24.04", ("base", "ubuntu24.04"))
    assert out.locked[0].result.choices["cuda"].version == want
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    (fp,) = plan.changed()
    assert fp.new.decode().splitlines()[0] == f"ARG CUDA_VERSION={want}"
    assert fp.new.decode().splitlines()[1:] == text.splitlines()[1:]


def test_a_cuda_written_where_no_tag_holds_it_stays_its_own(tmp_path):
    # the CUDA of an install script, not of a FROM tag: aligner cannot tell which other values exist
    text = "FROM ubuntu:22.04\nARG CUDA_VERSION=12.6.3\nRUN ./install_cuda.sh ${CUDA_VERSION}\n"
    d = repo(tmp_path, text, 'gpus = ["B200"]\n')
    _, _, out = locked(d)
    (conflict,) = out.conflicts
    assert any("the image's cuda is 12.6.3" in line for line in conflict.lines), conflict.lines


@pytest.mark.parametrize("gpu", ["B200", "GB10", "H100"])
def test_the_gpu_floor_is_the_documented_one(gpu):
    from aligner.know import cudarange

    stated = [r["cuda"] for r in tomllib.loads((RULES / "gpus.toml").read_text()).get("min-cuda", []) if r["gpu"] == gpu]
    floor = max([added(gpu_compute(gpu))] + stated, key=Version)
    r = cudarange.for_gpu(gpu)
    assert str(r.specifier) == f">={floor}"


def test_newer_cuda_never_needs_an_older_driver():
    """for_driver reads the driver table as a bound: that holds only while the table rises with the release."""
    rows = sorted(tomllib.loads((RULES / "cuda.toml").read_text())["driver"], key=lambda r: Version(r["cuda"]))
    floors = [Version(r["linux"]) for r in rows]
    assert floors == sorted(floors)


# ---- an NGC base moves by whole releases: its CUDA (and Python, torch) with it --------------------------

def ngc_rows(table: str) -> list:
    return tomllib.loads((RULES / "ngc.toml").read_text())[table]


def test_an_ngc_base_moves_to_the_nearest_release_whose_cuda_the_gpu_needs(tmp_path):
    rows = [r for r in ngc_rows("tritonserver") if r.get("cuda")]
    start = next(r for r in rows if r["cuda"].startswith("12."))
    floor = max([added(gpu_compute("GB10"))] + [r["cuda"] for r in tomllib.loads(
        (RULES / "gpus.toml").read_text())["min-cuda"] if r["gpu"] == "GB10"], key=Version)
    months = lambda r: int(r["release"][:2]) * 12 + int(r["release"][3:])
    want = min((r for r in rows if Version(r["cuda"]) >= Version(floor)), key=lambda r: abs(months(r) - months(start)))
    d = repo(tmp_path, f"FROM nvidia/tritonserver:{start['release']}-py3\nRUN echo serve\n", 'gpus = ["GB10"]\n')
    ws, cat, out = locked(d)
    (li,) = out.locked
    assert li.result.choices["ngc-tritonserver"].version == want["release"]
    assert li.result.choices["cuda"].version == want["cuda"]
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    (edit,) = plan.held()  # 12.x to 13.x: a CUDA major change, unsafe
    assert edit.after == want["release"] and "CUDA major" in edit.unsafe


def test_an_ngc_base_moves_down_to_what_the_hosts_driver_runs(tmp_path):
    rows = [r for r in ngc_rows("tritonserver") if r.get("cuda")]
    drivers = {r["cuda"]: r["linux"] for r in tomllib.loads((RULES / "cuda.toml").read_text())["driver"]}
    # a 13.x release whose CUDA needs a newer driver than an earlier 13.x release does
    start = next(r for r in reversed(rows) if r["cuda"] in drivers and r["cuda"].startswith("13."))
    driver = drivers["13.0.2"]
    assert Version(drivers[start["cuda"]]) > Version(driver)
    d = repo(tmp_path, f"FROM nvidia/tritonserver:{start['release']}-py3\n", f'driver = "{driver}"\n')
    ws, cat, out = locked(d)
    months = lambda r: int(r["release"][:2]) * 12 + int(r["release"][3:])
    runs = [r for r in rows if r["cuda"] in drivers and Version(drivers[r["cuda"]]) <= Version(driver)]
    want = min(runs, key=lambda r: abs(months(r) - months(start)))
    assert out.locked[0].result.choices["ngc-tritonserver"].version == want["release"]
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    assert not plan.held() or all("downgrade" in e.unsafe for e in plan.held())  # CUDA 13 stays CUDA 13


# ---- distributions built for one CUDA major -----------------------------------------------------------

def test_a_cuda_variant_of_another_major_is_renamed_for_the_locks_cuda(tmp_path, run_aligner):
    import json

    nixl = next(r.version for r in reversed(SNAP.releases("nixl-cu12")) if SNAP.release("nixl-cu13", r.version))
    text = ("FROM nvidia/cuda:13.0.1-devel-ubuntu24.04\nRUN apt-get update && apt-get install -y python3-pip\n"
            f"RUN pip install --break-system-packages nixl-cu12=={nixl}\n")
    d = repo(tmp_path, text)
    found = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=d).stdout)["findings"]
    (al005,) = [f for f in found if f["code"] == "AL005"]
    assert "nixl-cu12 is built for CUDA 12" in al005["message"] and al005["fix"]["safe"]
    assert al005["fix"]["replacement"] == "13"
    assert run_aligner("fix", "--apply", cwd=d).returncode == 0
    assert f"nixl-cu13=={nixl}" in (d / "Dockerfile").read_text()
    assert not [f for f in json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=d).stdout)["findings"]
                if f["code"] == "AL005"]


def torch_builds() -> dict:
    return {r["torch"]: r["linux-amd64"] for r in tomllib.loads((RULES / "torch_builds.toml").read_text())["torch"]}


def test_a_torch_from_pytorchs_index_moves_with_cuda_to_its_build_for_it(tmp_path):
    # a torch release whose PyTorch index has builds for CUDA 12 and 13 (rules/torch_builds.toml)
    minor, have = next((m, b) for m, b in torch_builds().items() if {b_.split(".")[0] for b_ in b} >= {"12", "13"})
    torch = next(r.version for r in SNAP.releases("torch") if r.version.startswith(minor + ".")
                 and not Version(r.version).is_prerelease)
    old = next(b for b in have if b.startswith("12."))
    text = ("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\n"
            f"RUN uv pip install --system torch=={torch} --torch-backend=cu{old.replace('.', '')}\n")
    d = repo(tmp_path, text, 'gpus = ["GB10"]\n')
    ws, cat, out = locked(d)
    cuda = out.locked[0].result.choices["cuda"].version
    assert cuda.startswith("13.")
    build = max((b for b in have if b.startswith("13.") and Version(b) <= Version(cuda)), key=Version)
    plan = fix.plan(ws, out, cat, unsafe=True, lock_note=None)
    (fp,) = plan.changed()
    assert f"--torch-backend=cu{build.replace('.', '')}" in fp.new.decode()
    assert f"nvidia/cuda:{cuda}-devel" in fp.new.decode()


def test_a_torch_whose_builds_are_unknown_keeps_its_index_major(tmp_path):
    # a torch release rules/torch_builds.toml does not know: its index's major is all aligner can say of it,
    # so for a GPU that needs CUDA 13 the lock takes a torch whose builds it knows, never a guess
    torch = next(r.version for r in reversed(SNAP.releases("torch")) if not Version(r.version).is_prerelease
                 and ".".join(r.version.split(".")[:2]) not in torch_builds())
    text = ("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\n"
            f"RUN uv pip install --system torch=={torch} --torch-backend=cu128\n")
    d = repo(tmp_path, text, 'gpus = ["GB10"]\n')
    _, _, out = locked(d)
    (li,) = out.locked
    chosen = li.result.choices["torch"].version
    assert li.result.choices["cuda"].version.startswith("13.")
    assert chosen != torch and ".".join(chosen.split(".")[:2]) in torch_builds()
    assert any(b.startswith("13.") for b in torch_builds()[".".join(chosen.split(".")[:2])])


def test_a_variant_installed_only_when_the_cuda_major_matches_is_not_flagged(tmp_path, run_aligner):
    import json

    # SGLang's docker/Dockerfile installs nixl-cu13 only in a CUDA 13 branch of one RUN line
    text = ("ARG CUDA_VERSION=12.9.1\nFROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04\nARG CUDA_VERSION\n"
            "RUN apt-get update && apt-get install -y python3-pip\n"
            'RUN if [ "${CUDA_VERSION%%.*}" = "13" ]; then \\\n'
            "      python3 -m pip install nixl-cu13 --no-deps ; \\\n    fi\n")
    d = repo(tmp_path, text)
    found = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=d).stdout)["findings"]
    assert not [f for f in found if f["code"] == "AL005"], found


def test_a_build_aligner_pins_no_version_of_is_flagged_and_named(tmp_path, run_aligner):
    import json

    text = ("FROM nvidia/cuda:13.0.1-devel-ubuntu24.04\nRUN apt-get update && apt-get install -y python3-pip\n"
            "RUN pip install --break-system-packages cupy-cuda12x ucx-py-cu12\n")
    d = repo(tmp_path, text)
    found = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=d).stdout)["findings"]
    al005 = sorted(f["message"].split(" is built")[0] for f in found if f["code"] == "AL005")
    assert al005 == ["cupy-cuda12x", "ucx-py-cu12"] and all(f["fix"] is None for f in found if f["code"] == "AL005")
    out = run_aligner("fix", cwd=d)
    assert "install cupy-cuda13x" in out.stderr and "install ucx-py-cu13" in out.stderr
