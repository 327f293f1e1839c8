"""Reads infra/template.yaml and resolves the intrinsic functions it uses, so the local stack is
provisioned from the one template and never from a second list of resources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# What `Ref: AWS::NoValue` resolves to: the property or item it is in is dropped.
NO_VALUE = object()

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        key = "Ref" if name == "Ref" else "Condition" if name == "Condition" else f"Fn::{name}"
        return {key: value}

    return construct


for _name in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Condition",
):
    _CfnLoader.add_constructor(f"!{_name}", _tag(_name))


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


@dataclass
class PhysicalResource:
    """What a Ref or GetAtt of one resource resolves to once it exists."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class UnresolvedReference(Exception):
    pass


class Stack:
    """The template with its parameters, resolving values against resources created so far."""

    def __init__(self, template: dict[str, Any], stack_name: str, parameters: dict[str, str] | None = None) -> None:
        self.template = template
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self.physical: dict[str, PhysicalResource] = {}
        self.parameters = self._parameters(parameters or {})

    def _parameters(self, given: dict[str, str]) -> dict[str, str]:
        declared = self.template.get("Parameters", {})
        unknown = set(given) - set(declared)
        if unknown:
            raise ValueError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        values = {}
        for name, spec in declared.items():
            if name in given:
                values[name] = str(given[name])
            elif "Default" in spec:
                values[name] = str(spec["Default"])
            else:
                raise ValueError(f"template parameter {name} has no default; pass --param {name}=VALUE")
            allowed = spec.get("AllowedValues")
            if allowed and values[name] not in [str(v) for v in allowed]:
                raise ValueError(f"parameter {name}={values[name]} is not one of {allowed}")
        return values

    # ------------------------------------------------------------ references
    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack_name}/local",
        }.get(name)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            if self.template.get("Parameters", {}).get(name, {}).get("Type") == "CommaDelimitedList":
                return [item.strip() for item in self.parameters[name].split(",") if item.strip()]
            return self.parameters[name]
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.physical:
            return self.physical[name].ref
        raise UnresolvedReference(name)

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.physical.get(name)
        if resource is None or attribute not in resource.attributes:
            raise UnresolvedReference(f"{name}.{attribute}")
        return resource.attributes[attribute]

    def resolve(self, value: Any) -> Any:
        """The value with its intrinsic functions worked out; a key or item that comes out as
        AWS::NoValue is left out, as CloudFormation does."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not supported by the local stack")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved_vars = {name: self.resolve(v) for name, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in resolved_vars:
                return str(resolved_vars[expression])
            if "." in expression and not expression.startswith("AWS::"):
                name, attribute = expression.split(".", 1)
                return self.get_att(name, attribute)
            return str(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, name: str) -> bool:
        definition = self.template.get("Conditions", {}).get(name)
        if definition is None:
            raise ValueError(f"unknown condition {name}")
        return self._evaluate(definition)

    def _evaluate(self, expression: Any) -> bool:
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._evaluate(argument[0])
        if key == "Fn::And":
            return all(self._evaluate(item) for item in argument)
        if key == "Fn::Or":
            return any(self._evaluate(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        raise NotImplementedError(f"condition {key}")

    # ------------------------------------------------------------ ordering
    def dependencies(self, logical_id: str) -> set[str]:
        resource = self.resources[logical_id]
        found: set[str] = set()
        depends_on = resource.get("DependsOn", [])
        found.update([depends_on] if isinstance(depends_on, str) else depends_on)
        for reference in _references(resource.get("Properties", {})):
            if reference in self.resources:
                found.add(reference)
        return found

    def creation_order(self) -> list[str]:
        order: list[str] = []
        visiting: set[str] = set()

        def visit(logical_id: str) -> None:
            if logical_id in order:
                return
            if logical_id in visiting:
                raise ValueError(f"dependency cycle through {logical_id}")
            visiting.add(logical_id)
            for dependency in sorted(self.dependencies(logical_id)):
                visit(dependency)
            visiting.discard(logical_id)
            order.append(logical_id)

        for logical_id in self.resources:
            visit(logical_id)
        return order

    def globals_for_functions(self) -> dict[str, Any]:
        return dict(self.template.get("Globals", {}).get("Function", {}))


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                yield (argument if isinstance(argument, list) else argument.split("."))[0]
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for expression in re.findall(r"\$\{([^}!]+)\}", text):
                    yield expression.split(".", 1)[0]
                if not isinstance(argument, str):
                    yield from _references(argument[1])
            else:
                yield from _references(argument)
