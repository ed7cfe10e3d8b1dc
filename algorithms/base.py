"""The interface every built-in algorithm implements, and the pieces it is made of.

An algorithm declares its hyperparameters, trains from local channel directories into a model
directory while reporting metrics, and loads a saved model directory into a :class:`Model` that
answers ``invoke(body, content_type, accept)``. The model directory is self-contained: it holds
``sagebrush-model.json`` naming the algorithm, so :func:`algorithms.load_model` needs nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

MODEL_MANIFEST = "sagebrush-model.json"

CONTENT_TYPES = ("text/csv", "application/jsonlines", "application/json")


class AlgorithmError(Exception):
    """Base of the errors an algorithm raises."""


class HyperparameterError(AlgorithmError, ValueError):
    """A hyperparameter is unknown, missing, of the wrong type or out of range."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"hyperparameter {name!r} {rule}")
        self.name = name
        self.rule = rule


class DataError(AlgorithmError, ValueError):
    """Training or inference data that cannot be read; says where (object/file, line, column)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                source and f"in {source}",
                line is not None and f"line {line}",
                column is not None and f"column {column}",
            )
            if part
        )
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column


class UnsupportedContentType(AlgorithmError, ValueError):
    def __init__(self, content_type: str, supported: tuple[str, ...]) -> None:
        super().__init__(
            f"content type {content_type!r} is not supported; use one of {', '.join(supported)}"
        )
        self.content_type = content_type


@dataclass(frozen=True)
class Hyperparameter:
    """One declared hyperparameter. Values arrive as strings (SageMaker's map) and are parsed."""

    name: str
    type: Literal["int", "float", "str", "bool"]
    default: Any = None  # None with required=False: "not set"
    required: bool = False
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] | None = None
    description: str = ""
    # SageMaker lets several numeric hyperparameters be "auto" (the algorithm picks); when True,
    # the string "auto" is accepted as is and the algorithm resolves it.
    allows_auto: bool = False


@dataclass(frozen=True)
class Channel:
    """A training input channel already copied to local disk."""

    name: str
    path: Path  # a directory holding the channel's files (any depth), possibly gzipped
    content_type: str = "text/csv"


class Reporter(Protocol):
    """How a training run talks back to the platform."""

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        """Record a metric value, e.g. ``validation:auc`` at iteration ``step``.

        ``step`` counts completed iterations or epochs from 1.
        """

    def log(self, message: str) -> None:
        """One line for the job's log."""

    def should_stop(self) -> bool:
        """True once the run must end early (StopTrainingJob, runtime limit, early stopping).

        Algorithms check it every iteration or epoch and return with what they have saved.
        """


@dataclass
class TrainingResult:
    final_metrics: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False


class Model(ABC):
    """A loaded model, ready to predict. Loaded once per process and reused."""

    content_types: ClassVar[tuple[str, ...]] = CONTENT_TYPES
    accepts: ClassVar[tuple[str, ...]] = CONTENT_TYPES
    # The container image the model was created with (CreateModel's Image), when it was.
    image: str = ""

    def realtime_answer(self, body: bytes, response_type: str) -> bytes:
        """What a real-time endpoint returns for ``invoke``'s ``body`` (batch transform returns
        ``body`` itself): the same, unless a version of SageMaker's container answered
        otherwise."""
        return body

    @abstractmethod
    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        """Predict for a request body.

        Line-oriented types (``text/csv``, ``application/jsonlines``) give exactly one output
        line per input record, each ending in ``\\n``, in input order; blank input lines are not
        records. Errors raise :class:`DataError` naming the 1-based line of the body.
        """


def output_data_dir(model_dir: Path) -> Path:
    """Where a training run leaves output that is not the model (beside the model directory)."""
    return model_dir.parent / "output" / "data"


class Algorithm(ABC):
    """A built-in algorithm. Subclasses are registered by image name in ``algorithms.registry``."""

    name: ClassVar[str]
    hyperparameters: ClassVar[tuple[Hyperparameter, ...]]
    training_content_types: ClassVar[tuple[str, ...]] = ("text/csv", "application/jsonlines")
    # Metric names this algorithm can emit (SageMaker's, e.g. "validation:auc").
    metrics: ClassVar[tuple[str, ...]] = ()
    # Script mode: hyperparameters it does not declare belong to the user's script.
    accepts_undeclared_hyperparameters: ClassVar[bool] = False
    # Built-ins only read their channel files, which may then be the stored objects themselves;
    # a user's script gets copies it may change.
    may_modify_input: ClassVar[bool] = False

    def __init__(self, *, image: str = "") -> None:
        # The training image as the job names it: its tag may pick what a version of
        # SageMaker's container did differently (e.g. XGBoost's model file format).
        self.image = image

    @abstractmethod
    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        """Train on ``channels`` (``train`` required, ``validation`` optional) into ``model_dir``.

        ``hyperparameters`` are already parsed and validated (see ``algorithms.hyperparameters``).
        Other output (SageMaker's ``/opt/ml/output/data``) goes to ``output_data_dir(model_dir)``;
        the platform uploads it as ``output.tar.gz`` when it is not empty.
        """

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        """Rules that tie parsed hyperparameters together (e.g. ``num_class`` for multiclass).

        Raises :class:`HyperparameterError`. Called after each value was parsed on its own.
        """
        return  # most algorithms have no such rules

    @classmethod
    @abstractmethod
    def load(cls, model_dir: Path) -> Model: ...
