"""dagspec's operators: one Airflow operator per step of a pipeline, as a provider ships them.

A generated DAG instantiates these with its ``PIPELINE``; each runs one step of ``dagspec_runtime.tasks``
and returns what that step returns (its XCom). Their templated fields show in the task's Rendered
Template view what the run did: the day, the tables extracted, the dbt command and vars, the marts
published, the report's recipients. ``ExtractDaysOperator`` and ``BuildDaysOperator`` take a range of
report days in one run (the one-pass backfill DAG, ``dagspec_runtime.backfill``).
"""

from dagspec_runtime.operators.days import BuildDaysOperator, ExtractDaysOperator
from dagspec_runtime.operators.dbt_build import DbtBuildOperator
from dagspec_runtime.operators.extract import ExtractOperator
from dagspec_runtime.operators.load_raw import LoadRawOperator
from dagspec_runtime.operators.publish_report import PublishReportOperator
from dagspec_runtime.operators.publish_tables import PublishTablesOperator

__all__ = [
    "BuildDaysOperator",
    "DbtBuildOperator",
    "ExtractDaysOperator",
    "ExtractOperator",
    "LoadRawOperator",
    "PublishReportOperator",
    "PublishTablesOperator",
]
