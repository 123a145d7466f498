"""Default settings of a run, in a module that imports nothing (the CLI's options need them
before any numerical library is loaded)."""

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 20180508  # the day of the US withdrawal; any integer will do
#: Draws simulated together in one chunk of work (bounds memory; any value gives the same numbers).
DEFAULT_CHUNK_ROWS = 5000
