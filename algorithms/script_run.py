"""Running the user's training script: its command, its process, and what it says when it fails.

The script runs in the job sandbox (``algorithms.sandbox``): its scratch folder is ``/opt/ml``,
with the channels at ``/opt/ml/input/data/<channel>``, the model at ``/opt/ml/model`` and the code
at ``/opt/ml/code`` as in SageMaker's framework images, as a user of its own, with only the
toolkit's environment. Where the machine cannot sandbox, it runs as a subprocess with the
platform's own rights and paths, and the job's log says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from algorithms.base import AlgorithmError, Channel, HyperparameterError, Reporter, TrainingResult
from algorithms.inference import MODEL_CODE_DIR
from algorithms.manifest import write_manifest
from algorithms.process import STOP_GRACE_SECONDS, exception_text, supervise
from algorithms.sandbox import (
    CONTAINER_ROOT,
    JOB_SITE_PACKAGES,
    UNSANDBOXED_WARNING,
    Sandbox,
    base_environment,
    instance_limits,
    sandbox_status,
)
from algorithms.script_code import copy_missing, stage_code
from algorithms.script_toolkit import (
    PROGRAM,
    SUBMIT_DIRECTORY,
    ScriptSettings,
    make_folders,
    sm_environment,
    training_environment,
    user_args,
    write_input_config,
)

SCRIPT_MODE = "script"  # the algorithm that loads a script-mode model
FAILURE_REASON_LIMIT = 1024


# The job's FailureReason is ``AlgorithmError: ScriptError: <this error>`` within 1,024
# characters; the error's start gives way first, so that it ends with the script's exception.
_REASON_ROOM = FAILURE_REASON_LIMIT - len("AlgorithmError: ScriptError: ")


class ScriptError(AlgorithmError):
    """The user's training script exited non-zero; carries the exit code and why it failed: the
    script's ``/opt/ml/output/failure`` file, else the exception that ended it (type and
    message). The whole traceback is in the job's log."""

    def __init__(
        self, program: str, *, exit_code: int, failure_reason: str | None, stderr_tail: list[str]
    ) -> None:
        if exit_code < 0:
            how = f"was killed by signal {signal.Signals(-exit_code).name}"
        else:
            how = f"exited with code {exit_code}"
        head = f"training script {program} {how}"
        reason = failure_reason or exception_text(stderr_tail) or "(no output on stderr)"
        message = f"{head}: {reason}"
        if len(message) > _REASON_ROOM:
            message = f"{head}: …{reason[-(_REASON_ROOM - len(head) - 3) :]}"
        super().__init__(message)
        self.program = program
        self.exit_code = exit_code
        self.failure_reason = failure_reason
        self.stderr_tail = stderr_tail


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
    tmp_dir: Path | None = None,
) -> TrainingResult:
    """Run the user's script to completion or until ``reporter.should_stop()``.

    ``work_dir`` (empty; the script's ``/opt/ml``) receives the toolkit's ``input/config`` files,
    the run's code and ``output/`` (``output/data`` is what SageMaker uploads as
    ``output.tar.gz``); ``tmp_dir`` is the script's ``/tmp`` (default: ``work_dir/tmp``).
    ``environment`` is the job's ``Environment`` map. Raises :class:`ScriptError` when the
    script fails.
    """
    source = stage_code(code, work_dir / "source")
    run_dir = work_dir / "code"
    # The script runs in a copy, so whatever it writes into its working directory never ends
    # up in the model's servable code.
    shutil.copytree(source, run_dir)
    _command(run_dir, settings.program)  # the program must be in the submitted code
    job_name = job_name or str(settings.framework_parameters.get("sagemaker_job_name", ""))
    if (run_dir / "requirements.txt").exists():
        reporter.log(
            "requirements.txt is not installed: scripts run in the platform's Python environment"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    make_folders(work_dir)
    host_env = training_environment(
        settings=settings,
        channels=channels,
        model_dir=model_dir,
        run_dir=run_dir,
        work_dir=work_dir,
        job_name=job_name,
    )
    write_input_config(host_env, settings, work_dir / "input" / "config")
    arguments = user_args(settings.user_hyperparameters)
    if sandbox_status().available:
        sandbox = _sandbox(
            settings=settings,
            channels=channels,
            model_dir=model_dir,
            work_dir=work_dir,
            tmp_dir=tmp_dir or work_dir / "tmp",
            environment=environment,
            job_name=job_name,
        )
        sandbox.prepare()
        container_code = f"{CONTAINER_ROOT}/code"
        command = sandbox.command(
            _command(Path(container_code), settings.program, check=False) + arguments,
            cwd=container_code,
        )
        env, cwd = sandbox.host_env(), Path("/")
    else:
        reporter.log(UNSANDBOXED_WARNING.format(reason=sandbox_status().reason))
        command = _command(run_dir, settings.program) + arguments
        env = _process_environment(host_env, environment, run_dir=run_dir, job_name=job_name)
        cwd = run_dir
    reporter.log(f"Invoking script with: {settings.program} {' '.join(arguments)}".rstrip())
    outcome = supervise(
        command, cwd=cwd, env=env, reporter=reporter, stop_grace_seconds=stop_grace_seconds
    )
    if outcome.exit_code != 0 and not outcome.stopped:
        raise ScriptError(
            settings.program,
            exit_code=outcome.exit_code,
            failure_reason=_failure_reason(Path(host_env["output_dir"])),
            stderr_tail=outcome.stderr_tail,
        )
    # The code travels inside the model so that it is servable on its own, as in SageMaker's
    # framework images (``code/inference.py`` in model.tar.gz).
    copy_missing(source, model_dir / MODEL_CODE_DIR)
    write_manifest(
        model_dir,
        algorithm=SCRIPT_MODE,
        hyperparameters={
            **settings.user_hyperparameters,
            **{k: v for k, v in settings.framework_parameters.items() if k != SUBMIT_DIRECTORY},
        },
        feature_count=0,  # unknown: the script decides what its records look like
        libraries=("scikit-learn", "torch"),
        details={"program": settings.program},
    )
    return TrainingResult(stopped_early=outcome.stopped)


def _sandbox(
    *,
    settings: ScriptSettings,
    channels: Mapping[str, Channel],
    model_dir: Path,
    work_dir: Path,
    tmp_dir: Path,
    environment: Mapping[str, str] | None,
    job_name: str,
) -> Sandbox:
    """The script's sandbox: ``work_dir`` at /opt/ml, each channel at /opt/ml/input/data/<name>,
    the model at /opt/ml/model, and the toolkit's environment with those paths."""
    root = Path(CONTAINER_ROOT)
    seen = training_environment(
        settings=settings,
        channels={
            name: Channel(name, root / "input" / "data" / name, channel.content_type)
            for name, channel in channels.items()
        },
        model_dir=root / "model",
        run_dir=root / "code",
        work_dir=root,
        job_name=job_name,
    )
    env = {**base_environment(), **(environment or {}), **sm_environment(seen)}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "code"), JOB_SITE_PACKAGES])
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    binds = [(str(model_dir), str(root / "model"), False)]
    binds += [
        (str(channel.path), str(root / "input" / "data" / name), False)
        for name, channel in channels.items()
    ]
    return Sandbox(
        root=work_dir,
        tmp=tmp_dir,
        environment=env,
        limits=instance_limits(
            str(settings.framework_parameters.get("sagemaker_instance_type", ""))
        ),
        extra_binds=tuple(binds),
    )


