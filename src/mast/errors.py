"""Errors that reach the user, each with the exit code DESIGN §7 gives it.

Every layer raises these; only the CLI turns them into text and an exit code, so the library
stays usable from Python without catching `SystemExit`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    file: str
    line: int | None
    col: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.message}"


class MastError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class InvalidInput(MastError):
    """Input that does not validate (exit 2). Nothing has been written when this is raised."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems: list[Problem | str] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Refused(MastError):
    """Valid input that a rule refuses, e.g. a publication without its approvals (exit 3)."""

    exit_code = 3


class IntegrityFailure(MastError):
    """The stored log does not verify (exit 4)."""

    exit_code = 4
