"""NGC container releases as candidates of the lock (rules/ngc.toml): a base image such as
`nvidia/pytorch:25.03-py3` moves by whole releases, its CUDA, Python and bundled torch with it."""

from __future__ import annotations

from typing import List, Optional

from aligner.know import facts


def table(component: str) -> List[dict]:
    """The rows of an NGC component (ngc-pytorch -> rules/ngc.toml [[pytorch]])."""
    return facts.table("ngc." + component[len("ngc-"):])


def months(release: str) -> int:
    """25.03 -> months since year 0, to measure a move."""
    year, month = release.split(".")[:2]
    return int(year) * 12 + int(month)


def releases(component: str) -> List[str]:
    """The releases whose CUDA rules/ngc.toml knows: only those can be judged against a GPU or a driver."""
    return [r["release"] for r in table(component) if r.get("cuda")]


def row(component: str, release: str) -> Optional[dict]:
    return facts.ngc_row(component, release)


def cudas(component: str) -> List[str]:
    return sorted({r["cuda"] for r in table(component) if r.get("cuda")})


def pythons(component: str) -> List[str]:
    return sorted({r["python"] for r in table(component) if r.get("python")})


def major_change(component: str, before: str, after: str):
    """Why moving an NGC base between releases is unsafe (their CUDA majors differ), or None."""
    was, now = row(component, before) or {}, row(component, after) or {}
    if was.get("cuda") and now.get("cuda") and was["cuda"].split(".")[0] != now["cuda"].split(".")[0]:
        return f"a CUDA major change ({component} {before} is CUDA {was['cuda']}, {after} is CUDA {now['cuda']})"
    return None

