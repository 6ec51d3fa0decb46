"""The README's rule table, made from the rule pages (rules/codes.toml).

    python3 -m tests.support.readme_rules            # exit 1 when the README's table differs
    python3 -m tests.support.readme_rules --update   # write it
"""

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent.parent / "README.md"
TABLE = re.compile(r"^\| code \| name \| what it finds \|\n(?:\|.*\|\n)+", re.M)


def current() -> str:
    m = TABLE.search(README.read_text())
    assert m, "README.md has no rule table (| code | name | what it finds |)"
    return m.group(0)


def main(argv) -> int:
    import tests.conftest  # noqa: F401  (this checkout's aligner and its rules/, as in the tests)
    from aligner.know.codes import table

    if current() == table():
        return 0
    if "--update" in argv:
        README.write_text(TABLE.sub(lambda _: table(), README.read_text(), count=1))
        return 0
    print("README.md's rule table differs from rules/codes.toml: run python3 -m tests.support.readme_rules --update")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
