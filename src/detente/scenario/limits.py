"""The limits every input file is held to, in one place (``docs/limits.md``, "Input files").

Each limit is far above what a real file needs and far below what would exhaust memory, overflow
a float in the engines, or crash the parser; a file beyond one gets a one-line
:class:`~detente.errors.InputError` before any work starts.
"""

from __future__ import annotations

from detente.defaults import MAX_SEED as MAX_SEED
from detente.errors import InputError

#: Bytes in one input file (scenario, actor table, KTAB or DECIDE file). The largest shipped
#: file is 55 KB; 2 MiB holds tens of thousands of actor rows.
MAX_FILE_BYTES = 2 * 1024 * 1024

#: Nesting of mappings and lists in a YAML file. A scenario nests 6 deep; PyYAML recurses once per
#: level, and about 450 levels exhaust Python's stack.
MAX_DEPTH = 32

#: Values (scalars, lists and mappings) in a YAML file, counting every use of an alias as a copy
#: of what it points to, so that a small file cannot expand into gigabytes ("billion laughs").
MAX_NODES = 250_000

#: Characters in an integer literal. Python refuses to convert integers of more than 4,300 digits;
#: no count in a scenario needs more than a few.
MAX_INT_CHARS = 40

#: Largest magnitude of any number in a scenario or actor table. Capabilities, positions and
#: parameters are multiplied together (capability x salience x position, summed over actors) and
#: squared by the engines; at 1e9 every such intermediate stays far inside a float's 1.8e308, and
#: the relative precision of a sum is unaffected. (Sources give shares, scores and months.)
MAX_MAGNITUDE = 1e9

#: Smallest magnitude of a number other than 0. Weights are products (capability x salience / 100
#: x ...); a capability of 5e-324 underflowed to 0 and silently turned a compromise of 60 into the
#: fallback 50. No share, score or month needs more than nine decimals.
MIN_MAGNITUDE = 1e-9


def tiny(value: float) -> bool:
    """A number other than 0 but smaller in size than ``MIN_MAGNITUDE``."""
    return value != 0 and abs(value) < MIN_MAGNITUDE


#: Characters in one CSV cell (Python's csv module refuses more than 131,072).
MAX_CSV_CELL = 131_072

#: Seeds are stored as SQLite INTEGERs (signed 64-bit).


def validate_seed(seed: object, name: str = "--seed") -> int:
    """``seed`` as an int from 0 to 2**63 - 1, or an :class:`InputError` naming ``name``.

    The run store keeps the seed as a signed 64-bit integer, so a larger one would fail only when
    the run is recorded, after all the work; a bool is not a seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(name, None, f"expected a whole number from 0 to {MAX_SEED}")
    if not 0 <= seed <= MAX_SEED:
        # str() of an int over 4,300 digits raises, so a long one is described by its size
        shown = str(seed) if seed.bit_length() <= 100 else f"a {seed.bit_length()}-bit number"
        raise InputError(name, None, f"expected a whole number from 0 to {MAX_SEED}, got {shown}")
    return seed
