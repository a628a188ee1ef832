"""Releasing code behind a `live` alias, and going back.

Terraform updates each function's `$LATEST`; every trigger (API Gateway, S3 notifications) invokes
the `live` alias instead (see `terraform.merge`), so new code takes no traffic until its alias
moves. A version is an immutable snapshot of code and configuration, which makes going back one
`update_alias` per function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIVE = "live"


@dataclass(frozen=True)
class Release:
    function: str
    previous: str | None  # the version `live` pointed at before; None when this deploy created it
    current: str


class ReleaseError(RuntimeError):
    pass


def live_version(lambda_client: Any, function: str, alias: str = LIVE) -> str | None:
    try:
        return str(lambda_client.get_alias(FunctionName=function, Name=alias)["FunctionVersion"])
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def publish(lambda_client: Any, function: str) -> str:
    """A new version of what `$LATEST` holds now (Lambda hands back the last one if nothing changed)."""
    # Terraform returns while Lambda may still be applying the code or configuration update;
    # publishing then fails with ResourceConflictException.
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
    return str(lambda_client.publish_version(FunctionName=function)["Version"])


def point(lambda_client: Any, function: str, version: str, alias: str = LIVE, create: bool = False) -> None:
    if create:
        lambda_client.create_alias(FunctionName=function, Name=alias, FunctionVersion=version)
    else:
        lambda_client.update_alias(FunctionName=function, Name=alias, FunctionVersion=version)


def release(lambda_client: Any, functions: list[str], alias: str = LIVE) -> list[Release]:
    """Publish every function and move its alias; if one fails, the ones already moved go back."""
    releases: list[Release] = []
    for function in functions:
        try:
            previous = live_version(lambda_client, function, alias)
            current = publish(lambda_client, function)
            point(lambda_client, function, current, alias, create=previous is None)
        except Exception as error:
            undone = roll_back(lambda_client, releases, alias) or ["nothing had moved"]
            raise ReleaseError(
                f"releasing {function} failed ({type(error).__name__}: {error}); " + "; ".join(undone)
            ) from error
        releases.append(Release(function, previous, current))
    return releases


def roll_back(lambda_client: Any, releases: list[Release], alias: str = LIVE) -> list[str]:
    """Every alias back where it was; returns one line per function saying what happened."""
    lines = []
    for item in releases:
        if item.previous is None:
            # The stage's first deploy: there is nothing older to serve, and deleting the alias would
            # leave the triggers pointing at nothing.
            lines.append(f"{item.function}: no earlier version, {alias} stays on {item.current}")
        elif item.previous == item.current:
            lines.append(f"{item.function}: unchanged, {alias} stays on {item.current}")
        else:
            point(lambda_client, item.function, item.previous, alias)
            lines.append(f"{item.function}: {alias} back from {item.current} to {item.previous}")
    return lines
