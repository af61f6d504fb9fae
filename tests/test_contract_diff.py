"""``roomrpc contract diff``: each kind of breaking change is caught, safe ones are listed."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codegen.contract_diff import diff
from server.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "clients/openrpc.json").read_text())


def method(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [m for m in doc["methods"] if m["name"] == name]
    return found[0]


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]  # type: ignore[no-any-return]


def remove_procedure(doc: dict[str, Any]) -> None:
    doc["methods"].remove(method(doc, "being.get"))


def add_required_input(doc: dict[str, Any]) -> None:
    method(doc, "being.list")["params"].append(
        {"name": "owner", "required": True, "schema": {"type": "string"}}
    )


def make_input_required(doc: dict[str, Any]) -> None:
    method(doc, "being.list")["params"][2]["required"] = True


def narrow_input_bound(doc: dict[str, Any]) -> None:
    method(doc, "being.list")["params"][2]["schema"]["maximum"] = 10


def narrow_input_enum(doc: dict[str, Any]) -> None:
    method(doc, "being.list")["params"][0]["schema"]["anyOf"][0]["enum"] = ["space", "user"]


def narrow_input_type(doc: dict[str, Any]) -> None:
    method(doc, "being.list")["params"][1]["schema"] = {"type": "string"}  # null refused


def remove_output_field(doc: dict[str, Any]) -> None:
    del schemas(doc)["Being"]["properties"]["name"]


def make_output_optional(doc: dict[str, Any]) -> None:
    schemas(doc)["Being"]["required"].remove("name")


def widen_output_type(doc: dict[str, Any]) -> None:
    name = schemas(doc)["Being"]["properties"]["name"]
    schemas(doc)["Being"]["properties"]["name"] = {"anyOf": [name, {"type": "null"}]}


def widen_output_enum(doc: dict[str, Any]) -> None:
    enum = schemas(doc)["Being"]["properties"]["type"]
    enum["enum"] = [*enum["enum"], "robot"]


def remove_error_code(doc: dict[str, Any]) -> None:
    method(doc, "being.get")["errors"].pop(0)


def change_kind(doc: dict[str, Any]) -> None:
    method(doc, "being.get")["x-kind"] = "mutation"


BREAKING: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (remove_procedure, "being.get: procedure removed"),
    (add_required_input, "being.list params.owner: required input field added"),
    (make_input_required, "being.list params.limit: now required"),
    (narrow_input_bound, "being.list params.limit: maximum 100 -> 10"),
    (narrow_input_enum, "being.list params.type: values ['bot'] removed"),
    (narrow_input_type, "being.list params.cursor: null no longer allowed"),
    (remove_output_field, ".name: output field removed"),
    (make_output_optional, ".name: now optional"),
    (widen_output_type, ".name: null now allowed"),
    (widen_output_enum, ".type: values ['robot'] added"),
    (remove_error_code, "being.get: error code "),
    (change_kind, "being.get: kind changed from query to mutation"),
]


@pytest.mark.parametrize(("edit", "expected"), BREAKING, ids=[e.__name__ for e, _ in BREAKING])
def test_each_breaking_change_is_caught(
    edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    new = copy.deepcopy(DOCUMENT)
    edit(new)
    breaking = [str(c) for c in diff(DOCUMENT, new) if c.breaking]
    assert any(expected in line for line in breaking), breaking


def subscription(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "room.events",
        "params": [],
        "result": {"name": "event", "schema": event},
        "errors": [],
        "x-kind": "subscription",
    }


def test_a_changed_subscription_event_breaks_even_when_it_only_grows() -> None:
    event: dict[str, Any] = {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "required": ["id"],
    }
    grown = copy.deepcopy(event)
    grown["properties"]["at"] = {"type": "string"}
    old = {"methods": [subscription(event)], "components": {}}
    new = {"methods": [subscription(grown)], "components": {}}
    [change] = diff(old, new)
    assert change.breaking and "subscription event changed" in change.what


def test_a_subscription_is_diffed_by_its_event_and_its_subscribe_answer() -> None:
    """The event is ``x-subscription.event`` (any change breaks); the result is the
    subscribe answer, an output like any other (an optional field added is safe)."""
    new = copy.deepcopy(DOCUMENT)
    answer = schemas(new)["Subscribed"]
    answer["properties"]["startedAt"] = {"type": "string"}
    changes = [c for c in diff(DOCUMENT, new) if c.where.startswith("intention.watch ")]
    assert changes and not any(c.breaking for c in changes), changes
    assert any("intention.watch result" in c.where for c in changes), changes
    event = method(new, "intention.watch")["x-subscription"]["event"]
    intention = schemas(new)[event["$ref"].rpartition("/")[2]]
    intention["properties"]["mood"] = {"type": "string"}
    breaking = [str(c) for c in diff(DOCUMENT, new) if c.breaking]
    assert any("intention.watch event" in line for line in breaking), breaking


def test_safe_changes_are_listed_and_not_breaking() -> None:
    new = copy.deepcopy(DOCUMENT)
    method(new, "being.list")["params"].append(
        {"name": "owner", "required": False, "schema": {"type": "string"}}
    )
    method(new, "being.list")["params"][2]["schema"]["maximum"] = 1000  # input widened
    schemas(new)["Being"]["properties"]["nickname"] = {"type": "string"}  # output field added
    method(new, "being.get")["errors"].append({"$ref": "#/components/errors/TIMEOUT"})
    added = copy.deepcopy(method(new, "being.get"))
    added["name"] = "being.fetch"
    new["methods"].append(added)
    changes = diff(DOCUMENT, new)
    assert changes and not any(c.breaking for c in changes), [str(c) for c in changes]
    text = "\n".join(map(str, changes))
    for expected in ("procedure added", "optional input field added", "maximum 100 -> 1000"):
        assert expected in text
    assert "optional output field added" in text and "error code TIMEOUT declared" in text


def test_the_command_exits_non_zero_on_breaking_changes(tmp_path: Path) -> None:
    new = copy.deepcopy(DOCUMENT)
    remove_error_code(new)
    (tmp_path / "new.json").write_text(json.dumps(new))
    old = str(ROOT / "clients/openrpc.json")
    runner = CliRunner()
    same = runner.invoke(main, ["contract", "diff", old, old])
    assert same.exit_code == 0 and "0 breaking" in same.output
    broken = runner.invoke(main, ["contract", "diff", old, str(tmp_path / "new.json")])
    assert broken.exit_code == 1 and "BREAKING  being.get: error code" in broken.output
