"""Read scenario files: YAML in, validated Scenario objects out, or errors with file and line.

Validation is against ``schema.json`` (shipped with the package), plus the rules a
schema cannot say: each step has exactly one action, saved names are defined
before they are used. Nothing runs until a file is valid.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from ..dialects import registry
from . import vocabulary

COMMON_KEYS = ("name", "save_as")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\.[^}]*)?\}")
BUILT_IN_NAMES = {"last", "namespace", "shop", "psp", "dialect"}


def schema() -> dict:
    """The scenario format (schema.json), with the dialects and signing schemes the registry has."""
    document = json.loads(resources.files(__package__).joinpath("schema.json").read_text())
    document["properties"]["dialect"]["enum"] = list(registry.BY_NAME)
    schemes = [name for name, scheme in registry.schemes().items() if scheme.manual]
    document["properties"]["setup"]["properties"]["merchant"]["properties"]["scheme"]["enum"] = schemes
    return document


@cache
def validator() -> Draft202012Validator:
    """Built once: compiling the schema is the slow part."""
    return Draft202012Validator(schema())


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ScenarioError(Exception):
    """One or more scenario files are invalid; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    index: int
    kind: str
    args: Any
    name: str | None
    save_as: str | None
    line: int

    @property
    def label(self) -> str:
        return self.name or self.kind


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    dialect: str
    tags: tuple[str, ...]
    setup: dict
    steps: tuple[Step, ...]
    path: str
    uses_browser: bool = field(default=False)


BROWSER_STEPS = {"open_shop", "pay_in_browser"}


# -- YAML with line numbers ------------------------------------------------------------------------


def _build(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    """Turn a composed YAML node into Python values, noting the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), {})
            out[key] = _build(value_node, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _line_of(lines: dict[tuple, int], path: tuple) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def parse(text: str, file: str) -> tuple[Any, dict[tuple, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise ScenarioError([Problem(file, line, f"not valid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(file, 1, f"not valid YAML: {error}")]) from None
    if node is None:
        raise ScenarioError([Problem(file, 1, "the file is empty")])
    lines: dict[tuple, int] = {}
    return _build(node, (), lines), lines


# -- validation ------------------------------------------------------------------------------------


def _schema_problems(data: Any, lines: dict, file: str) -> list[Problem]:
    problems = []
    for error in sorted(validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = tuple(error.absolute_path)
        label = "/".join(str(p) for p in where) or "(top level)"
        problems.append(Problem(file, _line_of(lines, where), f"{label}: {_message(error)}"))
    return problems


def _message(error) -> str:
    if "propertyNames" in error.relative_schema_path:
        known = [k for k in error.validator_value if k not in COMMON_KEYS] if error.validator == "enum" else []
        close = vocabulary.closest(error.instance, known)
        hint = f" did you mean {close}?" if close else ""
        return f"unknown step {error.instance!r};{hint} steps are: {', '.join(known)} (plus name, save_as)"
    if error.validator == "anyOf":
        kinds = []
        for option in error.validator_value:
            if "pattern" in option and option.get("type") == "string" and "\\$" in option["pattern"]:
                kinds.append("a ${reference}")
            elif "type" in option:
                kinds.append(f"{'an' if option['type'][0] in 'aeiou' else 'a'} {option['type']}")
        return f"{error.instance!r} is not valid here: give {' or '.join(kinds) or 'a valid value'}"
    if error.validator == "additionalProperties":
        return _unknown_keys(error)
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        hint = vocabulary.did_you_mean(error.instance, error.validator_value)
        return f"{error.instance!r} is not one of {choices}{hint}"
    return error.message


def _unknown_keys(error) -> str:
    """Each key the object may not have, with the closest it may (or the ones it may)."""
    allowed = list(error.schema.get("properties") or {})
    unknown = [key for key in error.instance if key not in allowed]
    if not unknown or not allowed:
        return error.message.replace("Additional properties are not allowed", "unknown key(s)")
    parts = []
    for key in unknown:
        hint = vocabulary.did_you_mean(key, allowed)
        parts.append(f"unknown key {key!r}{hint or '; keys are: ' + ', '.join(allowed)}")
    return "; ".join(parts)


def _step_problems(data: dict, lines: dict, file: str) -> list[Problem]:
    problems = []
    defined = set(BUILT_IN_NAMES)
    for index, step in enumerate(data.get("steps") or []):
        if not isinstance(step, dict):
            continue
        where = ("steps", index)
        actions = [k for k in step if k not in COMMON_KEYS]
        if len(actions) != 1:
            problems.append(Problem(file, _line_of(lines, where),
                                    f"steps/{index}: a step has exactly one action, found "
                                    f"{', '.join(actions) or 'none'}"))
        for name in sorted(set(REFERENCE.findall(json.dumps({k: v for k, v in step.items() if k != "save_as"})))):
            if name not in defined:
                problems.append(Problem(file, _line_of(lines, where),
                                        f"steps/{index}: ${{{name}...}} is used before any step saves it "
                                        f"(save_as: {name})"))
        if step.get("save_as"):
            defined.add(step["save_as"])
    return problems


def _word_problems(data: Any, lines: dict, file: str) -> list[Problem]:
    """Event types, order states and outcome names the scenario's dialect does not know (vocabulary.py)."""
    return [Problem(file, _line_of(lines, path), f"{'/'.join(map(str, path))}: {message}")
            for path, message in vocabulary.problems(data)]


def load(path: str | Path) -> Scenario:
    """Read and validate one file. Raises ScenarioError listing every problem found."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError([Problem(file, 1, f"cannot read: {error.strerror}")]) from None
    data, lines = parse(text, file)
    problems = _schema_problems(data, lines, file)
    if isinstance(data, dict):
        problems += _step_problems(data, lines, file)
    problems += _word_problems(data, lines, file)
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line))
    steps = []
    for index, raw in enumerate(data["steps"]):
        kind = next(k for k in raw if k not in COMMON_KEYS)
        steps.append(Step(index, kind, raw[kind], raw.get("name"), raw.get("save_as"),
                          _line_of(lines, ("steps", index))))
    return Scenario(name=data["name"], description=data.get("description", ""), dialect=data["dialect"],
                    tags=tuple(data.get("tags", ())), setup=data.get("setup") or {}, steps=tuple(steps), path=file,
                    uses_browser=any(s.kind in BROWSER_STEPS for s in steps))


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """The .yaml/.yml files named, or found under the folders named (sorted)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def load_all(paths: list[str | Path]) -> list[Scenario]:
    """Load every file; if any is invalid, raise one ScenarioError with all their problems.
    Names must be unique across the files."""
    scenarios, problems = [], []
    for path in scenario_files(paths):
        try:
            scenarios.append(load(path))
        except ScenarioError as error:
            problems += error.problems
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in seen:
            problems.append(Problem(scenario.path, 1, f"name {scenario.name!r} is also used by {seen[scenario.name]}"))
        seen[scenario.name] = scenario.path
    if problems:
        raise ScenarioError(problems)
    return scenarios


def catalog_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("catalog")))
