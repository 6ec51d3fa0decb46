#!/usr/bin/env python3
"""Two ways to read the shell of RUN lines, side by side on the real-world suite: aligner's own
lexer (aligner/read/dockerfile/words.py) and tree-sitter-bash, a full bash grammar with byte offsets.

For every shell-form RUN (and every RUN heredoc) of tests/realworld/cases, both list the install
commands they see (pip, pip3, uv pip, python -m pip, git); the script counts them, lists where the two
disagree, and times both over the same scripts (median of --rounds). tree-sitter is not a dependency
of aligner: `python3 -m pip install tree-sitter tree-sitter-bash` first.

    python3 bench/shell_reader.py [--rounds 7] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import platform
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aligner.read.discover import is_dockerfile  # noqa: E402
from aligner.read.dockerfile.lexer import lex  # noqa: E402
from aligner.read.dockerfile.traced import Piece, Traced  # noqa: E402
from aligner.read.dockerfile.words import WordError, shell_program  # noqa: E402

INSTALLERS = ("pip", "pip3", "uv", "git", "python", "python3")
SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash")


def scripts() -> list[tuple[str, str]]:
    """(where, script) of every shell-form RUN and RUN heredoc in the suite."""
    out = []
    for path in sorted((REPO / "tests" / "realworld" / "cases").glob("*/*")):
        if not is_dockerfile(path.name):
            continue
        src = lex(str(path), path.read_bytes())
        for inst in src.instructions:
            if inst.keyword != "RUN" or inst.args.text.lstrip().startswith("["):
                continue
            where = f"{path.parent.name}/{path.name}:{inst.line}"
            out.append((where, _without_flags(inst.args.text)))
            out += [(where + " heredoc", doc.body.text) for doc in inst.heredocs]
    return out


def _without_flags(text: str) -> str:
    """The RUN's script without Docker's own `--mount=…`/`--network=…` flags before it."""
    words = text.split(" ")
    while words and (words[0].startswith("--") or not words[0]):
        words.pop(0)
    return " ".join(words)


def installs(words: list[str]) -> str:
    """`pip install`, `uv pip install`, `python -m pip install`, `git clone`, `git checkout`: the command
    with its program and action only (the two readers expand variables differently), else ""."""
    while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]  # `TORCH_CUDA_ARCH_LIST=9.0 pip install .`: the assignment is the command's env
    if not words or words[0].rsplit("/", 1)[-1] not in INSTALLERS:
        return ""
    action = next((w for w in words[1:5] if w in ("install", "clone", "checkout")), "")
    return f"{words[0].rsplit('/', 1)[-1]} {action}" if action else ""


def aligner_commands(script: str) -> list[str]:
    t = Traced([Piece(script, 0, len(script))])
    seen = []
    try:
        commands, _ = shell_program(t, lambda name, at=-1: None)
    except WordError:
        return ["<unread>"]
    for words, _ in commands:
        texts = [w.text for w in words]
        if texts and texts[0] in SHELLS and "-c" in texts[1:3] and texts.index("-c") + 1 < len(texts):
            inner = texts[texts.index("-c") + 1]
            seen += aligner_commands(inner)
        elif installs(texts):
            seen.append(installs(texts))
    return seen


def tree_sitter_commands(parser, script: str) -> list[str]:
    tree = parser.parse(script.encode())
    seen = []

    def walk(node, in_substitution: bool) -> None:
        if node.type == "command_substitution":
            in_substitution = True
        if node.type == "command" and not in_substitution:
            words = [c.text.decode(errors="replace").strip("'\"") for c in node.children
                     if c.type not in ("file_redirect", "heredoc_redirect", "variable_assignment")]
            if words and words[0] in SHELLS and "-c" in words[1:3] and words.index("-c") + 1 < len(words):
                seen.extend(tree_sitter_commands(parser, words[words.index("-c") + 1]))
            elif installs(words):
                seen.append(installs(words))
        for child in node.children:
            walk(child, in_substitution)

    walk(tree.root_node, False)
    if tree.root_node.has_error:
        seen.append("<parse error>")
    return seen


def timed(fn, items, rounds: int) -> float:
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    try:
        import tree_sitter
        import tree_sitter_bash
    except ImportError:
        print("needs tree-sitter: python3 -m pip install tree-sitter tree-sitter-bash", file=sys.stderr)
        return 2
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    items = scripts()
    ours = {w: aligner_commands(s) for w, s in items}
    theirs = {w: tree_sitter_commands(parser, s) for w, s in items}
    differ = [w for w, _ in items if sorted(ours[w]) != sorted(theirs[w])]
    t_ours = timed(lambda it: aligner_commands(it[1]), items, args.rounds)
    t_theirs = timed(lambda it: tree_sitter_commands(parser, it[1]), items, args.rounds)
    lines = [
        "# Reading RUN lines: aligner's lexer vs tree-sitter-bash", "",
        f"date {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"tree-sitter {getattr(tree_sitter, '__version__', '?')}; {len(items)} RUN scripts of tests/realworld/cases", "",
        "| reader | install commands seen | scripts with a parse error or left unread | time, all scripts (median) |",
        "|---|---:|---:|---:|",
        f"| aligner's lexer | {sum(len([c for c in v if not c.startswith('<')]) for v in ours.values())} | "
        f"{sum('<unread>' in v for v in ours.values())} | {t_ours * 1000:.1f} ms |",
        f"| tree-sitter-bash | {sum(len([c for c in v if not c.startswith('<')]) for v in theirs.values())} | "
        f"{sum('<parse error>' in v for v in theirs.values())} | {t_theirs * 1000:.1f} ms |",
        "", f"Scripts where the two disagree: {len(differ)}", "",
    ]
    for w in differ:
        lines.append(f"- `{w}`: aligner {sorted(ours[w])}; tree-sitter {sorted(theirs[w])}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
