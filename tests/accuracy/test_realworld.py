"""aligner on real-shaped Dockerfiles (tests/realworld/): refused files, pin recall, finding precision
and recall against expectations written by hand. The floors are the product's accuracy targets."""

from tests.realworld import score

MIN_CASES, MIN_REPOSITORIES = 60, 8
PIN_RECALL, FINDING_PRECISION, FINDING_RECALL = 0.97, 0.95, 0.95


def test_the_cases_are_many_and_their_expectations_hold_together():
    cases = score.cases()
    assert len(cases) >= MIN_CASES
    assert not [p for c in cases for p in score.lint(c)]
    repositories = {score.source_repository(c) for c in cases}
    assert len(repositories) >= MIN_REPOSITORIES, sorted(repositories)


def test_accuracy_meets_the_targets():
    results = [score.score_case(c) for c in score.cases()]
    totals = score.totals(results)
    detail = "\n".join(f"{r.name}: refused {r.refused}, missed pins {r.pins_missed}, missed findings "
                       f"{r.findings_missed}, false findings {r.findings_false}" for r in results
                       if r.refused or r.pins_missed or r.findings_missed or r.findings_false)
    assert totals.refused == 0, detail
    assert totals.pin_recall >= PIN_RECALL, detail
    assert totals.finding_precision >= FINDING_PRECISION, detail
    assert totals.finding_recall >= FINDING_RECALL, detail
