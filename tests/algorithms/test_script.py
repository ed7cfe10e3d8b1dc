"""Script mode: the user's own script trained and served as SageMaker's framework images do."""

from __future__ import annotations

import json
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

import algorithms
from algorithms.base import Channel, HyperparameterError
from algorithms.inference import MODEL_CODE_DIR
from algorithms.metrics import MetricExtractingReporter, parse_metric_definitions
from algorithms.sandbox import sandbox_status
from algorithms.script import ScriptMode
from algorithms.script_run import ScriptError, run_script
from algorithms.script_toolkit import ScriptSettings
from tests.fakes import RecordingReporter

TRAIN_SCRIPT = """
import argparse, glob, json, os, sys

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("-C", type=float, default=1.0)  # one letter: "-C", as the toolkit passes it
parser.add_argument("--max_iter", type=int, default=100)
parser.add_argument("--solver", default="lbfgs")
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
args = parser.parse_args()

files = sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv")))
data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
labels, features = data[:, 0], data[:, 1:]
model = LogisticRegression(C=args.C, max_iter=args.max_iter, solver=args.solver)
model.fit(features, labels)
print(f"accuracy={model.score(features, labels):.4f};")
print("training done", file=sys.stderr)
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))

seen = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "env": dict(os.environ),
}
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as out:
    json.dump(seen, out)
"""

INFERENCE_SCRIPT = """
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def pack(tmp_path: Path, files: dict[str, str]) -> Path:
    """The user's code as ``sourcedir.tar.gz``, as the SageMaker SDK uploads it."""
    source = tmp_path / "source"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(textwrap.dedent(text))
    tarball = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name in files:
            archive.add(source / name, arcname=name)
    return tarball


@pytest.fixture
def train_channel(tmp_path: Path) -> Channel:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(200, 3))
    labels = (features @ np.array([2.0, -1.0, 0.5]) > 0).astype(float)
    folder = tmp_path / "train"
    folder.mkdir()
    np.savetxt(folder / "part-0.csv", np.column_stack([labels, features]), delimiter=",")
    return Channel(name="train", path=folder)


def sdk_hyperparameters(tarball: Path, **user: object) -> dict[str, str]:
    """The map the SageMaker Python SDK sends: every value JSON-encoded."""
    return {
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps(str(tarball)),
        "sagemaker_region": json.dumps("us-east-1"),
        **{name: json.dumps(value) for name, value in user.items()},
    }


def test_sklearn_script_trains_logs_metrics_and_serves(tmp_path: Path, train_channel: Channel):
    tarball = pack(tmp_path, {"train.py": TRAIN_SCRIPT, "inference.py": INFERENCE_SCRIPT})
    reporter = RecordingReporter()
    metric_reporter = MetricExtractingReporter(
        reporter, parse_metric_definitions([{"Name": "train:accuracy", "Regex": "accuracy=(.*?);"}])
    )
    model_dir = tmp_path / "model"

    result = ScriptMode().train(
        channels={"train": train_channel},
        hyperparameters=sdk_hyperparameters(tarball, max_iter=200, solver="liblinear"),
        model_dir=model_dir,
        reporter=metric_reporter,
    )

    assert not result.stopped_early
    assert "training done" in reporter.lines  # stderr reaches the log as well as stdout
    [(name, accuracy, _)] = reporter.metrics
    assert name == "train:accuracy" and accuracy > 0.9
    assert (model_dir / MODEL_CODE_DIR / "inference.py").is_file()

    model = algorithms.load_model(model_dir)
    rows = np.array([[3.0, -1.0, 0.0], [-3.0, 1.0, 0.0], [2.0, 0.0, 1.0]])
    csv_body = "\n".join(",".join(str(v) for v in row) for row in rows).encode()
    assert model.invoke(csv_body, "text/csv", "text/csv").decode().split() == ["1.0", "0.0", "1.0"]
    json_body = json.dumps(rows.tolist()).encode()
    assert json.loads(model.invoke(json_body, "application/json", "application/json")) == [
        1.0,
        0.0,
        1.0,
    ]
    lines_body = b"".join(json.dumps(row).encode() + b"\n" for row in rows.tolist())
    answer = model.invoke(lines_body, "application/jsonlines", "application/jsonlines")
    assert answer == b"1.0\n0.0\n1.0\n"
    # No preference answers in the inference toolkit's default, JSON.
    assert json.loads(model.invoke(csv_body, "text/csv", "*/*")) == [1.0, 0.0, 1.0]


