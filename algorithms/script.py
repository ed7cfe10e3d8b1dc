"""SageMaker script mode: train by running the user's own script, as the SageMaker training toolkit.

The script runs as a subprocess **with the platform's own rights**: the same operating-system
user, filesystem, network and environment variables (credentials included). There is no sandbox;
offer script mode only to users you would give a shell on the training machines.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from algorithms.base import (
    Algorithm,
    AlgorithmError,
    Channel,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
    output_data_dir,
)
from algorithms.inference import MODEL_CODE_DIR, ScriptModel
from algorithms.manifest import write_manifest
from algorithms.process import STOP_GRACE_SECONDS, supervise
from algorithms.registry import register

PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
RESERVED_PREFIX = "sagemaker_"
CURRENT_HOST = "algo-1"
FAILURE_REASON_LIMIT = 1024


class ScriptError(AlgorithmError):
    """The user's training script exited non-zero; carries the exit code and why it failed."""

    def __init__(
        self, program: str, *, exit_code: int, failure_reason: str | None, stderr_tail: list[str]
    ) -> None:
        if exit_code < 0:
            how = f"was killed by signal {signal.Signals(-exit_code).name}"
        else:
            how = f"exited with code {exit_code}"
        reason = failure_reason or "\n".join(stderr_tail) or "(no output on stderr)"
        super().__init__(f"training script {program} {how}: {reason}")
        self.program = program
        self.exit_code = exit_code
        self.failure_reason = failure_reason
        self.stderr_tail = stderr_tail


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


# SageMaker's framework images (sagemaker-scikit-learn:1.2-1-cpu-py3 resolves to
# "scikit-learn", pytorch-training:2.1-cpu-py310 to "pytorch-training") run the user's script.
@register("script")
@register("sklearn")
@register("scikit-learn")
@register("pytorch")
@register("pytorch-training")
@register("pytorch-inference")
class ScriptMode(Algorithm):
    """Runs ``sagemaker_program`` from ``sagemaker_submit_directory`` (local tarball or folder)."""

    name: ClassVar[str] = "script"
    hyperparameters: ClassVar[tuple[Hyperparameter, ...]] = (
        Hyperparameter(
            PROGRAM, "str", required=True, description="The entry script, e.g. train.py"
        ),
        Hyperparameter(
            SUBMIT_DIRECTORY,
            "str",
            required=True,
            description="The user's code: a .tar.gz or a directory, local by training time",
        ),
    )
    training_content_types: ClassVar[tuple[str, ...]] = ()  # any: the script reads its channels
    # The user's own hyperparameters are the script's business: they reach train() undeclared,
    # as the strings the job was given (see ScriptSettings).
    accepts_undeclared_hyperparameters: ClassVar[bool] = True
    may_modify_input: ClassVar[bool] = True

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        settings = ScriptSettings.from_hyperparameters(hyperparameters)
        if settings.submit_directory is None:
            raise HyperparameterError(SUBMIT_DIRECTORY, "is required in script mode")
        # The training flow downloads an s3:// submit directory and passes the local copy.
        code = Path(settings.submit_directory.removeprefix("file://"))
        if not code.exists():
            raise HyperparameterError(
                SUBMIT_DIRECTORY,
                "must be a local .tar.gz or directory when training starts "
                f"(got {settings.submit_directory!r})",
            )
        with tempfile.TemporaryDirectory(prefix="sagebrush-script-") as work_dir:
            result = run_script(
                code=code,
                settings=settings,
                channels=channels,
                model_dir=model_dir,
                work_dir=Path(work_dir),
                reporter=reporter,
            )
            # What the script wrote to SM_OUTPUT_DATA_DIR travels on as output.tar.gz.
            written = Path(work_dir) / "output" / "data"
            if any(written.iterdir()):
                shutil.copytree(written, output_data_dir(model_dir), dirs_exist_ok=True)
            return result

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return ScriptModel.load(model_dir)


