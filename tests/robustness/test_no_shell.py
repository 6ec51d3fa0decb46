"""aligner never starts a shell: every subprocess is an argument list, so no value read from a file (a pin,
a lock entry, a config string) can become a command. Read from the source's syntax tree, so a new call
site is checked the day it is written."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "aligner"
SHELLS = {("os", "system"), ("os", "popen"), ("os", "execl"), ("os", "execlp"), ("os", "spawnl"),
          ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}
SPAWNERS = {"run", "Popen", "call", "check_call", "check_output"}


def calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                yield path.relative_to(PACKAGE.parent), node


def name_of(func) -> tuple:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None, getattr(func, "id", None)


def test_no_shell_anywhere():
    found, spawned = [], 0
    for path, node in calls():
        owner, name = name_of(node.func)
        where = f"{path}:{node.lineno}"
        if (owner, name) in SHELLS:
            found.append(f"{where}: {owner}.{name} runs a shell")
        if owner == "subprocess" and name in SPAWNERS:
            spawned += 1
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in node.keywords):
                found.append(f"{where}: shell= given")
            if node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                found.append(f"{where}: a command string, not an argument list")
    assert spawned >= 5, "the scan no longer sees aligner's subprocess calls"
    assert not found