def test_script_sees_the_training_toolkit_environment_and_arguments(
    tmp_path: Path, train_channel: Channel
) -> None:
    tarball = pack(tmp_path, {"train.py": TRAIN_SCRIPT})
    validation = Channel(name="validation", path=train_channel.path)
    settings = ScriptSettings.from_hyperparameters(
        sdk_hyperparameters(tarball, C=0.5, max_iter=150, solver="lbfgs")
    )
    work_dir = tmp_path / "work"
    work_dir.mkdir()

    run_script(
        code=tarball,
        settings=settings,
        channels={"train": train_channel, "validation": validation},
        model_dir=tmp_path / "model",
        work_dir=work_dir,
        reporter=RecordingReporter(),
        environment={"MY_SETTING": "on"},
        job_name="churn-1",
    )

    seen = json.loads((work_dir / "output" / "data" / "seen.json").read_text())
    env = seen["env"]
    # Sorted by name, "--name value", a one-letter name "-n value" (the training toolkit's form).
    assert seen["argv"] == ["-C", "0.5", "--max_iter", "150", "--solver", "lbfgs"]
    assert Path(seen["cwd"]).name == "code"
    # In the job sandbox, SageMaker's container paths; without one, the platform's own.
    sandboxed = sandbox_status().available
    root = Path("/opt/ml") if sandboxed else work_dir
    assert env["SM_MODEL_DIR"] == str(root / "model" if sandboxed else tmp_path / "model")
    channels = (
        [str(root / "input" / "data" / name) for name in ("train", "validation")]
        if sandboxed
        else [str(train_channel.path)] * 2
    )
    assert [env["SM_CHANNEL_TRAIN"], env["SM_CHANNEL_VALIDATION"]] == channels
    assert json.loads(env["SM_CHANNELS"]) == ["train", "validation"]
    assert json.loads(env["SM_HPS"]) == {"C": 0.5, "max_iter": 150, "solver": "lbfgs"}
    assert env["SM_HP_MAX_ITER"] == "150" and env["SM_HP_SOLVER"] == "lbfgs"
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"]
    assert env["SM_OUTPUT_DIR"] == str(root / "output")
    assert env["SM_OUTPUT_DATA_DIR"] == str(root / "output" / "data")
    assert env["SM_INPUT_DIR"] == str(root / "input")
    assert env["MY_SETTING"] == "on"
    if sandboxed:  # only what SageMaker's container would hold: none of the platform's settings
        assert not {"SECRET_KEY", "DATA_DIR", "DATABASE_URL"} & set(env)
        # (KMP_* are set by the OpenMP runtime the script itself loads.)
        assert {k for k in env if not k.startswith(("SM_", "KMP_"))} <= {
            "PATH",
            "HOME",
            "LANG",
            "PYTHONUNBUFFERED",
            "PYTHONDONTWRITEBYTECODE",
            "PYTHONPATH",
            "TRAINING_JOB_NAME",
            "MY_SETTING",
            "PIP_TARGET",
        }
    assert int(env["SM_NUM_CPUS"]) >= 1 and int(env["SM_NUM_GPUS"]) >= 0
    assert env["SM_CURRENT_HOST"] == "algo-1" and json.loads(env["SM_HOSTS"]) == ["algo-1"]
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "churn-1"
    assert training_env["additional_framework_parameters"]["sagemaker_region"] == "us-east-1"
    hyperparameters_json = work_dir / "input" / "config" / "hyperparameters.json"
    assert json.loads(hyperparameters_json.read_text())["solver"] == '"lbfgs"'  # as sent


