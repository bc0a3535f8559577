"""The one error type and body of every HTTP answer that is not a success."""

from __future__ import annotations

#: The code of a failure the server did not expect (Confluent's "error in the backend").
INTERNAL_ERROR = 50001


class ApiError(Exception):
    """A failure to answer with `{"error_code", "message"}`.

    The HTTP status is the first three digits of a five-digit `error_code` (40403 -> 404), or
    the code itself when it has three digits, as Confluent's registry and REST Proxy do.
    """

    def __init__(
        self, error_code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}

    @property
    def status(self) -> int:
        """The HTTP status (500 for a code that names none)."""
        status = self.error_code // 100 if self.error_code >= 10_000 else self.error_code
        return status if 400 <= status < 600 else 500


def error_body(error_code: int, message: str) -> dict[str, object]:
    """The JSON body of an error."""
    return {"error_code": error_code, "message": message}
