"""UCX is a decision of the lock where the image builds NIXL against it: a NIXL whose source asks for a newer
UCX moves the UCX ref, by the smallest move. Releases and the floor come from rules/ucx.toml (read with
tomllib); NIXL releases from the snapshot. The Dockerfiles take the shape of Dynamo's container/Dockerfile
(`ARG NIXL_UCX_REF`, `ARG NIXL_REF`, both checked out of their git repositories and built)."""

from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.decide import fix, lock
from aligner.read import config
from aligner.relate.workspace import Workspace
from tests.support.cuda_facts import RULES, SNAP
from tests.support.example_facts import tomllib

UCX = tomllib.loads((RULES / "ucx.toml").read_text())
FROM_SOURCE = """FROM nvidia/cuda:12.8.1-devel-ubuntu24.04
ARG NIXL_UCX_REF=v{ucx}
ARG NIXL_REF={nixl}
RUN git clone https://github.com/openucx/ucx.git /opt/ucx && cd /opt/ucx && git checkout ${{NIXL_UCX_REF}} && make install
RUN git clone https://github.com/ai-dynamo/nixl.git /opt/nixl && cd /opt/nixl && git checkout ${{NIXL_REF}} && ninja install
"""
WHEEL = """FROM nvidia/cuda:12.8.1-devel-ubuntu24.04
ARG NIXL_UCX_REF=v{ucx}
RUN git clone https://github.com/openucx/ucx.git /opt/ucx && cd /opt/ucx && git checkout ${{NIXL_UCX_REF}} && make install
RUN pip install nixl=={nixl}
"""


def floor_row():
    (row,) = UCX["nixl"]
    return row


def nixl_with_floor() -> str:
    spec = SpecifierSet(floor_row()["nixl"])
    return next(r.version for r in SNAP.releases("nixl") if spec.contains(r.version) and not Version(r.version).is_prerelease)


def below_floor() -> str:
    spec = SpecifierSet(floor_row()["ucx"])
    return max((r["version"] for r in UCX["release"] if not spec.contains(r["version"])), key=Version)


def locked(tmp_path: Path, text: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "aligner.toml").write_text('platforms = ["linux/amd64"]\n[images.serve]\ndockerfile = "Dockerfile"\n')
    cfg = config.load(tmp_path / "aligner.toml")
    ws, cat = Workspace(cfg), cfg.catalog()
    return ws, cat, lock.compute(ws, cat, SNAP)


def test_a_nixl_built_here_moves_ucx_to_the_nearest_release_it_accepts(tmp_path):
    old, nixl = below_floor(), nixl_with_floor()
    ws, cat, out = locked(tmp_path, FROM_SOURCE.format(ucx=old, nixl=nixl))
    ok = [Version(r["version"]) for r in UCX["release"] if SpecifierSet(floor_row()["ucx"]).contains(r["version"])]
    lowest = min(ok).release[:2]
    want = str(max(v for v in ok if v.release[:2] == lowest))
    (li,) = out.locked
    assert li.result.choices["ucx"].version == want
    assert f"nixl {nixl} (rules/ucx.toml) requires UCX {floor_row()['ucx']}" in li.why["ucx"]
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    (fp,) = plan.changed()
    assert fp.new.decode().splitlines()[1] == f"ARG NIXL_UCX_REF=v{want}"  # the tag's `v` kept


def test_a_nixl_wheel_brings_its_own_ucx(tmp_path):
    old, nixl = below_floor(), nixl_with_floor()
    _, _, out = locked(tmp_path, WHEEL.format(ucx=old, nixl=nixl))
    assert out.locked[0].result.choices["ucx"].version == old


def test_a_nixl_with_no_stated_floor_leaves_ucx(tmp_path):
    spec = SpecifierSet(floor_row()["nixl"])
    older = max((r.version for r in SNAP.releases("nixl") if not spec.contains(r.version)), key=Version)
    _, _, out = locked(tmp_path, FROM_SOURCE.format(ucx=below_floor(), nixl=older))
    assert out.locked[0].result.choices["ucx"].version == below_floor()