def test_failing_script_reports_exit_code_and_stderr_tail(tmp_path: Path, train_channel):
    failing = """
    import sys
    print("loading data")
    raise ValueError("column 'age' has text in it")
    """
    tarball = pack(tmp_path, {"train.py": failing})

    with pytest.raises(ScriptError) as raised:
        ScriptMode().train(
            channels={"train": train_channel},
            hyperparameters=sdk_hyperparameters(tarball),
            model_dir=tmp_path / "model",
            reporter=RecordingReporter(),
        )

    assert raised.value.exit_code == 1
    assert "exited with code 1" in str(raised.value)
    assert "ValueError: column 'age' has text in it" in str(raised.value)
    assert not (tmp_path / "model" / algorithms.MODEL_MANIFEST).exists()


def test_failure_reason_ends_with_the_exception_and_the_log_keeps_the_traceback(
    tmp_path: Path, train_channel
) -> None:
    """A deep traceback with a long, several-line message (as pandas raises): the reason is
    the exception's type and whole message at its end, within 1,024 characters with the job's
    ``AlgorithmError: ScriptError: `` prefix; the traceback is in the log."""
    failing = """
    def parse(depth):
        if depth == 0:
            raise ValueError("could not convert string to float: 'M'\\n" + "row " * 300 + "end")
        return parse(depth - 1)

    print("loading data")
    parse(40)
    """
    tarball = pack(tmp_path, {"train.py": failing})
    reporter = RecordingReporter()

    with pytest.raises(ScriptError) as raised:
        ScriptMode().train(
            channels={"train": train_channel},
            hyperparameters=sdk_hyperparameters(tarball),
            model_dir=tmp_path / "model",
            reporter=reporter,
        )

    reason = f"AlgorithmError: ScriptError: {raised.value}"
    assert len(reason) <= 1024
    assert reason.startswith("AlgorithmError: ScriptError: training script train.py exited with")
    assert reason.endswith("row row end")
    assert "^^^" not in reason and 'File "' not in reason
    short = ScriptError(
        "train.py",
        exit_code=1,
        failure_reason=None,
        stderr_tail=[
            "Traceback (most recent call last):",
            '  File "/opt/ml/code/train.py", line 3, in <module>',
            "    frame = pd.read_csv(path)",
            "            ^^^^^^^^^^^^^^^^^",
            "pandas.errors.ParserError: Error tokenizing data. C error: Expected 1 fields, saw 5",
        ],
    )
    assert str(short) == (
        "training script train.py exited with code 1: "
        "pandas.errors.ParserError: Error tokenizing data. C error: Expected 1 fields, saw 5"
    )
    log = "\n".join(reporter.lines)
    assert "Traceback (most recent call last):" in log
    assert "in <module>" in log and "in parse" in log  # the frames, outermost and deepest
    assert "ValueError: could not convert string to float: 'M'" in log


def test_failure_file_is_the_reason_when_the_script_writes_one(tmp_path: Path, train_channel):
    failing = """
    import os, sys
    with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as failure:
        failure.write("AlgorithmError: need at least 10 rows, " + "x" * 2000)
    print("noise on stderr", file=sys.stderr)
    sys.exit(3)
    """
    tarball = pack(tmp_path, {"train.py": failing})

    with pytest.raises(ScriptError) as raised:
        ScriptMode().train(
            channels={"train": train_channel},
            hyperparameters=sdk_hyperparameters(tarball),
            model_dir=tmp_path / "model",
            reporter=RecordingReporter(),
        )

    assert raised.value.exit_code == 3
    assert raised.value.failure_reason.startswith("AlgorithmError: need at least 10 rows")
    assert len(raised.value.failure_reason) == 1024
    assert "noise on stderr" not in str(raised.value)


def test_stop_sends_sigterm_and_keeps_what_the_script_saved(tmp_path: Path, train_channel):
    patient = """
    import os, signal, sys, time

    def save_and_exit(signum, frame):
        open(os.path.join(os.environ["SM_MODEL_DIR"], "checkpoint"), "w").write("epoch 1")
        sys.exit(0)

    signal.signal(signal.SIGTERM, save_and_exit)
    print("epoch 1", flush=True)
    time.sleep(60)
    """
    tarball = pack(tmp_path, {"train.py": patient})
    model_dir = tmp_path / "model"

    result = ScriptMode().train(
        channels={"train": train_channel},
        hyperparameters=sdk_hyperparameters(tarball),
        model_dir=model_dir,
        reporter=RecordingReporter(stop_when_logged="epoch 1"),
    )

    assert result.stopped_early
    assert (model_dir / "checkpoint").read_text() == "epoch 1"


