"""What SageMaker's training toolkit gives a script: its settings, arguments and environment.

A job's hyperparameters split into the script's own and the reserved ``sagemaker_*`` ones; the
script gets its own as command-line arguments, everything as ``SM_*`` variables, and the
toolkit's ``input/config`` files (``hyperparameters.json``, ``inputdataconfig.json``,
``resourceconfig.json``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from algorithms.base import Channel, HyperparameterError

PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
RESERVED_PREFIX = "sagemaker_"
CURRENT_HOST = "algo-1"


@dataclass(frozen=True)
class ScriptSettings:
    """Script mode's view of a job's hyperparameters, split as the training toolkit splits them."""

    program: str
    submit_directory: str | None
    # The user's hyperparameters, each value parsed from JSON where it parses.
    user_hyperparameters: dict[str, Any]
    # The reserved ``sagemaker_*`` ones; never passed to the script as arguments.
    framework_parameters: dict[str, Any]
    # The map as the job received it, every value a string: hyperparameters.json.
    raw: dict[str, str]

    @classmethod
    def from_hyperparameters(cls, hyperparameters: Mapping[str, Any]) -> ScriptSettings:
        parsed = {name: _from_json(value) for name, value in hyperparameters.items()}
        framework = {k: v for k, v in parsed.items() if k.startswith(RESERVED_PREFIX)}
        user = {k: v for k, v in parsed.items() if not k.startswith(RESERVED_PREFIX)}
        program = framework.get(PROGRAM)
        if not program or not isinstance(program, str):
            raise HyperparameterError(PROGRAM, "is required in script mode (the entry script)")
        submit = framework.get(SUBMIT_DIRECTORY)
        return cls(
            program=program,
            submit_directory=str(submit) if submit else None,
            user_hyperparameters=user,
            framework_parameters=framework,
            raw={
                name: value if isinstance(value, str) else json.dumps(value)
                for name, value in hyperparameters.items()
            },
        )


def _from_json(value: Any) -> Any:
    # The SageMaker Python SDK JSON-encodes every value (``'"train.py"'``); the toolkit decodes
    # what decodes and keeps the rest as the plain string.
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def training_environment(
    *,
    settings: ScriptSettings,
    channels: Mapping[str, Channel],
    model_dir: Path,
    run_dir: Path,
    work_dir: Path,
    job_name: str,
) -> dict[str, Any]:
    """The training toolkit's environment, by its own (lower-case) names: paths as the script
    sees them (``work_dir`` is its ``/opt/ml`` in the sandbox; see :func:`make_folders`)."""
    import torch  # imported here: only script mode needs the GPU count, and torch is slow to load

    input_dir, output_dir = work_dir / "input", work_dir / "output"
    hosts = [CURRENT_HOST]
    return {
        "additional_framework_parameters": settings.framework_parameters,
        "channel_input_dirs": {name: str(channel.path) for name, channel in channels.items()},
        "current_host": CURRENT_HOST,
        "hosts": hosts,
        "hyperparameters": settings.user_hyperparameters,
        "input_config_dir": str(input_dir / "config"),
        "input_data_config": {
            name: {
                "ContentType": channel.content_type,
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            }
            for name, channel in channels.items()
        },
        "input_dir": str(input_dir),
        "job_name": job_name,
        "log_level": settings.framework_parameters.get("sagemaker_container_log_level", 20),
        "model_dir": str(model_dir),
        "module_dir": str(run_dir),
        "module_name": Path(settings.program).stem,
        "network_interface_name": "eth0",
        "num_cpus": len(os.sched_getaffinity(0)),
        "num_gpus": torch.cuda.device_count(),
        "output_data_dir": str(output_dir / "data"),
        "output_dir": str(output_dir),
        "output_intermediate_dir": str(output_dir / "intermediate"),
        "resource_config": {
            "current_host": CURRENT_HOST,
            "hosts": hosts,
            "network_interface_name": "eth0",
        },
        "user_entry_point": settings.program,
    }


def make_folders(work_dir: Path) -> None:
    """The toolkit's folders under ``work_dir``: ``input/config``, ``output/data`` and
    ``output/intermediate``."""
    for folder in ("input/config", "output/data", "output/intermediate"):
        (work_dir / folder).mkdir(parents=True, exist_ok=True)


def write_input_config(
    training_env: dict[str, Any], settings: ScriptSettings, config: Path
) -> None:
    """The toolkit's ``input/config`` files, written to ``config`` on the platform's disk."""
    (config / "hyperparameters.json").write_text(json.dumps(settings.raw))
    (config / "inputdataconfig.json").write_text(json.dumps(training_env["input_data_config"]))
    (config / "resourceconfig.json").write_text(json.dumps(training_env["resource_config"]))


def user_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """The toolkit's command-line form: ``--name value`` sorted by name, ``-n`` for one letter."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        if isinstance(value, Mapping):
            value = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        args += [f"--{name}" if len(name) > 1 else f"-{name}", str(value)]
    return args


def sm_environment(training_env: dict[str, Any]) -> dict[str, str]:
    """``SM_*`` variables: the toolkit's names upper-cased, non-strings as compact JSON."""
    hyperparameters = training_env["hyperparameters"]
    variables: dict[str, Any] = {
        **training_env,
        "channels": sorted(training_env["channel_input_dirs"]),
        "hps": hyperparameters,
        "user_args": user_args(hyperparameters),
        "framework_params": training_env["additional_framework_parameters"],
        "training_env": training_env,
    }
    variables.update({f"channel_{n}": p for n, p in training_env["channel_input_dirs"].items()})
    variables.update({f"hp_{name}": value for name, value in hyperparameters.items()})
    return {f"SM_{key.upper()}": _env_value(value) for key, value in variables.items()}


def _env_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
