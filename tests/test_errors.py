"""The closed error table on the wire, invalid params, and redaction of internal errors."""

from __future__ import annotations

import logging

import pytest

from schema.errors import ERRORS, PROTOCOL_ERRORS, ErrorName
from tests.support.app import Post
from tests.support.probe import SECRET

APP_CODES = {
    "BAD_REQUEST": (-32000, 400),
    "UNAUTHORIZED": (-32001, 401),
    "FORBIDDEN": (-32003, 403),
    "NOT_FOUND": (-32004, 404),
    "TIMEOUT": (-32008, 408),
    "CONFLICT": (-32009, 409),
    "PRECONDITION_FAILED": (-32012, 412),
    "PAYLOAD_TOO_LARGE": (-32013, 413),
    "TOO_MANY_REQUESTS": (-32029, 429),
    "SERVICE_UNAVAILABLE": (-32053, 503),
    "INTERNAL_SERVER_ERROR": (-32603, 500),
}


def test_application_codes_live_in_the_server_error_range() -> None:
    for name, spec in ERRORS.items():
        if name in PROTOCOL_ERRORS:
            assert spec.code in (-32700, -32600, -32601, -32602, -32603)
        else:
            assert -32099 <= spec.code <= -32000, name


@pytest.mark.parametrize(("name", "expected"), sorted(APP_CODES.items()))
async def test_error_table_on_the_wire(
    post: Post, name: ErrorName, expected: tuple[int, int]
) -> None:
    status, body = await post(
        {"jsonrpc": "2.0", "method": "probe.fail", "params": {"code": name}, "id": 7},
        **{"X-Request-Id": "req-42"},
    )
    assert status == 200
    code, http_status = expected
    assert body == {
        "jsonrpc": "2.0",
        "error": {
            "code": code,
            "message": ERRORS[name].message,
            "data": {
                "code": name,
                "httpStatus": http_status,
                "path": "probe.fail",
                "requestId": "req-42",
            },
        },
        "id": 7,
    }


async def test_error_message_from_the_handler(post: Post) -> None:
    _, body = await post(
        {"jsonrpc": "2.0", "method": "probe.fail", "params": ["CONFLICT", "@a exists"], "id": 1}
    )
    assert body["error"]["message"] == "@a exists"
    assert body["error"]["code"] == -32009


async def test_unexpected_exception_is_redacted_and_logged(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="roomrpc.rpc"):
        status, body = await post(
            {"jsonrpc": "2.0", "method": "probe.boom", "id": 1}, **{"X-Request-Id": "r-1"}
        )
    assert status == 200
    assert body == {
        "jsonrpc": "2.0",
        "error": {
            "code": -32603,
            "message": "Internal error",
            "data": {
                "code": "INTERNAL_SERVER_ERROR",
                "httpStatus": 500,
                "path": "probe.boom",
                "requestId": "r-1",
            },
        },
        "id": 1,
    }
    assert SECRET not in str(body)
    assert "r-1" in caplog.text and SECRET in caplog.text  # the log keeps the cause


@pytest.mark.spec_examples  # get_data: a call that succeeds beside the failing one
async def test_unencodable_result_is_an_internal_error(post: Post) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "probe.unencodable", "id": 1})
    assert body["error"]["code"] == -32603
    _, body = await post(
        [
            {"jsonrpc": "2.0", "method": "probe.unencodable", "id": 1},
            {"jsonrpc": "2.0", "method": "get_data", "id": 2},
        ]
    )
    assert body[0]["error"]["code"] == -32603
    assert body[1] == {"jsonrpc": "2.0", "result": ["hello", 5], "id": 2}


@pytest.mark.parametrize(
    ("params", "path", "message"),
    [
        ({}, "$.roomBeingId", "Object missing required field `roomBeingId`"),
        ({"roomBeingId": 5}, "$.roomBeingId", "Expected `str`, got `int`"),
        ({"roomBeingId": "demo"}, "$.roomBeingId", "Expected `str` matching regex"),
        ({"roomBeingId": "@a", "count": 0}, "$.count", "Expected `int` >= 1"),
        ({"roomBeingId": "@a", "address": {"city": ""}}, "$.address.city", "Expected `str` of"),
        ({"roomBeingId": "@a", "colour": "red"}, "$.colour", "Object contains unknown field"),
    ],
)
async def test_invalid_params_name_the_field(
    post: Post, params: dict[str, object], path: str, message: str
) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "probe.echo", "params": params, "id": 1})
    error = body["error"]
    assert (error["code"], error["message"]) == (-32602, "Invalid params")
    assert error["data"]["code"] == "INVALID_PARAMS"
    assert error["data"]["httpStatus"] == 400
    assert error["data"]["path"] == "probe.echo"
    [issue] = error["data"]["issues"]
    assert issue["path"] == path
    assert issue["message"].startswith(message)


async def test_valid_params_round_trip_in_camel_case(post: Post) -> None:
    params = {"roomBeingId": "@demo-space", "count": 3, "address": {"city": "Lyon"}}
    _, body = await post({"jsonrpc": "2.0", "method": "probe.echo", "params": params, "id": 1})
    assert body["result"] == params
