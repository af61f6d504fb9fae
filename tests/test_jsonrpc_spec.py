"""The JSON-RPC 2.0 specification's Examples section, sent over HTTP, and its rules."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.app import Post, without_data

pytestmark = pytest.mark.spec_examples  # the spec's own methods answer its examples

INVALID_REQUEST = {"code": -32600, "message": "Invalid Request"}
PARSE_ERROR = {"code": -32700, "message": "Parse error"}


def ran(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the spec's example procedures did (they log it)."""
    return [r.getMessage() for r in caplog.records if r.name == "roomrpc.examples"]


def error(body: dict[str, Any], id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": body, "id": id}


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        # rpc call with positional parameters
        (
            '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
            {"jsonrpc": "2.0", "result": 19, "id": 1},
        ),
        (
            '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
            {"jsonrpc": "2.0", "result": -19, "id": 2},
        ),
        # rpc call with named parameters
        (
            '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',  # noqa: E501
            {"jsonrpc": "2.0", "result": 19, "id": 3},
        ),
        (
            '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',  # noqa: E501
            {"jsonrpc": "2.0", "result": 19, "id": 4},
        ),
        # rpc call of non-existent method
        (
            '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
            error({"code": -32601, "message": "Method not found"}, "1"),
        ),
        # rpc call with invalid JSON
        ('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', error(PARSE_ERROR, None)),
        # rpc call with invalid Request object
        ('{"jsonrpc": "2.0", "method": 1, "params": "bar"}', error(INVALID_REQUEST, None)),
        # rpc call Batch, invalid JSON
        (
            '[\n  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},\n'
            '  {"jsonrpc": "2.0", "method"\n]',
            error(PARSE_ERROR, None),
        ),
        # rpc call with an empty Array
        ("[]", error(INVALID_REQUEST, None)),
        # rpc call with an invalid Batch (but not empty)
        ("[1]", [error(INVALID_REQUEST, None)]),
        # rpc call with invalid Batch
        ("[1,2,3]", [error(INVALID_REQUEST, None)] * 3),
        # rpc call Batch
        (
            """[
                {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
                {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
            ]""",
            [
                {"jsonrpc": "2.0", "result": 7, "id": "1"},
                {"jsonrpc": "2.0", "result": 19, "id": "2"},
                error(INVALID_REQUEST, None),
                error({"code": -32601, "message": "Method not found"}, "5"),
                {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
            ],
        ),
    ],
)
async def test_spec_example(post: Post, request_body: str, expected: Any) -> None:
    status, body = await post(request_body)
    assert status == 200
    assert without_data(body) == expected


async def test_notifications_are_run_and_never_answered(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="roomrpc.examples")
    for request in (
        '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
        '{"jsonrpc": "2.0", "method": "foobar"}',
    ):
        status, body = await post(request)
        assert (status, body) == (204, None)
    assert ran(caplog) == ["update [1, 2, 3, 4, 5]"]


async def test_batch_of_notifications_returns_nothing(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="roomrpc.examples")
    status, body = await post(
        """[
            {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
        ]"""
    )
    assert (status, body) == (204, None)
    assert ran(caplog) == ["notify_sum 7", "notify_hello 7"]


