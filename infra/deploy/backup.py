"""The pre-deploy backup: one on-demand DynamoDB backup per table of the stage.

Point-in-time recovery already covers the last 35 days; an on-demand backup is kept until deleted
and is named after the deploy, so "the data as it was before deploy X" is one restore away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.local.environment import stage_environment


@dataclass(frozen=True)
class TableBackup:
    table: str
    backup_arn: str | None  # None: the table does not exist yet (the stage's first deploy)


def stage_tables(stage: str) -> list[str]:
    """Every table of the stage: the `*_TABLE` variables of `.chalice/config.json`."""
    env = stage_environment(stage)
    return sorted(value for name, value in env.items() if name.endswith("_TABLE"))


def backup_name(table: str, label: str) -> str:
    # DynamoDB allows 3-255 characters of [a-zA-Z0-9_.-] in a backup name.
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"{table}-{label}")[:255]


def back_up_tables(dynamodb: Any, tables: list[str], label: str) -> list[TableBackup]:
    backups = []
    for table in tables:
        try:
            details = dynamodb.create_backup(TableName=table, BackupName=backup_name(table, label))
        except dynamodb.exceptions.TableNotFoundException:
            backups.append(TableBackup(table, None))
            continue
        backups.append(TableBackup(table, details["BackupDetails"]["BackupArn"]))
    return backups
