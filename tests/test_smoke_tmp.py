async def test_health(post):
    status, body = await post({"jsonrpc": "2.0", "method": "system.health", "id": 1})
    assert status == 200, body
    assert body["result"]["status"] == "ok"
    status, body = await post({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})
    assert body == {"jsonrpc": "2.0", "result": 19, "id": 1}
    status, body = await post({"jsonrpc": "2.0", "method": "rpc.discover", "id": 1})
    assert body["result"]["openrpc"]
