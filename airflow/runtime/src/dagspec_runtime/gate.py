"""The gate summary: what one ``dbt build`` tested and how it went, as ``dbt_build`` hands it on.

One definition for both sides of the XCom: ``dbt_runner.parse_results`` builds it, ``tasks.dbt_build``
returns it (the task's XCom) and archives it in the lake, ``publish_tables`` and ``publish_report``
read it back. It stays a plain JSON dict on the wire (a TypedDict, not a class), so the XCom
backend and anything else pulling ``dbt_build``'s XCom see exactly what they saw before.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

__all__ = ["RUN_FIELDS", "GateNode", "GateSummary"]


class GateNode(TypedDict):
    """One dbt node that failed, errored or warned."""

    node: str  # the model's or test's name
    unique_id: str
    kind: str  # dbt resource type: "model", "test", "seed", ...
    status: str  # dbt's status: "fail", "error", "runtime error", "warn"
    failures: int | None  # failing rows of a test, when dbt counted them
    message: str  # first line of dbt's message, at most 500 characters


class GateSummary(TypedDict):
    ds: str
    status: Literal["passed", "failed"]
    dbt_version: str | None
    counts: dict[str, int]  # "<resource>:<status>" -> nodes
    failures: list[GateNode]
    warnings: list[GateNode]
    skipped: list[str]  # nodes dbt skipped downstream of a failure
    # Run fields (RUN_FIELDS): in the XCom, left out of the lake's copy (dbt/gate.json) so that
    # re-running a day reproduces the lake byte for byte.
    invocation_id: NotRequired[str | None]
    seconds: NotRequired[float]
    # Marts the build made whole (first build of an incremental mart); set on the XCom only.
    full_build: NotRequired[list[str]]


RUN_FIELDS = ("invocation_id", "seconds")
