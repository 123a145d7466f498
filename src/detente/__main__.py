"""``python -m detente`` is the ``detente`` command."""

from detente.cli import main

main()
