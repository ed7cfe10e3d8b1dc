"""An endpoint instance's log in Redis: what the instance logs and the model's code prints, kept
in order with its times, bounded, and readable by the platform while and after it serves."""

from __future__ import annotations

import logging
import textwrap
import time

from algorithms.manifest import write_manifest
from algorithms.script import SCRIPT_MODE
from infra.serving import instance_log
from infra.serving.instance_log import InstanceLogHandler, instance_log_lines, instance_logs
from tests.infra.serving.conftest import wait_until


def test_records_become_the_instances_lines_in_order(redis_client) -> None:
    handler = InstanceLogHandler(redis_client, variant_id="v1", instance="v1.abc", flush_s=60)
    logger = logging.getLogger("tests.instance_log")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        before = int(time.time() * 1000)
        logger.warning("first\nsecond")
        logging.getLogger(instance_log.REDIRECTED).handle(
            logger.makeRecord(instance_log.REDIRECTED, logging.WARNING, "", 0, "printed", (), None)
        )
        try:
            raise ValueError("bad row")
        except ValueError:
            logger.exception("predict failed")
        assert instance_log_lines(redis_client, "v1", "v1.abc") == []  # not flushed yet
    finally:
        handler.close()
        logger.removeHandler(handler)
    lines = instance_log_lines(redis_client, "v1", "v1.abc")
    messages = [line for _, line in lines]
    assert messages[:2] == ["WARNING tests.instance_log: first", "second"]
    assert "ERROR tests.instance_log: predict failed" in messages
    assert messages[-1] == "ValueError: bad row"
    assert all(at >= before for at, _ in lines)
    assert instance_logs(redis_client, "v1") == {"v1.abc": lines[0][0]}


def test_the_log_keeps_only_its_last_lines(redis_client, monkeypatch) -> None:
    monkeypatch.setattr(instance_log, "MAX_LINES", 100)
    handler = InstanceLogHandler(redis_client, variant_id="v1", instance="v1.big", flush_s=60)
    record = logging.LogRecord("x", logging.INFO, "", 0, "line %d", None, None)
    for n in range(1000):
        record.args = (n,)
        handler.emit(record)
        if n % 100 == 99:
            handler.flush()
    handler.close()
    lines = instance_log_lines(redis_client, "v1", "v1.big")
    assert 100 <= len(lines) < 300  # Redis trims whole nodes: about the last 100
    assert lines[-1][1] == "INFO x: line 999"
    assert redis_client.ttl(instance_log.log_key("v1", "v1.big")) > 0


INFERENCE = """
import json

def model_fn(model_dir):
    print("model_fn: loading from", model_dir)
    return 2.0

def transform_fn(model, body, content_type, accept):
    print("scaling", body)
    return json.dumps([float(v) * model for v in json.loads(body)]), accept
"""


def test_a_served_instance_logs_its_start_and_the_models_prints(
    supervisor, serving_state, redis_client, tmp_path
) -> None:
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "code" / "inference.py").write_text(textwrap.dedent(INFERENCE))
    write_manifest(model_dir, algorithm=SCRIPT_MODE, hyperparameters={}, feature_count=0)
    serving_state.deploy(
        "printing", containers=[{"Image": "script", "ModelDataUrl": str(model_dir)}], instances=1
    )

    [name] = wait_until(lambda: list(instance_logs(redis_client, "printing")), what="a log")
    assert name in supervisor.pids("printing")

    def logged() -> list[str]:
        return [line for _, line in instance_log_lines(redis_client, "printing", name)]

    wait_until(lambda: any("serves variant printing" in line for line in logged()), what="serving")
    lines = logged()
    assert (
        lines[0]
        == f"INFO infra.serving.worker: instance {name} loading the model of variant printing"
    )
    assert any(line.startswith("model_fn: loading from") for line in lines), lines
