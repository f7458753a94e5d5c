"""The step reference in docs/scenarios.md, generated from schema.json so the two cannot drift.

    python -m mock_psp.scenarios.docgen docs/scenarios.md     # rewrite the generated block
    python -m mock_psp.scenarios.docgen --check docs/scenarios.md

The block sits between the BEGIN/END markers; the tests check it is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from .loader import schema

BEGIN = "<!-- BEGIN GENERATED STEP REFERENCE (python -m mock_psp.scenarios.docgen docs/scenarios.md) -->"
END = "<!-- END GENERATED STEP REFERENCE -->"
GROUPS = [
    ("Merchant actions", ["create_order", "create_orders", "refund", "reconcile", "sync_order", "send_webhook"]),
    ("Provider calls and control", ["provider_request", "script_outcomes", "set_faults", "set_api_faults", "set_config",
                                    "advance_clock", "flush_webhooks"]),
    ("Customer actions", ["customer_pays", "open_shop", "pay_in_browser"]),
    ("Expectations", ["expect_order", "expect_orders", "expect_payment", "expect_webhook", "expect_merchant_log",
                      "expect_requests", "expect_response"]),
]


def step_kinds() -> list[str]:
    return sorted(k for k in schema()["$defs"] if k != "step")


def _type_of(spec: dict) -> str:
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    if "anyOf" in spec:
        kinds = []
        for option in spec["anyOf"]:
            if option.get("type") == "string" and "pattern" in option and "${" in option["pattern"].replace("\\", ""):
                kinds.append("`${ref}`")
            elif option.get("type") == "string" and "pattern" in option:
                kinds.append("duration")
            elif "type" in option:
                kinds.append(option["type"])
        return " or ".join(kinds)
    kind = spec.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else kind


def _section(name: str, spec: dict) -> str:
    lines = [f"### `{name}`", "", spec.get("description", ""), ""]
    properties = spec.get("properties") or {}
    required = set(spec.get("required", []))
    if properties:
        lines += ["| Field | Type | Required | Meaning |", "|---|---|---|---|"]
        for field, field_spec in properties.items():
            meaning = field_spec.get("description", "").replace("|", "\\|")
            lines.append(f"| `{field}` | {_type_of(field_spec)} | {'yes' if field in required else ''} | {meaning} |")
        lines.append("")
    elif spec.get("additionalProperties") is True:
        lines += ["Takes the control API's own body (see [control-api.md](control-api.md)).", ""]
    elif spec.get("type") == "array":
        lines += ["Takes a list.", ""]
    for example in spec.get("examples", []):
        text = yaml.safe_dump([example], sort_keys=False, default_flow_style=None, width=100, allow_unicode=True)
        lines += ["```yaml", text.rstrip(), "```", ""]
    return "\n".join(lines)


def reference_markdown() -> str:
    defs = schema()["$defs"]
    grouped = {name for _, names in GROUPS for name in names}
    groups = GROUPS + [("Other steps", sorted(set(step_kinds()) - grouped))]
    parts = [BEGIN, ""]
    for title, names in groups:
        names = [n for n in names if n in defs]
        if not names:
            continue
        parts += [f"## {title}", ""]
        parts += [_section(name, defs[name]) for name in names]
    parts.append(END)
    return "\n".join(parts)


def rewrite(path: Path) -> bool:
    """Put the current reference between the markers; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + reference_markdown() + text[end:]
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def is_current(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end] == reference_markdown()


if __name__ == "__main__":
    check = "--check" in sys.argv
    target = Path([a for a in sys.argv[1:] if a != "--check"][0])
    if check:
        sys.exit(0 if is_current(target) else 1)
    print("updated" if rewrite(target) else "already current")
