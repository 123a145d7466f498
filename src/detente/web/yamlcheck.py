"""A bounded look at YAML text before it is loaded: what the server refuses outright.

The loader (``detente.scenario.yamlio``) builds Python objects; an alias repeated inside
aliases builds an exponentially large one from a small text ("billion laughs" and its milder
kin: 0.16 MB became a 100 MB file). This pass reads only the parser's events, which cost time in
proportion to the text, and refuses aliases, nesting deeper than :data:`MAX_DEPTH`, a mapping or
list used as a key, and integers too long to read, each with one line naming the line.
"""

from __future__ import annotations

import re

import yaml

from detente.errors import InputError

#: Scenarios nest about six levels; 64 is far beyond any real file and far below the loader's
#: recursion limit (about 450 levels).
MAX_DEPTH = 64
#: Digits of a number (Python refuses to read integers of more than 4,300 digits).
MAX_NUMBER_CHARS = 100
_NUMBERISH = re.compile(r"^[-+]?[0-9][0-9_.eE+:-]*$")


def check_yaml_text(text: str, file: str) -> None:
    """Refuse YAML with aliases, deep nesting, non-scalar keys or huge numbers (InputError)."""
    # each open collection: [is a mapping, nodes seen in it]
    stack: list[list[int]] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            mark = event.start_mark
            line = f"line {mark.line + 1}" if mark is not None else "(unknown line)"
            if isinstance(event, yaml.AliasEvent):
                raise InputError(file, line, "YAML aliases (*name) are not accepted here")
            is_node = isinstance(
                event, yaml.ScalarEvent | yaml.SequenceStartEvent | yaml.MappingStartEvent
            )
            if is_node and stack and stack[-1][0] and stack[-1][1] % 2 == 0:
                if not isinstance(event, yaml.ScalarEvent):
                    raise InputError(file, line, "a mapping or list used as a key")
            if isinstance(event, yaml.ScalarEvent):
                _check_scalar(event, file, line)
                if stack:
                    stack[-1][1] += 1
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                stack.append([int(isinstance(event, yaml.MappingStartEvent)), 0])
                if len(stack) > MAX_DEPTH:
                    raise InputError(file, line, f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                stack.pop()
                if stack:
                    stack[-1][1] += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InputError(file, where, f"not valid YAML: {problem}") from None


def _check_scalar(event: yaml.ScalarEvent, file: str, line: str) -> None:
    plain = event.style is None and event.implicit[0]
    value = event.value
    if plain and len(value) > MAX_NUMBER_CHARS and _NUMBERISH.match(value):
        raise InputError(file, line, f"a number of {len(value):,} characters (too long)")
