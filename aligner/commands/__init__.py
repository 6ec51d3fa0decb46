"""The commands: name -> (module, one line of help), each module imported only when its command runs.

A command module has `configure(parser)` (its description and options) and `run(args) -> int`
(an exit status from aligner.base.status). It asks the modules below for data and only prints.
"""

COMMANDS = {
    "check": ("aligner.commands.check", "lint Dockerfiles: unpinned, drifted or incompatible versions (rules AL001...)"),
    "lock": ("aligner.commands.lock", "resolve one aligned set of versions per image and write the lock"),
    "fix": ("aligner.commands.fix", "rewrite pins to the lock: a diff by default, --apply to write"),
    "verify": ("aligner.commands.verify", "prove the lock: build the images and probe them, or resolve with uv"),
    "bake": ("aligner.commands.bake", "write a BuildKit bake file for the locked images"),
    "report": ("aligner.commands.report", "the version matrix of the locked images, with the GPUs each can run on"),
    "explain": ("aligner.commands.explain", "why a version is (or would not be) chosen"),
    "graph": ("aligner.commands.graph", "draw the constraint graph of the images"),
    "pins": ("aligner.commands.pins", "list every version pin found in Dockerfiles"),
    "rules": ("aligner.commands.rules", "what aligner knows: rule codes, components, index snapshot, fact tables"),
}
