"""Validation of control-plane request bodies (camelCase JSON, as the oci SDK serialises its
models). Every failure is a 400 InvalidParameter naming the field and what is allowed."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from .cp_common import invalid, ts

MAX_NAME = 255
MAX_DESCRIPTION = 400


def only_keys(data: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise invalid(f"Unknown field(s) in {what}: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.")


def opt_str(data: dict[str, Any], key: str, max_len: int = MAX_NAME) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise invalid(f"{key} must be a non-empty string of at most {max_len} characters.")
    return value


def req_str(data: dict[str, Any], key: str, max_len: int = MAX_NAME) -> str:
    value = opt_str(data, key, max_len)
    if value is None:
        raise invalid(f"{key} is required.")
    return value


def opt_obj(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise invalid(f"{key} must be an object.")
    return value


def freeform_tags(data: dict[str, Any]) -> dict[str, str] | None:
    value = data.get("freeformTags")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid("freeformTags must be an object of string values.")
    return value


def defined_tags(data: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    value = data.get("definedTags")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise invalid("definedTags must be an object of namespaces, each an object of tag values.")
    return value


def conversation_config(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("conversationConfig must be an object.")
    only_keys(value, {"responsesRetentionInHours", "conversationsRetentionInHours"}, "conversationConfig")
    for key, hours in value.items():
        if hours is not None and (not isinstance(hours, int) or isinstance(hours, bool) or hours < 1):
            raise invalid(f"conversationConfig.{key} must be a positive integer (hours).")
    return value


def _time(value: Any, key: str) -> float:
    if not isinstance(value, str):
        raise invalid(f"{key} must be an RFC 3339 date-time string.")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid(f"{key} must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z; got '{value}'.") from None


def schedule(value: Any) -> dict[str, Any] | None:
    """ScheduleIntervalConfig {configType INTERVAL, frequency HOURLY|DAILY, interval} or
    ScheduleCronConfig {configType CRON, cronExpression}; both with state and timeStart/timeEnd.
    A missing timeStart is set to now, as the service does."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("scheduleConfig must be an object.")
    kind = value.get("configType")
    common = {"configType", "state", "timeStart", "timeEnd"}
    if kind == "INTERVAL":
        only_keys(value, common | {"frequency", "interval"}, "scheduleConfig")
        if value.get("frequency") not in ("HOURLY", "DAILY"):
            raise invalid("scheduleConfig.frequency must be HOURLY or DAILY.")
        n = value.get("interval")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise invalid("scheduleConfig.interval must be a positive integer.")
    elif kind == "CRON":
        only_keys(value, common | {"cronExpression"}, "scheduleConfig")
        cron = value.get("cronExpression")
        if not isinstance(cron, str) or len(cron.split()) not in (5, 6):
            raise invalid("scheduleConfig.cronExpression must be a cron expression of 5 or 6 fields.")
    else:
        raise invalid(f"scheduleConfig.configType must be INTERVAL or CRON; got {kind!r}.")
    if value.get("state") is not None and value["state"] not in ("ENABLED", "DISABLED"):
        raise invalid("scheduleConfig.state must be ENABLED or DISABLED.")
    out = dict(value)
    start = _time(value["timeStart"], "scheduleConfig.timeStart") if value.get("timeStart") else time.time()
    out["timeStart"] = ts(start)
    if value.get("timeEnd") is not None and _time(value["timeEnd"], "scheduleConfig.timeEnd") <= start:
        raise invalid("scheduleConfig.timeEnd must be after timeStart.")
    return out


def configuration(value: Any) -> dict[str, Any]:
    """OciObjectStorageConfiguration {type OBJECT_STORAGE_FILES, storageConfigList
    [{namespace, bucketName, prefixList}]}."""
    if not isinstance(value, dict):
        raise invalid("configuration is required: {type: OBJECT_STORAGE_FILES, storageConfigList: [...]}.")
    if value.get("type") != "OBJECT_STORAGE_FILES":
        raise invalid(f"configuration.type must be OBJECT_STORAGE_FILES; got {value.get('type')!r}.")
    only_keys(value, {"type", "storageConfigList"}, "configuration")
    items = value.get("storageConfigList")
    if not isinstance(items, list) or not items:
        raise invalid(
            "configuration.storageConfigList must be a non-empty list of {namespace, bucketName, prefixList}."
        )
    for i, sc in enumerate(items):
        where = f"configuration.storageConfigList[{i}]"
        if not isinstance(sc, dict):
            raise invalid(f"{where} must be an object.")
        only_keys(sc, {"namespace", "bucketName", "prefixList"}, where)
        req_str(sc, "namespace")
        req_str(sc, "bucketName")
        prefixes = sc.get("prefixList")
        if prefixes is not None and (
            not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes)
        ):
            raise invalid(f"{where}.prefixList must be a list of strings.")
    return value


# -- Update…Details fields every lifecycle kind shares (column -> validated value) ---------------
def name_columns(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("displayName") is not None:
        out["display_name"] = req_str(data, "displayName")
    if "description" in data:
        out["description"] = opt_str(data, "description", MAX_DESCRIPTION)
    return out


def tag_columns(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    if data.get("freeformTags") is not None:
        out["freeform_tags"] = json.dumps(freeform_tags(data))
    if data.get("definedTags") is not None:
        out["defined_tags"] = json.dumps(defined_tags(data))
    return out
