"""Safe reading of user files: bounded regular files, strict YAML, and errors in the user's terms.

Every reader of a user's file goes through :func:`read_text` (a regular file of bounded size,
UTF-8 with or without a BOM) and YAML through :func:`load_yaml_text`, which refuses what PyYAML
would silently accept or crash on: duplicate keys, keys that are lists or mappings, nesting
deeper than :data:`~detente.scenario.limits.MAX_DEPTH`, more than
:data:`~detente.scenario.limits.MAX_NODES` values once aliases are expanded, and integers longer
than :data:`~detente.scenario.limits.MAX_INT_CHARS`. Validation errors from pydantic become
one line each in the words of ``docs/scenarios.md`` (:func:`problems_of`).
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import stat
import types
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from detente.errors import InputError
from detente.scenario.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_INT_CHARS, MAX_NODES

# libyaml's parser where PyYAML was built with it (about 4 times faster on a large file); the
# constructors below are Python either way.
_BaseLoader: Any = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that refuses keys that are lists or mappings, integers too long to convert,
    impossible dates, and duplicate keys (PyYAML keeps the last one without a word)."""


def _check_shape(text: str, file: str, aliases: bool) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_NODES values, counting each use of
    an alias as a copy of what it points to, from the event stream, before anything is built;
    without ``aliases``, refuse any alias (the server: a file there has no use for them).

    The event stream is produced without recursion, whereas building the nodes recurses once per
    level (in C with libyaml), so the depth must be checked here first.
    """
    depth = 0
    nodes = 0
    open_: list[tuple[str | None, int]] = []  # anchor and count at the start of each collection
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            if not aliases:
                mark = event.start_mark
                line = f"line {mark.line + 1}" if mark is not None else None
                raise InputError(file, line, "YAML aliases (*name) are not accepted here")
            if any(anchor == event.anchor for anchor, _ in open_):
                _refuse(f"alias *{event.anchor} inside its own anchor (a loop)", event)
            nodes += sizes.get(str(event.anchor), 1)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(f"nested more than {MAX_DEPTH} levels deep", event)
            nodes += 1
            open_.append((event.anchor, nodes - 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = open_.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start
        if nodes > MAX_NODES:
            _refuse(
                f"more than {MAX_NODES:,} values (each use of an alias counts as a copy)", event
            )


def _refuse(problem: str, event: Any) -> None:
    raise yaml.composer.ComposerError(None, None, problem, event.start_mark)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            what = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a name, not {what}", key_node.start_mark
            )
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {repr(key)[:60]} (line {line})", key_node.start_mark
            )
        seen[key] = loader.construct_object(value_node)
    return seen


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if len(text) > MAX_INT_CHARS:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"an integer of {len(text):,} characters; at most {MAX_INT_CHARS}",
            node.start_mark,
        )
    return int(_BaseLoader.construct_yaml_int(loader, node))


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return _BaseLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"not a valid date: {node.value!r}", node.start_mark
        ) from None


# YAML 1.1 (PyYAML) reads 1e-3 and 1.5e3 as text, since its exponents need a dot and a sign;
# YAML 1.2 and every spreadsheet read them as numbers, and a strict number field would refuse
# the text.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml_text(text: str, file: str, *, aliases: bool = True) -> Any:
    """Parse YAML safely within the limits; any refusal becomes a one-line :class:`InputError`.
    ``aliases=False`` refuses any alias (``*name``) outright."""
    if text.startswith("\ufeff"):
        text = text[1:]
    with _one_line_yaml_errors(file):
        _check_shape(text, file, aliases)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def check_yaml_text(text: str, file: str, *, aliases: bool = True) -> None:
    """The bounded look at YAML text that :func:`load_yaml_text` takes before building anything
    (depth, size once aliases are expanded, and no alias at all without ``aliases``): for text
    handed to another reader afterwards (the dashboard's round-trip YAML)."""
    with _one_line_yaml_errors(file):
        _check_shape(text.removeprefix("\ufeff"), file, aliases)


@contextmanager
def _one_line_yaml_errors(file: str) -> Iterator[None]:
    try:
        yield
    except InputError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        if problem == "exceeded maximum nesting depth":  # libyaml's own, far deeper, bound
            problem = f"nested more than {MAX_DEPTH} levels deep"
        # PyYAML quotes the input back (an alias name, a key): keep the line short
        raise InputError(file, where, f"not valid YAML: {one_line(problem)[:200]}") from None
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        # what PyYAML's constructors do not foresee (a float of 1e999 digits, a base-60 integer
        # of many parts): still the file's fault, still one line
        raise InputError(file, None, f"not valid YAML: {one_line(str(exc))[:200]}") from None


def one_line(text: str) -> str:
    """Text on one line: newlines and runs of spaces become single spaces."""
    return " ".join(text.split())


def read_text(path: str | Path) -> str:
    """A regular file's text (UTF-8, a leading BOM dropped), at most ``MAX_FILE_BYTES``.

    A directory, a FIFO, a device (``/dev/zero``) or a socket is refused before it is read, so a
    pipe named ``.yaml`` cannot block and a device cannot fill memory; the file is opened
    non-blocking and checked again on the open descriptor, so a swap after the first check
    changes nothing.
    """
    file = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(file, None, "no such file") from None
    except OSError as exc:
        raise InputError(file, None, f"cannot be read ({exc.strerror or exc})") from None
    _check_kind(file, st)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(file, None, f"cannot be read ({exc.strerror or exc})") from None
    try:
        _check_kind(file, os.fstat(fd))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(file, None, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(file, None, f"larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(file, f"line {line}", "not a UTF-8 text file") from None


def _check_kind(file: str, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise InputError(file, None, "is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(file, None, "not a regular file (a pipe, device or socket)")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(
            file,
            None,
            f"{st.st_size:,} bytes, larger than the {MAX_FILE_BYTES // 1024 // 1024} MiB allowed",
        )


def format_loc(loc: Sequence[int | str]) -> str:
    """('issues', 0, 'positions', 'Khamenei') -> 'issues[0].positions.Khamenei'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            plain = text and len(text) <= 40 and text.isprintable() and text.strip() == text
            out += ("." if out else "") + (text if plain else repr(text[:37]))
    return out or "(top level)"


def _short(value: object) -> str | None:
    """``repr`` of a value short enough to quote back, else None (never echo a long input)."""
    if isinstance(value, bool | float | str | datetime.date) or (
        isinstance(value, int) and value.bit_length() < 64
    ):
        text = repr(value) if not isinstance(value, datetime.date) else str(value)
        return text if len(text) <= 40 else None
    return None


_TYPE_WORDS = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
}


def plain_words(err: ErrorDetails, model: type[BaseModel] | None) -> str:
    """One pydantic error in the terms of docs/scenarios.md, without pydantic's wording."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing" and err["loc"] and isinstance(err["loc"][-1], int):
        return f"too few items: item [{err['loc'][-1]}] is missing"  # a short tuple
    if kind == "missing":
        return "missing field"
    if kind == "extra_forbidden":
        near = _closest(model, err["loc"])
        return "unknown key" + (f"; did you mean {near!r}?" if near else "")
    if kind in ("model_type", "model_attributes_type") and ctx.get("class_name") == "Param":
        shown = _short(value) or "..."
        return (
            f"a number needs a source or an assumption: write {{value: {shown}, source: ...}}"
            f" or {{value: {shown}, assumption: ..., range: [low, high]}}"
        )
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the listed values')}"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length" if kind == "too_short" else "max_length")
        what = "at least" if kind == "too_short" else "at most"
        if isinstance(value, list | tuple | dict):
            return f"expected {what} {bound} item(s), got {len(value)}"
    if kind in ("string_too_short",):
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return "use only letters, digits, '.', '_' and '-'"
    bounds = {
        "greater_than_equal": ("ge", "at least"),
        "greater_than": ("gt", "above"),
        "less_than_equal": ("le", "at most"),
        "less_than": ("lt", "below"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"expected a number {words} {ctx.get(key)}"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    msg = err["msg"]
    return msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg


def _closest(model: type[BaseModel] | None, loc: Sequence[int | str]) -> str | None:
    """The known key nearest to a misspelt one (``salince`` -> ``salience``), if any is near."""
    names = _keys_at(model, loc[:-1]) if model is not None else []
    found = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.75)
    return found[0] if found else None


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the model allows at ``loc`` (best effort: [] where the path is ambiguous)."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next(
                (f for n, f in tp.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple, dict):
            tp = typing.get_args(tp)[-1] if typing.get_args(tp) else Any
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    """Annotated[X, ...] -> X; X | None -> X."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def problems_of(
    file: str, exc: ValidationError, model: type[BaseModel] | None = None
) -> list[InputError]:
    """Every problem pydantic found, each one line naming the path in the file."""
    out: list[InputError] = []
    seen: set[str] = set()
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        if err["type"] == "missing" and loc and isinstance(loc[-1], int):
            loc = loc[:-1]  # the list is too short: name the list, not the missing item
        msg = one_line(plain_words(err, model))
        if len(loc) >= 2 and loc[-1] == "[key]":  # a bad key of a mapping, not its value
            msg = f"key {_short(loc[-2]) or repr(loc[-2])[:40]}: {msg}"
            loc = loc[:-2]
        shown = _short(err.get("input"))
        quiet = err["type"] in ("missing", "extra_forbidden")
        if (
            shown is not None
            and not quiet
            and shown not in msg
            and str(err.get("input")) not in msg
        ):
            msg += f" (got {shown})"
        problem = InputError(file, format_loc(loc), msg)
        if str(problem) not in seen:
            seen.add(str(problem))
            out.append(problem)
    return out


def first_of(problems: Sequence[InputError]) -> InputError:
    """The first problem, saying how many more there are and how to see them all."""
    first = problems[0]
    if len(problems) == 1:
        return first
    more = f" (and {len(problems) - 1} more: run detente check {first.file})"
    return InputError(first.file, first.where, first.message + more)


def validation_error(
    file: str, exc: ValidationError, model: type[BaseModel] | None = None
) -> InputError:
    """The first problem pydantic found, as one line, with the count of the others."""
    return first_of(problems_of(file, exc, model))


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
        raise validation_error(file, exc, model) from None
