"""`aligner report`: the version matrix of the locked images, through this checkout's CLI.

The fixture repo (tests/fixtures/repos/report) has four images; the expected
values come from its own files and from rules/, read here with tomllib and
regular expressions, never from aligner's output:

- versions: the lock written by `aligner lock` in a temporary copy, and the
  Dockerfiles' own pins;
- compute capabilities: rules/gpus.toml; what a CUDA release compiles for and
  the driver it needs: rules/cuda.toml;
- the verdicts, from those facts: an `X.Y` target runs on GPUs of major X and
  minor >= Y.
"""

import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from packaging.version import Version

from tests.conftest import ROOT, aligner_cmd, aligner_env
from tests.support.repos import copy_repo

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

RULES = ROOT / "rules"


def toml(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def run(*args, cwd):
    env = aligner_env(COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*aligner_cmd(), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A copy of the fixture repo with its lock written by `aligner lock` (tests read it, never write it)."""
    repo = copy_repo("report", tmp_path_factory.mktemp("report"))
    out = run("lock", cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr
    return repo


@pytest.fixture(scope="module")
def locked(fresh, tmp_path_factory):
    """The lock as an aligner that took each image's CUDA as given wrote it: every CUDA the one its
    Dockerfiles pin. A fresh lock moves a CUDA that a target GPU or the hosts' driver rules out, so its
    report never says `no` for those reasons (test_a_fresh_lock_runs_on_its_target_gpus); a lock written
    before, or by hand, does, and the report must say so."""
    repo = tmp_path_factory.mktemp("written-before") / "report"
    shutil.copytree(fresh, repo)
    path = repo / "lock" / "aligner.lock"
    written = dockerfile_pins(repo)
    blocks = path.read_text().split("[[image]]")
    for n, block in enumerate(blocks[1:], 1):
        name = re.search(r'^name = "([^"]+)"', block, re.M).group(1)
        blocks[n] = re.sub(r'^cuda = "[^"]*"$', f'cuda = "{written[name]["cuda"]}"', block, count=1, flags=re.M)
    path.write_text("[[image]]".join(blocks))
    return repo


@pytest.fixture
def repo(locked, tmp_path):
    """A writable copy of the locked repo."""
    dst = tmp_path / "report"
    shutil.copytree(locked, dst)
    return dst


# ------------------------------------------------------------- the expected values, worked out here

def compute_of():
    return {g["name"]: g["compute"] for g in toml(RULES / "gpus.toml")["gpu"]}


def cc(text):
    major, minor = text.split(".")[:2]
    return int(major), int(re.match(r"\d+", minor).group())


def runs_on(target, gpu):
    """A plain `X.Y` target (all the fixture uses) runs on major X with minor >= Y."""
    t, g = cc(target), cc(gpu)
    return t[0] == g[0] and g[1] >= t[1]


def expected(repo):
    """{image: {gpu: (True | False | None, the words a `no`/`unknown` reason must contain)}}."""
    config = toml(repo / "aligner.toml")
    lock = {img["name"]: img for img in toml(repo / "lock" / "aligner.lock")["image"]}
    compute = compute_of()
    cuda = toml(RULES / "cuda.toml")
    arch = {row["cuda"]: row["compute"] for row in cuda["arch"]}
    floor = {row["cuda"]: row["linux"] for row in cuda["driver"]}
    out = {}
    for name, image in config["images"].items():
        files = image.get("dockerfiles") or [image["dockerfile"]]
        text = "".join((repo / f).read_text() for f in files)
        m = re.search(r'^(?:ENV|ARG) (TORCH_CUDA_ARCH_LIST|CUDA_ARCH_LIST)="?([^"\n]*)"?$', text, re.M)
        arch_list = m.group(2).replace(";", " ").split() if m else None
        version = lock[name]["pins"]["cuda"]
        minor = ".".join(version.split(".")[:2])
        verdicts = {}
        for gpu in image["gpus"]:
            c = compute[gpu]
            if "driver" in image and Version(floor[version]) > Version(image["driver"]):
                verdicts[gpu] = (False, floor[version])
            elif arch_list is not None:
                ok = any(runs_on(t, c) for t in arch_list)
                verdicts[gpu] = (ok, None if ok else f"{m.group(1)} leaves out {c}")
            elif minor not in arch:
                verdicts[gpu] = (None, f"CUDA {minor}")
            else:
                ok = any(runs_on(t, c) for t in arch[minor])
                verdicts[gpu] = (ok, None if ok else f"CUDA {minor} cannot target {c}")
        out[name] = verdicts
    return out


def test_the_fixture_covers_every_verdict(locked):
    """The fixture is only useful if it shows yes, no (arch list, CUDA, driver) and unknown."""
    want = expected(locked)
    verdicts = [v for image in want.values() for v in image.values()]
    assert {v[0] for v in verdicts} == {True, False, None}
    assert want["vllm"] == {"H100": (True, None), "B200": (True, None),
                            "A100": (False, "TORCH_CUDA_ARCH_LIST leaves out 8.0")}
    assert want["sglang"]["B200"][0] is False and want["legacy"]["A10"][0] is False


def test_a_fresh_lock_runs_on_its_target_gpus(fresh):
    """The lock decides the CUDA: no target GPU is left out by the locked CUDA or by the hosts' driver."""
    doc = json.loads(run("report", "--format", "json", cwd=fresh).stdout)
    for image in doc["images"]:
        for gpu in image["gpus"]:
            assert gpu["runs"] is not False or "leaves out" in gpu["reason"], (image["name"], gpu)


def dockerfile_pins(repo):
    """{image: {component: version}} read straight from the fixture's ARG and FROM lines."""
    config = toml(repo / "aligner.toml")
    names = {"PYTHON_VERSION": "python", "NIXL_VERSION": "nixl", "VLLM_REF": "vllm", "FLASHINF_REF":
             "flashinfer-python", "FLASHINFER_VERSION": "flashinfer-python", "TORCH_VERSION": "torch",
             "LMCACHE_VERSION": "lmcache", "SGLANG_VERSION": "sglang"}
    out = {}
    for name, image in config["images"].items():
        pins = {}
        for f in image.get("dockerfiles") or [image["dockerfile"]]:
            text = (repo / f).read_text()
            for var, value in re.findall(r'^ARG (\w+)="?v?([0-9][^"\s]*)"?$', text, re.M):
                if var in names:
                    pins[names[var]] = value
            for version in re.findall(r"nvidia/cuda:([0-9.]+)-", text):
                pins["cuda"] = version
        out[name] = pins
    return out


# ------------------------------------------------------------------------------------ Markdown

def table(md):
    lines = [l for l in md.splitlines() if l.startswith("|")]
    split = lambda l: [c.strip() for c in l.strip().strip("|").split(" | ")]
    head = split(lines[0])
    assert set(lines[1]) <= {"|", "-"}
    return head, [dict(zip(head, split(l))) for l in lines[2:]]


def test_markdown_matrix(locked):
    out = run("report", cwd=locked)
    assert out.returncode == 0, out.stderr
    md = out.stdout
    assert md.startswith("# ")
    intro = md.splitlines()[2]
    assert "Generated by `aligner report`" in intro and "lock/aligner.lock" in intro and "do not edit" in intro

    config = toml(locked / "aligner.toml")
    lock = {img["name"]: img["pins"] for img in toml(locked / "lock" / "aligner.lock")["image"]}
    head, rows = table(md)
    others = sorted({c for pins in lock.values() for c in pins}
                    - {"python", "cuda", "torch", "vllm", "sglang", "tensorrt-llm", "flashinfer-python", "nixl"})
    # flashinfer-cubin is locked where the image's engine release requires it (rules/snapshot/<engine>.json)
    def requires_cubin(engine, version):
        rows = json.loads((ROOT / "rules" / "snapshot" / f"{engine}.json").read_text())["releases"]
        dist = next(r for r in rows if r["version"] == version)["requires-dist"] or []
        return any(d.replace("_", "-").startswith("flashinfer-cubin") for d in dist)
    cubin = any(requires_cubin(e, pins[e]) for pins in lock.values() for e in ("vllm", "sglang") if e in pins)
    assert others == (["flashinfer-cubin"] if cubin else []) + ["lmcache"]
    assert head == ["image", "platforms", "python", "cuda", "torch", "engine", "flashinfer", "nixl", *others,
                    "runs on"]
    assert [r["image"] for r in rows] == sorted(config["images"])

    written = dockerfile_pins(locked)
    want = expected(locked)
    compute = compute_of()
    for r in rows:
        name, pins, image = r["image"], lock[r["image"]], config["images"][r["image"]]
        for comp, version in written[name].items():  # the lock keeps every pin of the fixture
            assert pins[comp] == version, (name, comp)
        assert r["platforms"] == ", ".join(image.get("platforms", config["platforms"]))
        for col, comp in (("python", "python"), ("cuda", "cuda"), ("torch", "torch"),
                          ("flashinfer", "flashinfer-python"), ("nixl", "nixl"), ("lmcache", "lmcache")):
            assert r[col] == pins.get(comp, "-"), (name, col)
        engines = [f"{e} {pins[e]}" for e in ("vllm", "sglang", "tensorrt-llm") if e in pins]
        assert r["engine"] == (", ".join(engines) or "-")
        cells = r["runs on"].split("<br>")
        assert [c.split(":")[0] for c in cells] == image["gpus"]
        for cell, gpu in zip(cells, image["gpus"]):
            ok, words = want[name][gpu]
            word = {True: "yes", False: "no", None: "unknown"}[ok]
            if ok:
                assert cell == f"{gpu}: yes"
            else:
                assert cell.startswith(f"{gpu}: {word} (") and words in cell, (cell, words)
            line = next(l for l in md.splitlines() if l.startswith(f"- {name} on {gpu}: "))
            assert line.startswith(f"- {name} on {gpu}: {word}. ")
            assert f"compute capability {compute[gpu]}" in line and "rules/gpus.toml" in line

    sources = md.split("## Sources", 1)[1]
    for gpu in {g for image in config["images"].values() for g in image["gpus"]}:
        assert f"- {gpu}: compute capability {compute[gpu]}; rules/gpus.toml: " in sources
    for row in toml(RULES / "cuda.toml")["driver"]:
        if row["cuda"] in {pins["cuda"] for pins in lock.values()}:
            assert f"CUDA {row['cuda']}: Linux driver >= {row['linux']}; rules/cuda.toml" in sources

    assert run("report", cwd=locked).stdout == md  # deterministic
    assert not re.search(r"\b20\d\d-\d\d-\d\d", md)  # no date in it


def test_driver_reason_names_the_floor_and_the_hosts_driver(locked):
    md = run("report", cwd=locked).stdout
    floor = next(r["linux"] for r in toml(RULES / "cuda.toml")["driver"] if r["cuda"] == "12.4.1")
    line = next(l for l in md.splitlines() if l.startswith("- legacy on A10: "))
    assert f">= {floor}" in line and "535.104.05" in line


# ------------------------------------------------------------------------------------ JSON

def test_json_matrix(locked):
    out = run("report", "--format", "json", cwd=locked)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["version"] == 1 and doc["lock"] == "lock/aligner.lock"
    config = toml(locked / "aligner.toml")
    lock = {img["name"]: img for img in toml(locked / "lock" / "aligner.lock")["image"]}
    want, compute = expected(locked), compute_of()
    assert [i["name"] for i in doc["images"]] == sorted(config["images"])
    for image in doc["images"]:
        name = image["name"]
        assert image["pins"] == lock[name]["pins"]
        assert image["platforms"] == lock[name]["platforms"]
        assert image["dockerfiles"] == lock[name]["dockerfiles"]
        assert image["engines"] == [e for e in ("vllm", "sglang", "tensorrt-llm") if e in lock[name]["pins"]]
        assert image["driver"] == config["images"][name].get("driver")
        assert [g["name"] for g in image["gpus"]] == config["images"][name]["gpus"]
        for g in image["gpus"]:
            assert g["compute"] == compute[g["name"]]
            assert g["runs"] is want[name][g["name"]][0], (name, g)
            assert g["reason"]
    vllm = next(i for i in doc["images"] if i["name"] == "vllm")
    assert [(a["name"], a["value"], a["path"]) for a in vllm["arch_lists"]] == [
        ("TORCH_CUDA_ARCH_LIST", "9.0 10.0", "Dockerfile.base")]
    floor = next(r["linux"] for r in toml(RULES / "cuda.toml")["driver"] if r["cuda"] == lock["vllm"]["pins"]["cuda"])
    assert vllm["cuda_driver_min"]["linux"] == floor


def test_output_json_by_extension(repo):
    out = run("report", "--output", "matrix.json", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert json.loads((repo / "matrix.json").read_text())["version"] == 1


# ------------------------------------------------------------------------------------ --output, --check

def test_output_writes_atomically(repo):
    shown = run("report", cwd=repo).stdout
    out = run("report", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 0, out.stderr
    page = repo / "docs" / "versions.md"
    assert page.read_text() == shown and out.stdout == ""
    assert "docs/versions.md" in out.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(page.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    assert sorted(p.name for p in page.parent.iterdir()) == ["versions.md"]  # no temporary file left

    # a stale page is replaced by a rename (a hard link to the old file keeps the old bytes), mode kept
    page.write_text("old\n")
    page.chmod(0o640)
    os.link(page, repo / "old-link.md")
    inode = page.stat().st_ino
    out = run("report", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert page.read_text() == shown and page.stat().st_ino != inode
    assert (repo / "old-link.md").read_text() == "old\n"
    assert stat.S_IMODE(page.stat().st_mode) == 0o640

    # a current page is left alone
    inode = page.stat().st_ino
    out = run("report", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 0 and "unchanged" in out.stderr
    assert page.stat().st_ino == inode


def test_check_missing_stale_and_current(repo):
    page = repo / "docs" / "versions.md"
    out = run("report", "--check", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 1
    assert "docs/versions.md" in out.stderr and "missing" in out.stderr
    assert "aligner report --output docs/versions.md" in out.stderr
    assert not page.exists()  # --check writes nothing

    assert run("report", "--output", "docs/versions.md", cwd=repo).returncode == 0
    out = run("report", "--check", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 0, out.stderr

    stale = page.read_text().replace("| vllm |", "| vllm-old |")
    page.write_text(stale)
    out = run("report", "--check", "--output", "docs/versions.md", cwd=repo)
    assert out.returncode == 1
    assert "docs/versions.md" in out.stderr and "stale" in out.stderr
    assert "aligner report --output docs/versions.md" in out.stderr
    assert page.read_text() == stale


def test_check_needs_output(locked):
    out = run("report", "--check", cwd=locked)
    assert out.returncode == 2 and "--output" in out.stderr


def test_a_stale_lock_is_reported_as_written_with_a_note(repo):
    lock_before = (repo / "lock" / "aligner.lock").read_text()
    with open(repo / "Dockerfile.tools", "a") as fh:
        fh.write("# changed after `aligner lock`\n")
    out = run("report", "--format", "json", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "note: lock/aligner.lock is stale" in out.stderr
    assert (repo / "lock" / "aligner.lock").read_text() == lock_before


def test_missing_lock_is_an_input_error(tmp_path):
    bare = copy_repo("report", tmp_path)  # no lock: copy_repo leaves lock/ out
    for args in ([], ["--output", "docs/versions.md"], ["--check", "--output", "docs/versions.md"]):
        out = run("report", *args, cwd=bare)
        assert out.returncode == 2, args
        assert "lock/aligner.lock" in out.stderr and "aligner lock" in out.stderr
        assert out.stdout == ""
    assert not (bare / "docs").exists()


def test_help_says_what_it_does(run_aligner):
    out = run_aligner("report", "--help")
    assert out.returncode == 0
    for words in ("--output", "--check", "--format", "rules/gpus.toml", "rules/cuda.toml", "TORCH_CUDA_ARCH_LIST"):
        assert words in out.stdout


# ------------------------------------------------------------------------------------ this repository

def test_this_repos_version_page_is_current(run_aligner):
    """What CI runs: docs/versions.md must be what `aligner report` makes of lock/aligner.lock."""
    out = run_aligner("report", "--check", "--output", "docs/versions.md", cwd=ROOT)
    assert out.returncode == 0, out.stderr
