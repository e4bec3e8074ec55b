"""Errors a user can cause. Each maps to an HTTP problem body and to CLI exit code 2."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input: where it is, what is wrong, and how to fix it."""

    message: str
    where: str | None = None  # "file.yaml:12" or a JSON pointer such as "body.purposes.0"
    hint: str | None = None

    def render(self) -> str:
        """One line: `where: message (hint)`."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} — {self.hint}" if self.hint else text

    def as_dict(self) -> dict:
        return {k: v for k, v in {"where": self.where, "message": self.message, "hint": self.hint}.items() if v}


@dataclass
class PrivetError(Exception):
    """Base class: a clear, user-facing error. Never carries personal data."""

    detail: str
    hint: str | None = None
    problems: list[Problem] = field(default_factory=list)
    status: int = 400
    title: str = "Bad request"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """A human message: the detail, the hint, then each problem on its own line."""
        lines = [self.detail + (f" — {self.hint}" if self.hint else "")]
        lines += [f"  {p.render()}" for p in self.problems]
        return "\n".join(lines)

    def as_problem(self) -> dict:
        """RFC 9457 problem body."""
        body: dict = {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail}
        if self.hint:
            body["hint"] = self.hint
        if self.problems:
            body["errors"] = [p.as_dict() for p in self.problems]
        return body


class InvalidInput(PrivetError):
    def __init__(self, detail: str, hint: str | None = None, problems: list[Problem] | None = None) -> None:
        super().__init__(detail, hint, problems or [], 422, "Invalid input")


class NotFound(PrivetError):
    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail, hint, [], 404, "Not found")


class Conflict(PrivetError):
    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail, hint, [], 409, "Conflict")


class Unauthorized(PrivetError):
    def __init__(self, detail: str = "Authentication required", hint: str | None = None) -> None:
        super().__init__(
            detail,
            hint or "Send `Authorization: Bearer <api key>` or log in to the admin console.",
            [],
            401,
            "Unauthorized",
        )


class Forbidden(PrivetError):
    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail, hint, [], 403, "Forbidden")


class Unavailable(PrivetError):
    """A dependency (database, datastore) cannot be reached."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail, hint, [], 503, "Service unavailable")
