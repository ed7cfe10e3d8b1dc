"""SageMaker script mode: train by running the user's own script, as the SageMaker training toolkit.

The algorithm itself; what the toolkit gives the script is in ``algorithms.script_toolkit``, how
it runs in ``algorithms.script_run`` (in the job sandbox), and its code's unpacking in
``algorithms.script_code``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
    output_data_dir,
)
from algorithms.inference import ScriptModel
from algorithms.registry import register
from algorithms.script_run import SCRIPT_MODE, run_script
from algorithms.script_toolkit import PROGRAM, SUBMIT_DIRECTORY, ScriptSettings


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

    name: ClassVar[str] = SCRIPT_MODE
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
        with tempfile.TemporaryDirectory(prefix="sagebrush-script-") as scratch:
            # The script's /opt/ml and its /tmp, side by side.
            work_dir = Path(scratch) / "ml"
            work_dir.mkdir()
            result = run_script(
                code=code,
                settings=settings,
                channels=channels,
                model_dir=model_dir,
                work_dir=work_dir,
                reporter=reporter,
                tmp_dir=Path(scratch) / "tmp",
            )
            # What the script wrote to SM_OUTPUT_DATA_DIR travels on as output.tar.gz.
            written = work_dir / "output" / "data"
            if any(written.iterdir()):
                shutil.copytree(written, output_data_dir(model_dir), dirs_exist_ok=True)
            return result

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return ScriptModel.load(model_dir)
