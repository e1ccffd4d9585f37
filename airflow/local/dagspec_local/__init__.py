"""dagspec's local environment: one implementation of everything a local Airflow run needs.

The demo (``npm run demo``), the local stack (``gen airflow up|down|status|cli``), the end-to-end
tests and the live tests all set Airflow up through this package:

- ``postgres``: metadata (and scratch) databases on the local PostgreSQL, created, cloned, dropped.
- ``airflow_env``: the environment every Airflow process of ours runs with (home, metadata DB,
  dags/plugins folders, lake, warehouse and dbt roots), and ``airflow db migrate``.
- ``connections``: the connections a local run uses, as ``AIRFLOW_CONN_*`` values or a file for
  ``airflow connections import``.
- ``standins``: the local SMTP server and PagerDuty Events API v2 receiver.
- ``dbt_docs``: the static dbt docs the ``dagspec_docs`` plugin serves.
- ``stack``/``native``: a long-running stack (api-server, scheduler, dag-processor, triggerer); the
  native backend runs them as local processes, and another backend (Docker) fits beside it.
- ``demo``: ``npm run demo`` after the installs.

Run ``python -m dagspec_local --help`` with ``airflow/local`` on ``PYTHONPATH``.
"""
