"""Default settings of a run, in a module that imports nothing (the CLI's options need them
before any numerical library is loaded)."""

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 20180508  # the day of the US withdrawal; any integer will do
#: Draws simulated together in one chunk of work (bounds memory: each thread holds one chunk's
#: working arrays, about 55 MB at 2,000 draws of the flagship; any value gives the same numbers).
DEFAULT_CHUNK_ROWS = 2000
#: Draws of one run from the library and the CLI (detente.limits caps memory besides).
MAX_DRAWS = 1_000_000
#: Seeds from 0 to this: the run store keeps them as SQLite integers.
MAX_SEED = 2**63 - 1
