"""Errors a user can act on: each names the file, where in it, and what was expected."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user's file: reported as one line, exit status 2, no traceback.

    ``where`` is a row and field (``row 4, field 'salience'``) or a path in a structured file
    (``issues[0].positions.Khamenei.salience``).
    """

    def __init__(self, file: str, where: str | None, message: str) -> None:
        self.file = file
        self.where = where
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        loc = f"{self.file}: {self.where}: " if self.where else f"{self.file}: "
        return one_line(loc + self.message)


def one_line(text: str) -> str:
    """``text`` on one line: control characters (a newline or carriage return in a key the user
    wrote, a NUL) are shown escaped, so an error message is always exactly one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
