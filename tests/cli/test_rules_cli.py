"""`aligner rules`: what a user sees, offline, from the snapshot and rules/."""

import json
import re
from pathlib import Path

from aligner.know.components import catalog
from tests.support.pep691_server import Index

RECORDED = Path(__file__).parent.parent / "fixtures" / "index"
SNAPSHOT = Path(__file__).parent.parent.parent / "rules" / "snapshot"
DEAD_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def _pins_in(requires_dist, name):
    """The version clause(s) of `name` in a snapshot release's Requires-Dist lines, written out from the
    file's text: [(specifier, extra or None)], e.g. [("==0.3.0", "flashinfer")] for
    'flashinfer-python==0.3.0; extra == "flashinfer"'."""
    out = []
    for line in requires_dist:
        m = re.fullmatch(r'([A-Za-z0-9._-]+)\s*([^;]*?)\s*(?:;\s*(.*))?', line)
        if m[1].lower() != name:
            continue
        extra = re.fullmatch(r'extra == "([^"]+)"', m[3]) if m[3] else None
        assert m[3] is None or extra, f"a marker this test does not model: {line}"
        out.append((m[2], extra[1] if extra else None))
    return out


def test_show_vllm_lists_releases_with_torch_and_flashinfer_offline(run_aligner, monkeypatch):
    for k, v in DEAD_PROXY.items():  # any network use would fail through this proxy
        monkeypatch.setenv(k, v)
    result = run_aligner("rules", "show", "vllm", "--all")
    assert result.returncode == 0, result.stderr
    # the expected rows come from the snapshot file itself, read here with json, not through aligner
    snapshot = json.loads((SNAPSHOT / "vllm.json").read_text())
    lines = result.stdout.splitlines()
    (header,) = [l for l in lines if "┃" in l]
    columns = [c.strip() for c in header.split("┃")]
    assert columns[:2] == ["version", "requires-python"] and columns[-1] == "wheels", columns
    for stack in ("torch", "flashinfer-python"):
        assert stack in columns, columns
    rows = {}
    for line in lines:
        if "│" in line:
            cells = [c.strip() for c in line.split("│")]
            rows[cells[0]] = dict(zip(columns, cells))
    releases = snapshot["releases"]
    assert len(rows) == len(releases)
    for rel in releases:
        label = rel["version"] + (" (yanked)" if rel["yanked"] else "")
        row = rows.get(label)
        assert row is not None, f"vllm {label} is not listed"
        assert row["requires-python"] == (rel["requires-python"] or ""), label
        assert row["wheels"] == (", ".join(p.split("/")[1] for p in rel["platforms"]) or "sdist"), label
        for stack in columns[2:-1]:
            pins = _pins_in(rel["requires-dist"], stack)
            if not pins:
                assert row[stack] == "-", (label, stack, row[stack])
                continue
            (spec, extra), = pins  # one clause per release in this file
            # a pin under an extra may carry it, as ` [flashinfer]`; its version clause is written out as-is
            assert row[stack] in ({spec, f"{spec} [{extra}]"} if extra else {spec}), (label, stack, row[stack])
    # spot checks, copied by hand from rules/snapshot/vllm.json
    assert rows["0.10.2"]["torch"] == "==2.8.0" and rows["0.10.2"]["flashinfer-python"].startswith("==0.3.0")
    assert rows["0.10.0"]["torch"] == "==2.7.1" and rows["0.10.0"]["flashinfer-python"] == "-"
    assert rows["0.19.0"]["flashinfer-cubin"] == "==0.6.6" and rows["0.19.0"]["wheels"] == "amd64, arm64"
    assert rows["0.8.0"]["requires-python"] == ">=3.9" and rows["0.8.0"]["wheels"] == "amd64"


def test_show_one_release_prints_its_requirements(run_aligner):
    result = run_aligner("rules", "show", "vllm==0.10.2")
    assert result.returncode == 0
    (rel,) = [r for r in json.loads((SNAPSHOT / "vllm.json").read_text())["releases"] if r["version"] == "0.10.2"]
    assert rel["requires-dist"] and rel["platforms"] == ["linux/amd64", "linux/arm64"]
    for line in rel["requires-dist"]:
        assert line in result.stdout
    assert 'flashinfer-python==0.3.0; extra == "flashinfer"' in result.stdout  # written out from vllm.json
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