async def test_notification_errors_are_not_answered(post: Post) -> None:
    for request in (
        {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": "x"}},  # invalid params
        {"jsonrpc": "2.0", "method": "nope.nope"},  # unknown method
        [{"jsonrpc": "2.0", "method": "subtract", "params": [1]}],  # in a batch
    ):
        assert await post(request) == (204, None)


@pytest.mark.parametrize(
    "raw_id",
    ['"abc"', '""', "0", "-7", "1.5", "1e3", "12345678901234567890123", "null", '"\\u00e9"'],
)
async def test_ids_are_echoed_with_exact_type_and_value(post: Post, raw_id: str) -> None:
    status, body = await post(f'{{"jsonrpc":"2.0","method":"get_data","id":{raw_id}}}')
    assert status == 200
    assert body["id"] == json.loads(raw_id)
    assert type(body["id"]) is type(json.loads(raw_id))
    assert body["result"] == ["hello", 5]


async def test_id_null_is_a_call_not_a_notification(post: Post) -> None:
    assert await post('{"jsonrpc":"2.0","method":"get_data","id":null}') == (
        200,
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": None},
    )


@pytest.mark.parametrize(
    "request_body",
    [
        '{"jsonrpc":"2.0","method":"get_data","id":{}}',
        '{"jsonrpc":"2.0","method":"get_data","id":[1]}',
        '{"jsonrpc":"2.0","method":"get_data","id":true}',
        '{"jsonrpc":"1.0","method":"get_data","id":1}',
        '{"method":"get_data","id":1}',
        '{"jsonrpc":"2.0","id":1}',
        '{"jsonrpc":"2.0","method":"get_data","params":3,"id":1}',
        '{"jsonrpc":"2.0","method":"get_data","params":null,"id":1}',
        '{"jsonrpc":2.0,"method":"get_data","id":1}',
        '"just a string"',
        "42",
        "null",
    ],
)
async def test_invalid_request_objects(post: Post, request_body: str) -> None:
    status, body = await post(request_body)
    assert status == 200
    assert without_data(body) == error(INVALID_REQUEST, None)
    assert body["error"]["data"]["code"] == "INVALID_REQUEST"
    assert body["error"]["data"]["issues"][0]["path"].startswith("$")


@pytest.mark.parametrize(
    "request_body",
    [
        "",
        "   ",
        "{",
        '{"jsonrpc":"2.0",}',
        "[1,]",
        b"\xff",
        b'{"jsonrpc":"2.0","method":"get_data","id":"\xff"}',  # not UTF-8
        b'[{"jsonrpc":"2.0","method":"get_data","id":"\xc3"}]',
    ],
)
async def test_parse_errors(post: Post, request_body: str | bytes) -> None:
    status, body = await post(request_body)
    assert (status, without_data(body)) == (200, error(PARSE_ERROR, None))


async def test_every_response_has_exactly_one_of_result_or_error(post: Post) -> None:
    _, body = await post(
        [
            {"jsonrpc": "2.0", "method": "subtract", "params": [3, 1], "id": 1},
            {"jsonrpc": "2.0", "method": "subtract", "params": {"x": 1}, "id": 2},
            {"jsonrpc": "2.0", "method": "update", "params": [1], "id": 3},  # returns null
        ]
    )
    for response in body:
        assert ("result" in response) != ("error" in response)
        assert response["jsonrpc"] == "2.0"
    assert body[2] == {"jsonrpc": "2.0", "result": None, "id": 3}


async def test_extra_envelope_members_are_ignored(post: Post) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "get_data", "id": 1, "meta": {"a": 1}})
    assert body == {"jsonrpc": "2.0", "result": ["hello", 5], "id": 1}


async def test_rpc_prefix_is_reserved(post: Post) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "rpc.nothing", "id": 1})
    assert body["error"]["code"] == -32601


async def test_positional_values_keep_their_exact_json(post: Post) -> None:
    _, body = await post('{"jsonrpc":"2.0","method":"subtract","params":[1e999, 1],"id":1}')
    assert body["error"]["code"] == -32602
    _, body = await post(
        '{"jsonrpc":"2.0","method":"subtract","params":[9007199254740993, 0],"id":1}'
    )
    assert body["result"] == 9007199254740993


async def test_too_many_positional_params(post: Post) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "subtract", "params": [1, 2, 3], "id": 1})
    assert body["error"]["code"] == -32602
    assert body["error"]["data"]["issues"] == [
        {"path": "$", "message": "Expected at most 2 positional params, got 3"}
    ]


async def test_the_examples_are_served_only_with_the_setting(
    aiohttp_client: Callable[[Any], Awaitable[Any]],
) -> None:
    from schema import jsonrpc_examples
    from server.http.app import create_app
    from tests.support.app import make_settings

    call = {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}
    discover = {"jsonrpc": "2.0", "method": "rpc.discover", "id": 2}
    examples = {p.name for p in jsonrpc_examples.CONTRACT}
    client = await aiohttp_client(create_app(make_settings()))
    response = await client.post("/rpc", json=[call, discover])
    answer, doc = await response.json()
    assert answer["error"]["code"] == -32601
    assert not examples & {m["name"] for m in doc["result"]["methods"]}
    client = await aiohttp_client(create_app(make_settings(RPC_SPEC_EXAMPLES="true")))
    response = await client.post("/rpc", json=[call, discover])
    answer, doc = await response.json()
    assert answer == {"jsonrpc": "2.0", "result": 19, "id": 1}
    assert examples <= {m["name"] for m in doc["result"]["methods"]}


@pytest.mark.parametrize(
    "raw_id", ["-0", "-0.0", "1.0", "1e2", "1E+2", "0.10", "1e400", '"\\u00e9"', "-1e-7"]
)
async def test_ids_are_echoed_byte_for_byte(client: TestClient[Any, Any], raw_id: str) -> None:
    body = f'{{"jsonrpc": "2.0", "method": "get_data", "id": {raw_id}}}'
    response = await client.post("/rpc", data=body, headers={"Content-Type": "application/json"})
    expected = f'{{"jsonrpc":"2.0","result":["hello",5],"id":{raw_id}}}'
    assert (response.status, await response.text()) == (200, expected)


