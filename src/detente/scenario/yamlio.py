"""Safe YAML loading that refuses what PyYAML would silently accept, and error paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from detente.errors import InputError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML keeps the last one without a word)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {line})", key_node.start_mark
            )
        seen[key] = loader.construct_object(value_node)
    return seen


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML safely; a syntax error or duplicate key becomes an :class:`InputError`."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(file, where, f"not valid YAML: {problem}") from None


def read_text(path: Path) -> str:
    """A file's text, or an :class:`InputError` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), None, "is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), None, "not a UTF-8 text file") from None
    except OSError as exc:
        raise InputError(str(path), None, f"cannot be read ({exc.strerror})") from None


def format_loc(loc: Sequence[int | str]) -> str:
    """('issues', 0, 'positions', 'Khamenei') -> 'issues[0].positions.Khamenei'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def validation_error(file: str, exc: ValidationError) -> InputError:
    """The first problem pydantic found, as one line naming the path in the file."""
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "missing field"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    value = err.get("input")
    said = repr(value) in msg
    shown = f" (got {value!r})" if err["type"] != "missing" and _short(value) and not said else ""
    extra = f"; {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return InputError(file, format_loc(loc), f"{msg}{shown}{extra}")


def _short(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and len(repr(value)) <= 40


M = TypeVar("M", bound=BaseModel)


def validate_mapping(data: Any, model: type[M], file: str, what: str) -> M:
    """Parsed YAML as ``model``; an empty file, a non-mapping or a bad field is an InputError.

    ``what`` says what the file should hold (for the message), e.g. "a coercion scenario".
    """
    if data is None:
        raise InputError(file, None, f"empty file; expected {what}")
    if not isinstance(data, dict):
        raise InputError(file, "(top level)", f"expected a mapping: {what}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(file, exc) from None
