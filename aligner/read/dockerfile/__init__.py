"""Read Dockerfiles into pins: versions of known components with their exact bytes."""

from aligner.read.dockerfile.model import Dockerfile, HiddenUse, Pin, Stage, Variable
from aligner.read.dockerfile.reader import read, read_file

__all__ = ["Dockerfile", "HiddenUse", "Pin", "Stage", "Variable", "read", "read_file"]
