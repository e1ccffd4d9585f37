"""Airflow plugin: serves each pipeline's dbt docs (the lineage graph) at ``/dagspec/dbt-docs/<id>/``.

The generated DAG's docs link there, so the graph raw table -> staging -> fact -> report is one click
from the DAG in the Airflow UI. The pages are the self-contained ``static_index.html`` that
``dbt docs generate --static`` writes; ``gen airflow up`` generates them into
``$DAGSPEC_DBT_DOCS_ROOT/<pipeline id>/``. Read-only, no database access, and nothing but that one
file per pipeline is served (the id is checked, so no path can escape the folder).
"""

from __future__ import annotations

import os
import re

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

_PIPELINE_ID = re.compile(r"^[a-z][a-z0-9_]{0,99}$")

docs_app = FastAPI(title="dagspec dbt docs", docs_url=None, redoc_url=None, openapi_url=None)


@docs_app.get("/dbt-docs/{pipeline_id}/")
def dbt_docs(pipeline_id: str) -> FileResponse:
    root = os.environ.get("DAGSPEC_DBT_DOCS_ROOT") or os.path.join(
        os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "dbt-docs"
    )
    page = os.path.join(root, pipeline_id, "static_index.html")
    if not _PIPELINE_ID.match(pipeline_id) or not os.path.isfile(page):
        raise HTTPException(status_code=404, detail=f"no dbt docs for {pipeline_id} (run: gen airflow up)")
    return FileResponse(page, media_type="text/html")


class DagspecDocsPlugin(AirflowPlugin):
    name = "dagspec_docs"
    fastapi_apps = [{"app": docs_app, "url_prefix": "/dagspec", "name": "dagspec dbt docs"}]
