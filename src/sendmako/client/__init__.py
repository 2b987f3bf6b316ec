"""A typed Python client for the Sendmako API, on httpx: `Client` (blocking) and
`AsyncClient`, with the same methods.

    from sendmako.client import Client

    with Client("http://127.0.0.1:8000", "wsa_...") as sendmako:
        sent = sendmako.send_text("+222 41 85 79 75", "Hello")

Error answers raise `ApiError` (and a subclass per status) carrying the API's `code` and
`message`. This package imports nothing of the server: it runs wherever httpx does.
"""

from sendmako.client import models
from sendmako.client._async import AsyncClient
from sendmako.client._sync import Client
from sendmako.client.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    NotSupported,
    OperationFailed,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from sendmako.client.files import media_fields

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Forbidden",
    "NotFound",
    "NotSupported",
    "OperationFailed",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "media_fields",
    "models",
]