async def test_invalid_ids_in_a_batch_are_invalid_requests_with_null_id(post: Post) -> None:
    status, body = await post(
        '[{"jsonrpc":"2.0","method":"get_data","id":true},'
        '{"jsonrpc":"2.0","method":"get_data","id":"ok"},'
        '{"jsonrpc":"2.0","method":"nope.nope","id":[1]},'
        '{"jsonrpc":"2.0","method":"get_data","params":"bar","id":{"a":1}}]'
    )
    assert status == 200
    assert without_data(body) == [
        error(INVALID_REQUEST, None),
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "ok"},
        error(INVALID_REQUEST, None),
        error(INVALID_REQUEST, None),
    ]
    assert body[0]["error"]["data"]["issues"] == [
        {"path": "$.id", "message": "Expected a string, a number or null"}
    ]


@pytest.mark.parametrize(
    "request_body",
    [
        '{"jsonrpc": "2.0", "method": "foobar", "params": "bar", "id": 1}',
        '{"jsonrpc": "2.0", "method": "foobar", "params": "bar"}',  # not a notification either
        '{"jsonrpc": "2.0", "method": "foobar", "params": null, "id": 1}',
        '{"jsonrpc": "2.0", "method": "rpc.foo", "params": 3}',
        '{"jsonrpc": "2.0", "method": "get_data", "params": true}',
    ],
)
async def test_unstructured_params_are_an_invalid_request_whatever_the_method(
    post: Post, request_body: str
) -> None:
    status, body = await post(request_body)
    assert (status, without_data(body)) == (200, error(INVALID_REQUEST, None))
    assert body["error"]["data"]["issues"][0]["path"] == "$.params"
    # and before the credentials are looked at
    status, body = await post(request_body, Authorization="Bearer not-a-token")
    assert (status, without_data(body)) == (200, error(INVALID_REQUEST, None))


async def test_unknown_method_with_structured_params_is_method_not_found(post: Post) -> None:
    for params in ("[]", "{}", '{"a": [1]}'):
        _, body = await post(f'{{"jsonrpc":"2.0","method":"foobar","params":{params},"id":1}}')
        assert without_data(body) == error({"code": -32601, "message": "Method not found"}, 1)


@pytest.mark.parametrize(
    "request_body",
    [
        "[" * 5000 + "]" * 5000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        '{"jsonrpc":"2.0","method":"get_data","params":[' + "[" * 5000 + "]" * 5000 + '],"id":1}',
        '[{"jsonrpc":"2.0","method":"get_data","id":1},' + "[" * 5000 + "]" * 5000 + "]",
    ],
)
async def test_json_nested_too_deeply_is_a_parse_error(post: Post, request_body: str) -> None:
    status, body = await post(request_body)
    assert (status, without_data(body)) == (200, error(PARSE_ERROR, None))


async def test_params_nested_too_deeply_are_never_an_internal_error(post: Post) -> None:
    # between "the envelope parses" and "the params decode" lies a depth the stack may not
    # reach; every depth around the limit is answered as the client's error, never ours
    seen = set()
    for depth in range(850, 1100, 3):
        nested = '{"k":' * depth + "1" + "}" * depth
        params = f'{{"id":"@alice","metadata":{nested}}}'
        status, body = await post(
            f'{{"jsonrpc":"2.0","method":"being.update","params":{params},"id":1}}'
        )
        assert status == 200
        seen.add(body["error"]["code"])
    assert seen <= {-32700, -32602, -32001}, seen
    assert -32700 in seen


async def test_a_utf8_byte_order_mark_is_ignored(post: Post) -> None:
    bom = b"\xef\xbb\xbf"
    status, body = await post(
        bom + b'{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'
    )
    assert (status, body) == (200, {"jsonrpc": "2.0", "result": 19, "id": 1})
    status, body = await post(bom + b'[{"jsonrpc": "2.0", "method": "get_data", "id": "9"}]')
    assert (status, body) == (200, [{"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}])
    status, body = await post(bom + bom + b'{"jsonrpc": "2.0", "method": "get_data", "id": 1}')
    assert (status, without_data(body)) == (200, error(PARSE_ERROR, None))


@pytest.mark.parametrize(
    "request_body",
    [
        '{"jsonrpc": "2.0", "method": "get_data", "id": 1} garbage',
        '{"jsonrpc": "2.0", "method": "get_data", "id": 1}{"jsonrpc": "2.0"}',
        '[{"jsonrpc": "2.0", "method": "get_data", "id": 1}] ]',
        '{"jsonrpc": "2.0", "method": "get_data"} x',  # even what would be a notification
    ],
)
async def test_trailing_text_after_the_json_is_a_parse_error(post: Post, request_body: str) -> None:
    status, body = await post(request_body)
    assert (status, without_data(body)) == (200, error(PARSE_ERROR, None))
