"""Every rule fires on its bad fixture, stays silent on the good twin, yields to its
pragma, and renders in every output format."""

import json
import shutil
from pathlib import Path

import pytest

from aligner.decide.check.model import docs

CASES = Path(__file__).parent.parent / "fixtures" / "check"
CODES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
FORMATS = ("text", "concise", "json", "sarif", "github", "junit")


def test_every_rule_has_a_fixture_and_a_page():
    assert CODES == sorted(docs())
    for code, page in docs().items():
        assert all(page.get(k) for k in ("name", "severity", "summary", "why", "bad", "good", "fix", "not-flagged", "finds")), code


def test_pages_registered_rules_and_fixtures_are_the_same_codes():
    """Both ways: no page without a rule and a fixture, no rule without a page and a fixture."""
    from aligner.decide.check.rules import AFTER_RULES, AFTER_SUPPRESSION, RULES

    registered = sorted({*RULES, *AFTER_RULES, *AFTER_SUPPRESSION})
    assert registered == sorted(docs()), "a rule with no page in rules/codes.toml, or a page with no rule"
    assert registered == CODES, "a rule with no tests/fixtures/check/CODE, or a fixture with no rule"


def test_the_readme_rule_table_is_made_from_the_pages():
    from aligner.know.codes import pages
    from tests.support.readme_rules import current

    rows = current().splitlines()[2:]
    assert [r.split(" | ")[0].lstrip("| ") for r in rows] == sorted(pages()), "one README row per page, in order"
    for row in rows:  # each row says what its page says, written out here from the TOML
        code, name, finds = row.strip("| ").split(" | ", 2)
        assert (name, finds) == (pages()[code]["name"], pages()[code]["finds"]), code


def prepared(tmp_path, code, kind, run_aligner):
    d = tmp_path / kind
    shutil.copytree(CASES / code / kind, d)
    if code in ("AL012", "AL015") and kind == "good":
        assert run_aligner("lock", cwd=d).returncode == 0
    if code == "AL015" and kind == "bad":  # the lock moves on; the Dockerfile has not followed yet
        assert run_aligner("lock", "--upgrade-package", "vllm", cwd=d).returncode == 0
    return d


def check(run_aligner, d, *extra):
    result = run_aligner("check", "--no-cache", "--format", "json", *extra, ".", cwd=d)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("code", CODES)
def test_fires_on_bad_and_not_on_good(tmp_path, run_aligner, code):
    bad = check(run_aligner, prepared(tmp_path, code, "bad", run_aligner))
    good = check(run_aligner, prepared(tmp_path, code, "good", run_aligner))
    assert code in {f["code"] for f in bad}
    assert code not in {f["code"] for f in good}
    for f in bad:
        assert f["line"] >= 1 and f["column"] >= 1 and f["message"] and f["severity"] in ("error", "warning", "info")


@pytest.mark.parametrize("code", CODES)
def test_suppressed_by_its_pragma(tmp_path, run_aligner, code):
    d = prepared(tmp_path, code, "bad", run_aligner)
    findings = [f for f in check(run_aligner, d) if f["code"] == code]
    if code == "AL012":  # the lock is not a Dockerfile: select it out instead
        assert code not in {f["code"] for f in check(run_aligner, d, "--ignore", code)}
        return
    by_file = {}
    for f in findings:
        by_file.setdefault(f["path"], set()).add(f["line"])
    for path, lines in by_file.items():
        text = (d / path).read_text().split("\n")
        for line in sorted(lines, reverse=True):  # from the bottom, so that earlier lines keep their numbers
            text.insert(line - 1, f"# aligner: ignore={code}")
        (d / path).write_text("\n".join(text))
    if code == "AL015":  # the pragma changed the Dockerfile's bytes: lock it again, as a user would
        assert run_aligner("lock", "--upgrade-package", "vllm", cwd=d).returncode == 0
    after = check(run_aligner, d)
    assert code not in {f["code"] for f in after}
    assert "AL100" not in {f["code"] for f in after} or code == "AL100"
    assert not [f for f in after if f["code"] == "AL100" and f"{code} suppresses nothing" in f["message"]]


@pytest.mark.parametrize("code", CODES)
def test_renders_in_every_format(tmp_path, run_aligner, code):
    d = prepared(tmp_path, code, "bad", run_aligner)
    for fmt in FORMATS:
        result = run_aligner("check", "--no-cache", "--fail-on", "info", "--format", fmt, ".", cwd=d)
        assert result.returncode == 1, (fmt, result.stderr)
        assert code in result.stdout, fmt


def test_file_wide_pragma_and_unused_bare_pragma(tmp_path, run_aligner):
    d = prepared(tmp_path, "AL001", "bad", run_aligner)
    df = d / "Dockerfile"
    df.write_text("# aligner: ignore-file=AL001\n" + df.read_text())
    assert "AL001" not in {f["code"] for f in check(run_aligner, d)}
    good = prepared(tmp_path, "AL007", "good", run_aligner)
    (good / "Dockerfile").write_text("# aligner: ignore\n" + (good / "Dockerfile").read_text())
    unused = [f for f in check(run_aligner, good) if f["code"] == "AL100"]
    assert unused and "suppresses nothing" in unused[0]["message"]


def test_selection_and_severity_override(tmp_path, run_aligner):
    d = prepared(tmp_path, "AL009", "bad", run_aligner)
    assert not check(run_aligner, d, "--select", "AL00", "--ignore", "AL009")
    assert {f["code"] for f in check(run_aligner, d, "--select", "AL009")} == {"AL009"}
    (d / "aligner.toml").write_text((d / "aligner.toml").read_text() + '\n[severity]\nAL009 = "info"\n')
    assert {f["severity"] for f in check(run_aligner, d, "--select", "AL009")} == {"info"}
    assert run_aligner("check", "--no-cache", ".", cwd=d).returncode == 0  # info is below --fail-on error
    assert run_aligner("check", "--no-cache", "--fail-on", "info", ".", cwd=d).returncode == 1
    bad_code = run_aligner("check", "--select", "XX9", ".", cwd=d)
    assert bad_code.returncode == 2 and "unknown rule code 'XX9'" in bad_code.stderr


def test_cached_result_does_not_replay_another_runs_read_errors(tmp_path, run_aligner):
    d = prepared(tmp_path, "AL007", "good", run_aligner)
    first = run_aligner("check", "Dockerfile", "nothere", cwd=d)
    assert first.returncode == 2 and "nothere" in first.stderr
    second = run_aligner("check", "Dockerfile", cwd=d)
    assert second.returncode == 0 and "nothere" not in second.stderr


def test_several_findings_at_one_place_are_all_kept(tmp_path, run_aligner):
    d = prepared(tmp_path, "AL006", "bad", run_aligner)
    df = d / "Dockerfile"
    df.write_text(df.read_text().replace('"12.0f"', '"foo 12.0f bar"'))
    messages = [f["message"] for f in check(run_aligner, d, "--select", "AL006")]
    assert any("'foo'" in m for m in messages) and any("'bar'" in m for m in messages)
    assert any("cannot compile for 12.0f" in m for m in messages)
