"""Import the repo's bench/ and train/ scripts in tests: they are files, not package modules."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(path: Path) -> ModuleType:
    """Execute the script at ``path`` as a module named after its stem and register it.

    Registering in ``sys.modules`` lets dataclasses and pickling inside the script resolve it.
    """
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
