"""Where a package's bundled data files are: next to its modules.

A plain path, not ``importlib.resources``: that machinery imports zipfile, tempfile and
shutil (~10 ms) on every command, for zip installs deepfit does not support (its data is
read with ordinary file reads)."""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path


def data_path(package: str, *parts: str) -> Path:
    """The file or folder ``parts`` under ``package``'s directory."""
    module = sys.modules.get(package) or import_module(package)
    if module.__file__ is None:  # a namespace package: deepfit's packages all have __init__
        raise FileNotFoundError(f"{package} has no directory")
    return Path(module.__file__).parent.joinpath(*parts)