def _process_environment(
    training_env: dict, environment: Mapping[str, str] | None, *, run_dir: Path, job_name: str
) -> dict[str, str]:
    """The script's environment: the platform's, the job's ``Environment``, the ``SM_*`` ones."""
    env = {**os.environ, **(environment or {}), **sm_environment(training_env)}
    env["PYTHONUNBUFFERED"] = "1"  # so the log streams line by line, as the framework images set
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(run_dir), env.get("PYTHONPATH")]))
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    return env


def _command(run_dir: Path, program: str, *, check: bool = True) -> list[str]:
    """The command that runs ``program`` from ``run_dir`` (checked to be there, unless
    ``check=False``: a container path, checked on the platform's side already)."""
    entry = (run_dir / program).resolve()
    if check and (not entry.is_relative_to(run_dir.resolve()) or not entry.is_file()):
        found = ", ".join(sorted(p.name for p in run_dir.iterdir())) or "nothing"
        raise HyperparameterError(
            PROGRAM, f"names {program!r}, which is not in the submitted code (found: {found})"
        )
    if program.endswith(".py"):
        return [sys.executable, program]
    if program.endswith(".sh"):
        return ["/bin/sh", program]
    raise HyperparameterError(PROGRAM, f"must name a .py or .sh file (got {program!r})")


def _failure_reason(output_dir: Path) -> str | None:
    failure = output_dir / "failure"
    if not failure.is_file():
        return None
    return failure.read_text(errors="replace")[:FAILURE_REASON_LIMIT].strip() or None
