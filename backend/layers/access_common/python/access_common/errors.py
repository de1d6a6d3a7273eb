"""Typed errors that map one-to-one onto the CORA error envelope.

Raising one of these anywhere below a handler produces ``{"success": false, "error", "code", "details"}``
with the matching HTTP status; nothing else should decide status codes.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base class: an expected failure with a client-facing message."""

    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class BadRequestError(AppError):
    status, code = 400, "BAD_REQUEST"


class ValidationError(AppError):
    status, code = 400, "VALIDATION_ERROR"


class UnauthorizedError(AppError):
    status, code = 401, "UNAUTHORIZED"


class ForbiddenError(AppError):
    status, code = 403, "FORBIDDEN"


class NotFoundError(AppError):
    status, code = 404, "NOT_FOUND"


class ConflictError(AppError):
    status, code = 409, "CONFLICT"


class UnprocessableError(AppError):
    status, code = 422, "UNPROCESSABLE"


class TooManyRequestsError(AppError):
    status, code = 429, "TOO_MANY_REQUESTS"


class BadGatewayError(AppError):
    status, code = 502, "BAD_GATEWAY"


class ServiceUnavailableError(AppError):
    status, code = 503, "SERVICE_UNAVAILABLE"
