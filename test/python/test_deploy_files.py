"""The shipped Docker deployment (airflow/Dockerfile, airflow/docker-compose.yaml) agrees with the repo.

Quick checks of what can drift, without an engine: the folders the image copies exist, the compose
file runs the Airflow 3 components from that image, and it passes every connection the committed
DAGs reference. test/python/docker/ builds and runs both for real.
"""

from __future__ import annotations

import re

import yaml

from testenv import REPO

AIRFLOW = REPO / "airflow"


def test_dockerfile_copies_the_three_deployment_folders_and_the_lock() -> None:
    text = (AIRFLOW / "Dockerfile").read_text()
    # The build folder is an argument: generated/ by default, in the Dockerfile and the compose file
    # alike (`gen deploy --to docker` passes its staged folder, which the .dockerignore lets in).
    (default,) = re.findall(r"^ARG DAGSPEC_BUILD=(\S+)$", text, flags=re.M)
    compose = yaml.safe_load((AIRFLOW / "docker-compose.yaml").read_text())
    build_args = compose["services"]["airflow-apiserver"]["build"]["args"]
    assert default == "generated" and build_args["DAGSPEC_BUILD"] == "${DAGSPEC_BUILD:-generated}"
    assert "!.cache/docker/deploy/" in (REPO / ".dockerignore").read_text().splitlines()
    text = text.replace("${DAGSPEC_BUILD}", default)
    sources = re.findall(r"^COPY (?:--(?!from)\S+ )*((?!--)\S+) ", text, flags=re.M)
    # The staged build's deploy manifest: optional (a pattern), beside the lock in one COPY.
    manifest = "airflow/requirements.lock generated/deploy-manifest.jso[n] /opt/dagspec/"
    assert f"COPY --chown=airflow:0 {manifest}" in text
    assert sorted(set(sources)) == sorted(
        ["airflow/requirements.lock", ".cache/docker/wheelhouse/", "airflow/runtime/",
         "airflow/docker/dagspec_container.py", "generated/dags/", "generated/dbt/", "airflow/plugins/"]
    )  # fmt: skip
    sources.remove(".cache/docker/wheelhouse/")  # made by airflow/docker/wheelhouse.sh before a build
    for source in sources:
        assert (REPO / source).exists(), source
    airflow_pin = re.search(r"^apache-airflow==(\S+)$", (AIRFLOW / "requirements.lock").read_text(), re.M)
    assert airflow_pin and f"apache/airflow:{airflow_pin.group(1)}-python3.11" in text


def test_compose_runs_airflow_3_components_with_every_connection_the_dags_use() -> None:
    compose = yaml.safe_load((AIRFLOW / "docker-compose.yaml").read_text())
    services = compose["services"]
    commands = {tuple(s.get("command", [])) for s in services.values()}
    for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert ("airflow", component) in commands
    assert "celery worker" in " ".join(services["airflow-worker"]["command"])
    env = services["airflow-scheduler"]["environment"]
    defined = {k.removeprefix("AIRFLOW_CONN_").lower() for k in env if k.startswith("AIRFLOW_CONN_")}
    used: set[str] = set()
    for dag in (REPO / "generated" / "dags").glob("*.py"):
        used |= set(re.findall(r'"(?:conn_id|smtp_conn_id|pagerduty_conn_id)": "([^"]+)"', dag.read_text()))
    assert used and used <= defined, sorted(used - defined)


def test_no_credentials_in_generated_files() -> None:
    # Connections are referenced by id only; dbt profiles read every credential from env vars.
    secret_keys = {"password", "secret", "key", "token", "pass"}
    trees = [REPO / "generated", *sorted((REPO / "test" / "cases").glob("*/expected"))]
    for profiles in (p for tree in trees for p in tree.rglob("profiles.yml")):
        for profile in yaml.safe_load(profiles.read_text()).values():
            for name, output in profile["outputs"].items():
                fields = {**output, **{k: v for fs in output.get("filesystems", []) for k, v in fs.items()}}
                for key in secret_keys & set(fields):
                    assert str(fields[key]).startswith("{{ env_var("), (profiles, name, key)
    for dag in (p for tree in trees for p in tree.rglob("*.py")):
        # A credential-named key may only name the environment variable that holds the secret
        # (CONFIG["names"], e.g. "pg_password": "DAGSPEC_PG_PASSWORD"), never carry a value.
        for found in re.finditer(
            r"(password|secret|routing_key|login)\"?\s*[:=]\s*(\S*)", dag.read_text(), re.I
        ):
            assert re.fullmatch(r"\"DAGSPEC_[A-Z0-9_]+\",?", found.group(2)), (dag, found.group(0))
