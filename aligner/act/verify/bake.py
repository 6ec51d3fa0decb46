"""A BuildKit bake file (JSON) with one target per locked image and platform.

The Dockerfiles of an image build in order; a later one gets the earlier
one's result through a named context (`contexts = {NAME = "target:…"}`), so
`docker buildx bake` builds the whole matrix, chains included, on any builder.
Format: https://docs.docker.com/build/bake/reference/
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional

from aligner.act.verify.plan import Target


def step_name(t: Target, i: int) -> str:
    return t.name if i == len(t.steps) - 1 else f"{t.name}-step{i}"


def document(targets: List[Target], secrets: Optional[List[str]] = None) -> dict:
    out: Dict[str, dict] = {}
    for t in targets:
        for i, step in enumerate(t.steps):
            name = step_name(t, i)
            args = dict(step.args)
            entry: dict = {"context": t.context, "dockerfile": step.dockerfile, "platforms": [t.platform]}
            if step.base_args:
                # the earlier step's result, by a name the FROM line now resolves to
                prev = step_name(t, i - 1)
                ref = f"aligner-{prev}"
                image_arg, *tag_arg = step.base_args
                args[image_arg] = ref
                key = ref
                if tag_arg:
                    args[tag_arg[0]] = "latest"
                    key = f"{ref}:latest"
                entry["contexts"] = {key: f"target:{prev}"}
            entry["args"] = dict(sorted(args.items()))
            entry["tags"] = [step.tag]
            if secrets:
                entry["secret"] = list(secrets)
            out[name] = entry
    finals = [t.name for t in targets]
    return {"group": {"default": {"targets": finals}}, "target": dict(sorted(out.items()))}


def dumps(targets: List[Target], secrets: Optional[List[str]] = None) -> str:
    return json.dumps(document(targets, secrets), indent=2) + "\n"
