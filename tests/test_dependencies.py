"""The lock files hold every direct pin of pyproject.toml at the same version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)", re.MULTILINE)


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", requirement.split("[")[0]).lower()


def _locked(path: Path) -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for name, version in LOCKED.findall(path.read_text()):
        versions.setdefault(_name(name), set()).add(version)
    return versions


def _pins(*extras: str) -> list[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    for extra in extras:
        pins += project["optional-dependencies"][extra]
    return [(_name(pin.split("==")[0]), pin.split("==")[1]) for pin in pins]


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-test.lock", ("test",))]
)
def test_each_direct_pin_is_locked_at_its_version(lock, extras):
    locked = _locked(ROOT / lock)

    assert {
        (name, version) for name, version in _pins(*extras) if version not in locked.get(name, ())
    } == set()
    assert len(locked) > len(_pins(*extras))  # the indirect ones are locked too
