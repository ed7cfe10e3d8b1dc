"""The user's code (``sagemaker_submit_directory``): unpacked for a run, and copied into the
model so that the model serves on its own, as in SageMaker's framework images."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from algorithms.base import HyperparameterError
from algorithms.script_toolkit import SUBMIT_DIRECTORY


def stage_code(code: Path, destination: Path) -> Path:
    """The code at ``destination``: a folder copied, or a .tar.gz unpacked."""
    if code.is_dir():
        shutil.copytree(code, destination)
        return destination
    destination.mkdir(parents=True)
    try:
        with tarfile.open(code) as archive:
            # "data" refuses absolute paths, links out of the folder and device files.
            archive.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise HyperparameterError(
            SUBMIT_DIRECTORY, f"must be a readable .tar.gz of the code ({error})"
        ) from None
    return destination


def copy_missing(source: Path, destination: Path) -> None:
    """Copy the code into the model's ``code/``, keeping what the script itself put there (its
    deliberate choice)."""
    for path in sorted(source.rglob("*")):
        target = destination / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