def run_script(
    *,
    code: Path,
    settings: ScriptSettings,
    channels: Mapping[str, Channel],
    model_dir: Path,
    work_dir: Path,
    reporter: Reporter,
    environment: Mapping[str, str] | None = None,
    job_name: str = "",
    stop_grace_seconds: float = STOP_GRACE_SECONDS,
) -> TrainingResult:
    """Run the user's script to completion or until ``reporter.should_stop()``.

    ``work_dir`` (empty) receives the toolkit's ``input/config`` files, the run's code and
    ``output/`` (``output/data`` is what SageMaker uploads as ``output.tar.gz``). ``environment``
    is the job's ``Environment`` map. Raises :class:`ScriptError` when the script fails.
    """
    source = _stage_code(code, work_dir / "source")
    run_dir = work_dir / "code"
    # The script runs in a copy, so whatever it writes into its working directory never ends
    # up in the model's servable code.
    shutil.copytree(source, run_dir)
    command = _command(run_dir, settings.program) + user_args(settings.user_hyperparameters)
    job_name = job_name or str(settings.framework_parameters.get("sagemaker_job_name", ""))
    if (run_dir / "requirements.txt").exists():
        reporter.log(
            "requirements.txt is not installed: scripts run in the platform's Python environment"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    training_env = _training_env(
        settings=settings,
        channels=channels,
        model_dir=model_dir,
        run_dir=run_dir,
        work_dir=work_dir,
        job_name=job_name,
    )
    _write_input_config(training_env, settings)
    env = {**os.environ, **(environment or {}), **_sm_environment(training_env)}
    env["PYTHONUNBUFFERED"] = "1"  # so the log streams line by line, as the framework images set
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(run_dir), env.get("PYTHONPATH")]))
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    reporter.log(f"Invoking script with: {' '.join(command[1:])}")
    outcome = supervise(
        command, cwd=run_dir, env=env, reporter=reporter, stop_grace_seconds=stop_grace_seconds
    )
    if outcome.exit_code != 0 and not outcome.stopped:
        raise ScriptError(
            settings.program,
            exit_code=outcome.exit_code,
            failure_reason=_failure_reason(Path(training_env["output_dir"])),
            stderr_tail=outcome.stderr_tail,
        )
    # The code travels inside the model so that it is servable on its own, as in SageMaker's
    # framework images (``code/inference.py`` in model.tar.gz).
    _copy_missing(source, model_dir / MODEL_CODE_DIR)
    write_manifest(
        model_dir,
        algorithm=ScriptMode.name,
        hyperparameters={
            **settings.user_hyperparameters,
            **{k: v for k, v in settings.framework_parameters.items() if k != SUBMIT_DIRECTORY},
        },
        feature_count=0,  # unknown: the script decides what its records look like
        libraries=("scikit-learn", "torch"),
        details={"program": settings.program},
    )
    return TrainingResult(stopped_early=outcome.stopped)


def _stage_code(code: Path, destination: Path) -> Path:
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


def _command(run_dir: Path, program: str) -> list[str]:
    entry = (run_dir / program).resolve()
    if not entry.is_relative_to(run_dir.resolve()) or not entry.is_file():
        found = ", ".join(sorted(p.name for p in run_dir.iterdir())) or "nothing"
        raise HyperparameterError(
            PROGRAM, f"names {program!r}, which is not in the submitted code (found: {found})"
        )
    if program.endswith(".py"):
        return [sys.executable, program]
    if program.endswith(".sh"):
        return ["/bin/sh", program]
    raise HyperparameterError(PROGRAM, f"must name a .py or .sh file (got {program!r})")


def _training_env(
    *,
    settings: ScriptSettings,
    channels: Mapping[str, Channel],
    model_dir: Path,
    run_dir: Path,
    work_dir: Path,
    job_name: str,
) -> dict[str, Any]:
    """The training toolkit's environment, by its own (lower-case) names."""
    import torch  # imported here: only script mode needs the GPU count, and torch is slow to load

    input_dir, output_dir = work_dir / "input", work_dir / "output"
    for folder in (input_dir / "config", output_dir / "data", output_dir / "intermediate"):
        folder.mkdir(parents=True, exist_ok=True)
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


def _write_input_config(training_env: dict[str, Any], settings: ScriptSettings) -> None:
    config = Path(training_env["input_config_dir"])
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


def _sm_environment(training_env: dict[str, Any]) -> dict[str, str]:
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


def _failure_reason(output_dir: Path) -> str | None:
    failure = output_dir / "failure"
    if not failure.is_file():
        return None
    return failure.read_text(errors="replace")[:FAILURE_REASON_LIMIT].strip() or None


def _copy_missing(source: Path, destination: Path) -> None:
    # Files the script itself put under model_dir/code/ are its deliberate choice: keep them.
    for path in sorted(source.rglob("*")):
        target = destination / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