def test_stop_kills_a_script_that_ignores_sigterm(tmp_path: Path, train_channel) -> None:
    stubborn = """
    import os, signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(os.getpid(), flush=True)
    time.sleep(60)
    """
    tarball = pack(tmp_path, {"train.py": stubborn})
    settings = ScriptSettings.from_hyperparameters(sdk_hyperparameters(tarball))
    reporter = RecordingReporter()
    reporter.should_stop = lambda: any(line.isdigit() for line in reporter.lines)

    result = run_script(
        code=tarball,
        settings=settings,
        channels={"train": train_channel},
        model_dir=tmp_path / "model",
        work_dir=tmp_path / "work",
        reporter=reporter,
        stop_grace_seconds=0.5,
    )

    assert result.stopped_early
    pid = int(next(line for line in reporter.lines if line.isdigit()))
    assert not is_running(pid)


def test_program_must_be_in_the_submitted_code(tmp_path: Path, train_channel) -> None:
    tarball = pack(tmp_path, {"main.py": "print('hi')"})

    with pytest.raises(HyperparameterError, match=r"sagemaker_program.*found: main\.py"):
        ScriptMode().train(
            channels={"train": train_channel},
            hyperparameters=sdk_hyperparameters(tarball),
            model_dir=tmp_path / "model",
            reporter=RecordingReporter(),
        )


@pytest.mark.parametrize(
    "image",
    [
        "sklearn",
        "pytorch",
        "sagemaker-scikit-learn:1.2-1",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-cpu-py310",
    ],
)
def test_framework_images_resolve_to_script_mode(image: str) -> None:
    assert algorithms.resolve_image(image) is ScriptMode


def test_handlers_in_the_training_script_serve_when_there_is_no_inference_py(
    tmp_path: Path, train_channel: Channel
) -> None:
    # SageMaker's scikit-learn examples keep model_fn and friends in the entry script itself.
    script = """
    import json, os

    def model_fn(model_dir):
        with open(os.path.join(model_dir, "model.json")) as saved:
            return json.load(saved)

    def input_fn(body, content_type):
        assert content_type == "application/json" and isinstance(body, str)
        return json.loads(body)["values"]

    def predict_fn(values, model):
        return [value * model["factor"] for value in values]

    def output_fn(prediction, accept):
        return json.dumps({"scaled": prediction}), accept

    if __name__ == "__main__":
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as out:
            json.dump({"factor": float(os.environ["SM_HP_FACTOR"])}, out)
    """
    tarball = pack(tmp_path, {"train.py": script})
    model_dir = tmp_path / "model"
    ScriptMode().train(
        channels={"train": train_channel},
        hyperparameters=sdk_hyperparameters(tarball, factor=2.5),
        model_dir=model_dir,
        reporter=RecordingReporter(),
    )

    model = algorithms.load_model(model_dir)
    answer = model.invoke(b'{"values": [1, 2]}', "application/json", "application/json")

    assert json.loads(answer) == {"scaled": [2.5, 5.0]}


def test_processes_the_script_leaves_behind_do_not_outlive_the_job(
    tmp_path: Path, train_channel: Channel
) -> None:
    leaves_a_child = """
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    print(child.pid, flush=True)
    """
    tarball = pack(tmp_path, {"train.py": leaves_a_child})
    reporter = RecordingReporter()

    ScriptMode().train(
        channels={"train": train_channel},
        hyperparameters=sdk_hyperparameters(tarball),
        model_dir=tmp_path / "model",
        reporter=reporter,
    )

    child = int(next(line for line in reporter.lines if line.isdigit()))
    assert not is_running(child)


def is_running(pid: int) -> bool:
    """True while ``pid`` runs; a killed orphan may linger as a zombie until init reaps it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
