"""What Airflow reads about this provider (the ``apache_airflow_provider`` entry point).

A plain function returning plain data, importing nothing of Airflow's or of taskhub's
adapters: Airflow calls it while it configures itself, where importing ``airflow.sdk`` would
be a circular import (the dbt Cloud and Databricks providers' ``get_provider_info`` are the
same kind of function).
"""

from __future__ import annotations

from typing import Any

#: The name Airflow shows for the integration, shared by every section below.
INTEGRATION = "taskhub"
#: Where the hook lives (Airflow imports it only when it needs the connection type).
HOOK_CLASS = "taskhub.airflow.hooks.TaskHubHook"
CONNECTION_TYPE = "taskhub"
#: The vendors with a console link (taskhub.airflow.links names them <Vendor>ConsoleLink).
CONSOLE_VENDORS = ("Livepeer", "Veritone", "Cognite")


def _modules(*names: str) -> list[dict[str, Any]]:
    return [
        {"integration-name": INTEGRATION, "python-modules": [f"taskhub.airflow.{n}"]} for n in names
    ]


def _connection_type() -> dict[str, Any]:
    """The ``taskhub`` connection type: its hook, and its form in Airflow's UI."""
    return {
        "connection-type": CONNECTION_TYPE,
        "hook-class-name": HOOK_CLASS,
        "hook-name": "taskhub",
        # Declarative form fields (Airflow ≥ 3.2 reads these instead of the hook's
        # methods); every value lands in the connection's extra JSON.
        "conn-fields": {
            "vendor": {
                "label": "Vendor",
                "schema": {"type": ["string", "null"]},
                "description": (
                    "livepeer, vionlabs, cognite, veritone or veritone-edge (or a "
                    "plugin's name); its other options go in Extra"
                ),
            },
            "config": {
                "label": "Config file",
                "schema": {"type": ["string", "null"]},
                "description": "instead of a vendor: the path of a taskhub.toml",
            },
            "backend": {
                "label": "Backend",
                "schema": {"type": ["string", "null"]},
                "description": "with a config file: its backend to use (or its default)",
            },
            "console_url": {
                "label": "Console URL (optional)",
                "schema": {"type": ["string", "null"]},
                "description": (
                    "the page the task's console link opens, with the vendor's "
                    "{placeholders}; empty: the vendor's own page"
                ),
            },
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "login", "port"],
            "relabeling": {
                "host": "Base URL (optional)",
                "password": "Secret (the vendor's API key or token)",
            },
            "placeholders": {
                "host": "https://livepeer.studio/api",
                "extra": '{"vendor": "livepeer", "timeout": 30}',
            },
        },
    }


def get_provider_info() -> dict[str, Any]:
    """The provider's description, in the shape of Airflow's ``provider_info.schema.json``."""
    from taskhub import __version__

    return {
        "package-name": "taskhub",
        "name": "taskhub",
        "description": (
            "Submit, wait for, cancel and report media-AI vendor tasks (Veritone aiWARE and "
            "Edge, Vionlabs, Livepeer Studio, Cognite Data Fusion workflows) through one "
            "Task / Status model; deferrable operators wait in the triggerer."
        ),
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["service"]}],
        "hooks": _modules("hooks"),
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "triggers": _modules("triggers"),
        "extra-links": [f"taskhub.airflow.links.{v}ConsoleLink" for v in CONSOLE_VENDORS],
        "connection-types": [_connection_type()],
        "config": {
            "taskhub": {
                "description": "taskhub's settings for Airflow's processes.",
                "options": {
                    "triggerer_gc_freeze": {
                        "description": (
                            "When True, the first TaskHubTrigger to run in a triggerer process "
                            "calls gc.freeze() once, after Airflow's imports and the vendor's "
                            "adapter: Python's full garbage collections then skip that heap, "
                            "so they no longer hold the triggerer's event loop for over a "
                            "hundred milliseconds (see docs/airflow.md, Scaling). Off by "
                            "default: it affects the whole process."
                        ),
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    }
                },
            }
        },
    }
