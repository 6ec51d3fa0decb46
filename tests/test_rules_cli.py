"""`aligner rules`: what a user sees, offline, from the snapshot and rules/."""

from pathlib import Path

from aligner.rulesview import related
from aligner.components import catalog
from aligner.snapshot import Snapshot
from tests.pep691_server import Index

RECORDED = Path(__file__).parent / "fixtures" / "index"
DEAD_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def test_show_vllm_lists_releases_with_torch_and_flashinfer_offline(run_aligner, monkeypatch):
    for k, v in DEAD_PROXY.items():  # any network use would fail through this proxy
        monkeypatch.setenv(k, v)
    result = run_aligner("rules", "show", "vllm", "--all")
    assert result.returncode == 0, result.stderr
    snap = Snapshot.load()
    lines = result.stdout.splitlines()
    for rel in snap.releases("vllm"):
        row = next((l for l in lines if l.split("│")[0].strip().split(" ")[0] == rel.version), None)
        assert row is not None, rel.version
        want = related(rel, catalog(), "vllm")
        if "torch" in want:
            assert want["torch"].split(";")[0].split(" ")[0] in row


def test_show_one_release_prints_its_requirements(run_aligner):
    result = run_aligner("rules", "show", "vllm==0.10.2")
    assert result.returncode == 0
    rel = Snapshot.load().release("vllm", "0.10.2")
    for line in rel.requires_dist:
        assert line in result.stdout
    assert "linux/arm64" in result.stdout


def test_show_by_pip_alias_and_unknown_names(run_aligner):
    assert "flashinfer-python" in run_aligner("rules", "show", "flashinfer").stdout
    bad = run_aligner("rules", "show", "no-such-thing")
    assert bad.returncode == 2 and "unknown component or table 'no-such-thing'" in bad.stderr
    missing = run_aligner("rules", "show", "vllm==0.0.99")
    assert missing.returncode == 2 and "not a release in the snapshot" in missing.stdout


def test_list_names_every_component(run_aligner):
    result = run_aligner("rules", "list")
    assert result.returncode == 0
    for name in catalog().names():
        assert name in result.stdout


def test_refresh_writes_a_deterministic_snapshot(run_aligner, tmp_path):
    meta = (RECORDED / "vllm-0.10.2.METADATA").read_text()
    with Index() as idx:
        idx.add_file("vllm", "vllm-0.10.2-cp38-abi3-manylinux1_x86_64.whl", b"a", meta, "<3.14,>=3.9")
        env_out = []
        for n in (1, 2):
            result = run_aligner("rules", "refresh", "--project", "vllm", "--index-url", idx.url,
                                 "--out", str(tmp_path / f"s{n}"))
            assert result.returncode == 0, result.stderr
            env_out.append((tmp_path / f"s{n}" / "vllm.json").read_bytes())
    assert env_out[0] == env_out[1]
    assert b"flashinfer-python==0.3.0" in env_out[0]


def test_refresh_reports_an_unreachable_index(run_aligner, tmp_path):
    result = run_aligner("rules", "refresh", "--project", "vllm", "--index-url", "http://127.0.0.1:9/simple/",
                         "--out", str(tmp_path))
    assert result.returncode == 2
    assert "error: vllm: http://127.0.0.1:9/simple/vllm/: connection failed or reset after 4 attempts" in result.stderr
    assert not list(tmp_path.iterdir())
