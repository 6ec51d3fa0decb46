"""The console blocks of the examples' READMEs, replayed against this checkout's CLI
(`python3 -m aligner` with the checkout on PYTHONPATH, never whichever `aligner` is first on PATH).

A README shows what a user sees in a block like

    ```console
    $ aligner check
    Dockerfile.base:8:5: AL002 ...
    ```

A block whose output holds a fence of its own (`$ cat fix.md` of a report
with a diff in it) is fenced with more backticks, ````console ... ````, as
CommonMark allows; the closing fence has the same length as the opening one.

Every such block of a README is run in order, in one temporary copy of the
example (so that `fix --apply` changes what the next `check` sees), and its
text must be exactly what the command prints. `$ cat FILE` shows a file the
previous commands wrote. No shell is involved: the line is split with shlex.

Each `aligner fix` block must also show the exit status `aligner fix --help`
documents for what it prints: 0 when nothing is to change, or when --apply wrote
everything it found; 1 when a dry run shows changes, or something is left (an
unsafe change held back, a pin fix cannot write, no aligned set); 2 an error.
No block shows an error (fix_status()).

    python3 -m tests.support.example_docs --update examples/NAME   # rewrite the blocks
"""

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

from tests.conftest import ROOT, aligner_cmd, aligner_env

EXAMPLES = ROOT / "examples"
BLOCK = re.compile(r"^(`{3,})console\n(\$ [^\n]*)\n(.*?)^\1\n", re.S | re.M)


def blocks(readme: str) -> List[Tuple[str, str]]:
    """(command line, shown output) of every console block, in order."""
    return [(m.group(2)[2:], m.group(3)) for m in BLOCK.finditer(readme)]


def fix_status(argv: List[str], stdout: str, stderr: str, status: int) -> None:
    """Raises unless the exit status of `aligner fix ...` is the documented one for what it printed."""
    lines = stderr.splitlines()
    if any(x.startswith("error:") and "no aligned set" not in x for x in lines):
        raise AssertionError(f"`{shlex.join(argv)}` shows an error:\n{stdout}{stderr}")
    left = any(x.startswith("left: ") or " held back " in x or x.startswith("error: no aligned set") for x in lines)
    if stderr.rstrip().endswith("nothing to change") and not stdout:
        shown, want = "nothing to change", 0
    elif "--apply" not in argv:
        shown, want = "changes shown", 1
    elif left:
        shown, want = "something left", 1
    else:
        shown = "everything written"
        want = 1 if "--exit-non-zero-on-fix" in argv and stdout else 0
    if "--exit-zero" in argv:
        want = 0
    if status != want:
        raise AssertionError(f"`{shlex.join(argv)}` printed what means {shown!r} (exit status {want}) but exited "
                             f"{status}:\n{stdout}{stderr}")


def run_all(example: Path, commands: List[str]) -> List[Tuple[str, int]]:
    """(output, exit status) of each command, run in order in a fresh copy of `example`."""
    env = aligner_env(COLUMNS="100", NO_COLOR="1", TERM="dumb")
    env.pop("CI", None)  # CI=true would switch `check` to GitHub annotations
    out = []
    with tempfile.TemporaryDirectory(prefix="aligner-example-") as tmp:
        work = Path(tmp) / example.name
        shutil.copytree(example, work)
        for line in commands:
            argv = shlex.split(line)
            if argv[0] == "cat":
                out.append(((work / argv[1]).read_text(encoding="utf-8"), 0))
                continue
            if argv[0] != "aligner":
                raise ValueError(f"{example}/README.md: only `aligner ...` and `cat FILE` may be shown, not {line!r}")
            p = subprocess.run([*aligner_cmd(), *argv[1:]], cwd=work, env=env, capture_output=True, text=True, timeout=120)
            if argv[1:2] == ["fix"]:
                fix_status(argv, p.stdout, p.stderr, p.returncode)
            out.append((p.stdout + p.stderr, p.returncode))
    return out


def update(example: Path) -> None:
    readme = example / "README.md"
    text = readme.read_text(encoding="utf-8")
    found = blocks(text)
    outputs = iter(run_all(example, [cmd for cmd, _ in found]))

    def fill(m: "re.Match") -> str:
        output, _ = next(outputs)
        fence = m.group(1)
        return f"{fence}console\n{m.group(2)}\n{output if output.endswith(chr(10)) or not output else output + chr(10)}{fence}\n"

    readme.write_text(BLOCK.sub(fill, text), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--update":
        sys.exit("usage: python3 -m tests.support.example_docs --update examples/NAME...")
    for name in sys.argv[2:]:
        update(Path(name).resolve())
