"""DataProcessing: InputFilter before the model, JoinSource and OutputFilter after it, per record.

CSV rows are treated as JSON arrays of their (string) fields, so only index paths apply, and a
join appends the output's columns to the input row (``1,2,3`` + ``0.7`` → ``1,2,3,0.7``). A JSON
record that is an object gets the output under ``SageMakerOutput`` (overwriting one already
there); any other JSON value is wrapped as ``{"SageMakerInput": …, "SageMakerOutput": …}``.
The join always uses the whole input record, not the filtered one, as SageMaker does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from batch.jsonpath import PathNotFound, compile_path
from batch.spec import TransformSpec


class RecordError(ValueError):
    """A record could not be filtered or joined; ``index`` is its position in the batch."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


class _Format:
    """How one content type's records read as JSON values and write back."""

    def __init__(self, parse: Callable[[bytes], Any], dump: Callable[[Any], bytes]) -> None:
        self.parse = parse
        self.dump = dump


def _parse_csv(record: bytes) -> list[str]:
    return next(csv.reader([record.decode("utf-8")]), [])


def _dump_csv(value: Any) -> bytes:
    row = value if isinstance(value, list) else [value]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(
        [json.dumps(item) if isinstance(item, dict | list) else item for item in row]
    )
    return buffer.getvalue().encode("utf-8")


def _dump_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_CSV = _Format(_parse_csv, _dump_csv)
_JSON = _Format(json.loads, _dump_json)
_FORMATS = {"text/csv": _CSV, "application/json": _JSON, "application/jsonlines": _JSON}


class RecordProcessor:
    """Builds request bodies from records and per-record outputs from responses."""

    def __init__(self, spec: TransformSpec) -> None:
        processing = spec.data_processing
        self.passthrough = processing.is_identity
        self._input_filter = compile_path(processing.input_filter)
        self._output_filter = compile_path(processing.output_filter)
        self._join = processing.join_source == "Input"
        self._input_format = _FORMATS.get(spec.content_type.split(";")[0].strip())
        self._output_format = _FORMATS.get(spec.response_type.split(";")[0].strip())

    def request_body(self, records: list[bytes]) -> bytes:
        """The body sent to the model: the records, each through InputFilter, one per line."""
        if self._input_filter.is_root:
            return b"\n".join(records) + b"\n"
        assert self._input_format is not None  # the spec refuses filters on other types
        filtered = [
            self._input_format.dump(
                self._guarded(index, self._input_filter.apply, self._parse_input(index, record))
            )
            for index, record in enumerate(records)
        ]
        return b"\n".join(filtered) + b"\n"

    def outputs(self, records: list[bytes], response: bytes) -> list[bytes]:
        """One output line per record (no line ending): joined with its input and filtered."""
        lines = response.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        if len(lines) != len(records):
            raise RecordError(
                f"the model answered {len(lines)} lines for {len(records)} records",
                index=min(len(lines), len(records) - 1),
            )
        if self.passthrough:
            return lines
        return [
            self._finish(index, record, line)
            for index, (record, line) in enumerate(zip(records, lines, strict=True))
        ]

    def _finish(self, index: int, record: bytes, output_line: bytes) -> bytes:
        output_format = self._output_format
        if output_format is None:  # no join, no output filter: Accept may be anything
            return output_line
        output = self._guarded(index, output_format.parse, output_line)
        if self._join:
            output = self._joined(self._parse_input(index, record), output)
        if not self._output_filter.is_root:
            output = self._guarded(index, self._output_filter.apply, output)
        return output_format.dump(output)

    def _joined(self, record: Any, output: Any) -> Any:
        if self._input_format is _CSV:
            return record + (output if isinstance(output, list) else [output])
        if isinstance(record, dict):
            return {**record, "SageMakerOutput": output}
        return {"SageMakerInput": record, "SageMakerOutput": output}

    def _parse_input(self, index: int, record: bytes) -> Any:
        assert self._input_format is not None
        return self._guarded(index, self._input_format.parse, record)

    @staticmethod
    def _guarded(index: int, function: Callable[[Any], Any], value: Any) -> Any:
        try:
            return function(value)
        except PathNotFound as error:
            raise RecordError(str(error), index=index) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise RecordError(f"cannot read the record: {error}", index=index) from None
