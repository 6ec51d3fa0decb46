"""Build arguments in GitHub Actions workflows: `docker/build-push-action` steps and `run:` scripts.

A build-push-action step gives `file`, `context`, `target` and `build-args` (one `NAME=VALUE` per line;
a `#` line is no argument). A `run:` step is a shell script, read as build.sh is, with the `env:` of
the workflow, the job and the step as the variables set before it. A GitHub expression `${{ … }}` is
known only when the workflow runs, except `${{ env.NAME }}` of an `env:` the file writes; anything
else (`matrix`, `inputs`, `secrets`, step outputs) is unknown. Every value is traced to its bytes:
a block scalar's lines are the file's lines less their indentation.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from aligner.read.buildargs.model import BuildArg, Invocation, unknown
from aligner.read.buildargs.script import build_command
from aligner.read.buildargs.yamlnodes import get, scalar, tree
from aligner.read.dockerfile.lexer import Source
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.read.dockerfile.words import WordError, shell_program

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_ENV_EXPR = re.compile(r"env\.([A-Za-z_][A-Za-z0-9_]*)")
ACTION = "docker/build-push-action"


def is_workflow(path: str) -> bool:
    return bool(re.search(r"(^|/)\.github/workflows/[^/]+\.ya?ml$", path.replace("\\", "/"))) or is_gitlab(path)


def is_gitlab(path: str) -> bool:
    """`.gitlab-ci.yml`, and the files it includes from `.gitlab/` by convention."""
    path = path.replace("\\", "/")
    return path.endswith(".gitlab-ci.yml") or bool(re.search(r"(^|/)\.gitlab/.+\.ya?ml$", path))


def read(path: str, data: bytes) -> List[Invocation]:
    import yaml

    src, root = tree(path, data, "workflow")
    out: List[Invocation] = []
    if is_gitlab(path):
        return _gitlab(root, src)
    jobs = get(root, "jobs")
    if not isinstance(jobs, yaml.MappingNode):
        return out
    top = _env(get(root, "env"), src, {})
    for _, job in jobs.value:
        job_env = _env(get(job, "env"), src, top)
        steps = get(job, "steps")
        if not isinstance(steps, yaml.SequenceNode):
            continue
        for step in steps.value:
            env = _env(get(step, "env"), src, job_env)
            uses, run = get(step, "uses"), get(step, "run")
            if isinstance(uses, yaml.ScalarNode) and uses.value.split("@")[0] == ACTION:
                out.append(_action(step, src, env))
            elif isinstance(run, yaml.ScalarNode):
                out += _run(run, src, env)
    return out


def text_of(node, src: Source, env: Dict[str, Traced]) -> Traced:
    """A scalar's text, traced line by line to the file, with `${{ … }}` as unknown (or an env value)."""
    a, b = node.start_mark.index, node.end_mark.index
    raw = src.text[a:b]
    pieces: List[Piece] = []
    if node.style in ("|", ">"):
        if node.style == ">" or not _literal_matches(node, src):
            pieces = [Piece(node.value, -1, -1, synthetic=True, origin=src.path)]
        else:
            body = raw.split("\n", 1)[1] if "\n" in raw else ""
            offset = a + len(raw) - len(body)
            indent = min((len(l) - len(l.lstrip(" ")) for l in body.split("\n") if l.strip()), default=0)
            for line in body.split("\n"):
                text = line[indent:] + "\n"
                start = offset + min(indent, len(line))
                pieces.append(Piece(text, start, start + len(text), origin=src.path))
                offset += len(line) + 1
            pieces = _trim(pieces, node.value)
    else:
        pieces = list(scalar(node, src).pieces)
    return _expressions(Traced(pieces), env)


def _literal_matches(node, src: Source) -> bool:
    raw = src.text[node.start_mark.index:node.end_mark.index]
    body = raw.split("\n", 1)[1] if "\n" in raw else ""
    indent = min((len(l) - len(l.lstrip(" ")) for l in body.split("\n") if l.strip()), default=0)
    return "\n".join(l[indent:] for l in body.split("\n")).rstrip("\n") == node.value.rstrip("\n")


def _trim(pieces: List[Piece], value: str) -> List[Piece]:
    """The pieces cut to the scalar's value (a block's last newlines are chomped or kept)."""
    out, left = [], len(value)
    for p in pieces:
        if left <= 0:
            break
        text = p.text[:left]
        out.append(Piece(text, p.start, p.start + len(text), origin=p.origin))
        left -= len(text)
    return out


