"""Reading client messages so that every request gets an answer, whatever the client sends.

pygls structures messages in `json.loads`' `object_hook`, which sees every nested JSON object: an
object anywhere in the params with a `"jsonrpc"` key (command arguments and code-action `data` are
the client's own) was taken for a message, failed, and the whole request was dropped unanswered.
Here the hook only marks such objects, and the outermost one alone is structured, once the whole
body is read. What cannot be a request gets the JSON-RPC error it deserves (Invalid Request, id
null when there is none) and one line in the log; nothing is shown to the user for a client's
malformed message.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from lsprotocol.types import METHOD_TO_TYPES
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
)
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    ResponseErrorMessage,
)

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_MESSAGE_CHARS = 200  # of a bad message, quoted in the log line


class ContentModified(JsonRpcException):
    """LSP's answer to a request whose document changed after it was sent."""

    CODE = -32801
    MESSAGE = "ContentModified"


class PendingMessage(dict):
    """A JSON object with a `"jsonrpc"` key: a message if it is the outermost object, else data."""


def mark_message(data: dict[str, Any]) -> Any:
    """The `object_hook`: objects that look like messages are marked, nothing is structured yet."""
    return PendingMessage(data) if "jsonrpc" in data else data


def _is_notification_method(method: str) -> bool:
    entry = METHOD_TO_TYPES.get(method)
    return entry is not None and entry[1] is None and method != "shutdown"


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _cancels_an_id(params: Any) -> bool:
    return isinstance(params, dict) and _valid_id(params.get("id"))


def _short(data: Any) -> str:
    try:
        text = json.dumps(data, default=str)
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"


class MessageIntake:
    """Mixed into the protocol (pygls' `JsonRPCProtocol`): its hook and its message handler."""

    # Provided by pygls' JsonRPCProtocol (and get_message_type by LanguageServerProtocol).
    _converter: Any
    _result_types: dict[Any, Any]

    def structure_message(self, data: dict[str, Any]) -> Any:
        return mark_message(data)

    def handle_message(self, message: Any) -> None:
        structured = self._structure(message)
        if structured is not None:
            self.arrived(structured)
            super().handle_message(structured)  # type: ignore[misc]

    def arrived(self, message: Any) -> None:
        """Called in message order, before the handler is scheduled (handlers run later, after
        messages read meanwhile were applied)."""

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        """An error response, with `"id": null` when the request's id is unknown."""
        payload = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        self._send_data(payload)  # type: ignore[attr-defined]

    def report_parse_error(self, error: Exception) -> None:
        """The body was not JSON: JSON-RPC's Parse error, id null."""
        log.warning("message is not JSON: %s", error)
        self.send_error(None, PARSE_ERROR, f"Parse error: {error}")

    def _structure(self, message: Any) -> Any:
        if not isinstance(message, PendingMessage):
            msg_id = message.get("id") if isinstance(message, dict) else None
            self._invalid(
                msg_id if _valid_id(msg_id) else None, "not a JSON-RPC 2.0 message", message
            )
            return None
        data = dict(message)
        method = data.get("method")
        has_id = "id" in data
        msg_id = data.get("id")
        if has_id and not _valid_id(msg_id):
            if method is not None or msg_id is not None:
                self._invalid(None, "the id must be a string or an integer", data)
            return None  # (an error response from the client with id null: nothing to answer)
        if data.get("jsonrpc") != "2.0":
            self._invalid(msg_id if has_id else None, 'jsonrpc must be "2.0"', data)
            return None
        if method is None:
            return self._response(data) if has_id else self._invalid(None, "no method", data)
        if not isinstance(method, str):
            return self._invalid(msg_id if has_id else None, "the method must be a string", data)
        if has_id and _is_notification_method(method):
            return self._invalid(msg_id, f"{method} is a notification: it takes no id", data)
        if method == "$/cancelRequest" and not _cancels_an_id(data.get("params")):
            log.warning("$/cancelRequest without a string or integer id: %s", _short(data))
            return None
        if "params" not in data and method not in METHOD_TO_TYPES:
            data["params"] = None  # optional in JSON-RPC; pygls' generic types need the field
        fallback = JsonRPCRequestMessage if has_id else JsonRPCNotification
        kind = self.get_message_type(method) or fallback  # type: ignore[attr-defined]
        try:
            return self._converter.structure(data, kind)
        except Exception as exc:  # noqa: BLE001 - any structuring failure is the client's params
            reason = f"invalid params for {method}: {_first_line(exc)}"
            if has_id:
                log.warning("%s (request %r)", reason, msg_id)
                self.send_error(msg_id, INVALID_PARAMS, reason)
            else:
                log.warning("%s (notification dropped)", reason)
            return None

    def _response(self, data: dict[str, Any]) -> Any:
        """The client's answer to one of our requests (workspace/configuration, …)."""
        try:
            if "error" in data:
                return self._converter.structure(data, ResponseErrorMessage)
            kind = self._result_types.pop(data["id"], None) or JsonRPCResponseMessage
            return self._converter.structure(data, kind)
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "malformed response %r from the client: %s", data.get("id"), _first_line(exc)
            )
            return None

    def _invalid(self, msg_id: Any, reason: str, data: Any) -> None:
        log.warning("invalid request (%s): %s", reason, _short(data))
        self.send_error(msg_id, INVALID_REQUEST, f"Invalid Request: {reason}")
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    notes = getattr(exc, "exceptions", None)
    if notes:  # cattrs' ClassValidationError: the first field that failed says the most
        text = f"{text}: {_first_line(notes[0])}"
    return text.splitlines()[0][:_MESSAGE_CHARS]


class ErrorReports:
    """What reaches the user when something fails outside a request: a client's unreadable body
    gets its Parse error response and a log line; a handler's fault is shown once per distinct
    message per `window_s` (a storm of bad notifications is not a storm of popups)."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._shown: dict[str, float] = {}

    def should_show(self, message: str) -> bool:
        now = time.monotonic()
        last = self._shown.get(message)
        if last is not None and now - last < self.window_s:
            return False
        if len(self._shown) > 256:
            self._shown.clear()
        self._shown[message] = now
        return True


class QuietClientErrors(logging.Filter):
    """pygls logs a full traceback for a body that is not JSON (the intake logs one line) and for
    every request a handler refuses with a JSON-RPC error (bad params, an unknown document or
    command): the client's mistake is one line; tracebacks are kept for real faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        if record.getMessage() == "Unable to handle message" and isinstance(error, ValueError):
            return False  # JSONDecodeError, UnicodeDecodeError: report_parse_error logs it
        if isinstance(error, _CLIENT_ERRORS):
            record.msg = f"{record.getMessage()}: {error}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_CLIENT_ERRORS = (
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    ContentModified,
)


def install_log_filter() -> None:
    for name in ("pygls.io_", "pygls.server", "pygls.protocol.json_rpc"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
            logger.addFilter(QuietClientErrors())