def _expressions(t: Traced, env: Dict[str, Traced]) -> Traced:
    out, pos = [], 0
    for m in _EXPR.finditer(t.text):
        out.append(t.slice(pos, m.start()))
        name = _ENV_EXPR.fullmatch(m.group(1))
        if name and name.group(1) in env:
            out.append(env[name.group(1)])
        else:  # known only when the workflow runs
            out.append(unknown(m.group(1)))
        pos = m.end()
    out.append(t.slice(pos, len(t.text)))
    return Traced(p for part in out for p in part.pieces)


def _env(node, src: Source, outer: Dict[str, Traced]) -> Dict[str, Traced]:
    import yaml

    env = dict(outer)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                env[k.value] = text_of(v, src, outer)
    return env


def _action(step, src: Source, env: Dict[str, Traced]) -> Invocation:
    import yaml

    inv = Invocation(src.path, step.start_mark.line + 1, "workflow", None, None)
    given = get(step, "with")
    values = {}
    if isinstance(given, yaml.MappingNode):
        for k, v in given.value:
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                values[k.value] = (v, text_of(v, src, env))
    def known(key: str) -> Optional[str]:
        t = values.get(key, (None, None))[1]
        return t.text if t is not None and not t.unknown else None
    inv.context = known("context")
    inv.dockerfile = known("file") or (f"{inv.context.rstrip('/')}/Dockerfile" if inv.context else None)
    inv.target = known("target")
    if "build-args" in values:
        node, text = values["build-args"]
        pos = 0
        for line in text.text.split("\n"):
            item = text.slice(pos, pos + len(line))
            pos += len(line) + 1
            bare = item.text.strip()
            if not bare or bare.startswith("#"):
                continue
            lead = len(item.text) - len(item.text.lstrip())
            eq = item.text.find("=")
            if eq <= 0:
                continue
            name = item.text[lead:eq].strip()
            value = item.slice(eq + 1, len(item.text.rstrip()))
            head = next((p for p in item.pieces if not p.synthetic and p.start >= 0), None)
            where = (src.line_of(head.start), src.column_of(head.start)) if head else (node.start_mark.line + 1, 1)
            inv.args.append(BuildArg(name, value, where[0], src.path, where[1]))
    return inv


def _gitlab(root, src: Source) -> List[Invocation]:
    """GitLab CI: each job's `before_script` and `script` lines, one shell script, with the file's and the
    job's `variables` (a value, or `{value: …}`) set before it; `$CI_…` and anything unset is unknown."""
    import yaml

    out: List[Invocation] = []
    if not isinstance(root, yaml.MappingNode):
        return out
    top = _variables(get(root, "variables"), src, {})
    for key, job in root.value:
        if not isinstance(job, yaml.MappingNode) or get(job, "script") is None:
            continue
        env = _variables(get(job, "variables"), src, top)
        lines = []
        for part in ("before_script", "script"):
            node = get(job, part)
            items = node.value if isinstance(node, yaml.SequenceNode) else [node] if node is not None else []
            lines += [i for i in items if isinstance(i, yaml.ScalarNode)]
        if not lines:
            continue
        joined: List[Piece] = []
        for item in lines:
            joined += [*text_of(item, src, {}).pieces, Piece("\n", -1, -1, synthetic=True)]
        out += _commands(Traced(joined), src, env)
    return out


def _variables(node, src: Source, outer: Dict[str, Traced]) -> Dict[str, Traced]:
    import yaml

    env = dict(outer)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(v, yaml.MappingNode):  # `NAME: {value: "1.0", description: …}`
                v = get(v, "value")
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                env[k.value] = text_of(v, src, {})
    return env


def _run(node, src: Source, env: Dict[str, Traced]) -> List[Invocation]:
    return _commands(text_of(node, src, env), src, env)


def _commands(script: Traced, src: Source, env: Dict[str, Traced]) -> List[Invocation]:
    try:
        commands, _ = shell_program(script, lambda name, at=-1: env.get(name))
    except WordError:
        return []  # a step the shell reader cannot follow builds nothing aligner can see
    out = []
    for words, _ in commands:
        found = build_command(words, src, src.path, kind="workflow")
        if found is not None:
            out.append(found)
    return out
