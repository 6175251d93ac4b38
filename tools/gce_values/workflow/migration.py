"""Turn a conf written for a predecessor chart into values for this chart, saying what changed and why.

The predecessors are SLATE's ``globus-compute-endpoint`` 0.1.6 and Globus' ``globus_compute_endpoint``
0.7.1 (both for endpoint 2.x/3.x). Keys whose meaning is unchanged are copied; keys the schema lists
under ``x-removed`` are renamed or dropped with its hint; old defaults that are unsafe or broken today
are replaced; anything else is reported as not mapped. Values of keys this module does not know are
never shown, since a user may have pasted a credential into their conf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gce_values import pointer as ptr
from gce_values import predecessors
from gce_values.checks import secretscan as secrets_scan
from gce_values.schema import ValuesSchema, nodes

SLATE_CHART = "SLATE globus-compute-endpoint 0.1.6"
UPSTREAM_CHART = "Globus' globus_compute_endpoint 0.7.1"
UNKNOWN_CHART = "an unknown predecessor chart"
THIS_CHART = "this chart"
# Actions that leave something for the user to look at: `migrate` exits 0 only without them.
NEEDS_REVIEW = frozenset({"review", "unmapped"})

# Keys whose meaning is the same in this chart: copied as they are (after type clean-up).
# Keys that earlier versions of this chart had and no predecessor did (x-removed says what to do).
EARLIER_KEYS = ("userConfigSchema",)
STRAIGHT_KEYS = (
    "Instance",
    "endpointUUID",
    "secrets",
    "useClientCredentials",
    "useUserCredentials",
    "initBlocks",
    "minBlocks",
    "maxBlocks",
    "maxWorkersPerPod",
    "maxIdleTime",
    "initMem",
    "maxMem",
    "initCPU",
    "maxCPU",
    "workerDebug",
    "rbacEnabled",
)

OLD_MAX_BLOCKS_DEFAULT = 100
OLD_UPSTREAM_MIN_BLOCKS_DEFAULT = 1
UPSTREAM_IMAGE = "compute/kube-endpoint"  # the Globus chart's default, when its conf names no repository
# Service addresses the predecessors defaulted to; all mean production.
PRODUCTION_ADDRESSES = frozenset(
    {
        "https://api2.funcx.org",
        "https://api.funcx.org",
        "https://api2.funcx.org/v2",
        "https://compute.api.globus.org",
        "curl https://compute.api.globus.org",
    }
)

_CREDENTIAL_WORDS = ("SECRET", "PASSWORD", "TOKEN", "CLIENT_ID", "CREDENTIAL")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Change:
    """What happened to one key of the old conf (or, for ``fill-in``, what the user must add)."""

    key: str
    action: str  # copied | renamed | changed | review | dropped | unmapped | fill-in
    new_key: str
    reason: str


@dataclass
class Migration:
    """The values for this chart and the account of how they came from the old conf."""

    predecessor: str
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    @property
    def to_fill_in(self) -> list[Change]:
        return [change for change in self.changes if change.action == "fill-in"]

    def note(self, key: str, action: str, new_key: str = "", reason: str = "") -> None:
        """Record a change; a credential in the old conf's keys or values never reaches the report."""
        reason = _without_credentials(" ".join(reason.split()))
        self.changes.append(Change(_without_credentials(key), action, _without_credentials(new_key), reason))

    def renote(self, key: str, action: str, new_key: str = "", reason: str = "") -> None:
        """Replace the note of ``key`` by a more specific one: the report has one line per old key."""
        self.changes = [c for c in self.changes if c.key != key]
        self.note(key, action, new_key, reason)

    @property
    def to_review(self) -> list[Change]:
        """What the user should look at before installing (kept for review, or not carried over)."""
        return [change for change in self.changes if change.action in NEEDS_REVIEW]

    def put(self, path: str, value: Any) -> None:
        """Set a value by dotted path, creating the mappings on the way."""
        *parents, last = path.split(".")
        node = self.values
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[last] = value


def _without_credentials(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by <redacted>."""
    for _ in range(10):
        found = secrets_scan.scan_text(text)
        if found is None:
            break
        redacted = text
        for matched in found[1]:
            redacted = redacted.replace(matched, REDACTED)
        if redacted == text:
            break
        text = redacted
    return text


def predecessor_of(old: dict[str, Any], schema: ValuesSchema) -> str:
    """Which chart a conf was written for, judged by its keys.

    A conf whose keys are all keys of this chart is already for this chart (the predecessors' keys
    that survive, like Instance or maxBlocks, mean the same here); otherwise the keys only one of
    the predecessors had decide.
    """
    ours = (*schema.properties, *EARLIER_KEYS)
    if old and all(str(key) in ours for key in old) and not _old_image(old.get("image")):
        return THIS_CHART
    if "Instance" in old:
        return SLATE_CHART
    if "image" in old or "funcXServiceAddress" in old:
        return UPSTREAM_CHART
    return UNKNOWN_CHART


def _old_image(image: Any) -> bool:
    """Whether an ``image`` mapping names an old chart's endpoint image (and so is not for this chart)."""
    return isinstance(image, dict) and predecessors.old_endpoint_image(str(image.get("repository") or "")) is not None


def migrate(old: dict[str, Any], schema: ValuesSchema) -> Migration:
    """Values for this chart from ``old``, a parsed conf for a predecessor (or for this chart)."""
    result = Migration(predecessor=predecessor_of(old, schema))
    if result.predecessor == THIS_CHART:
        for raw_key, value in old.items():
            if raw_key in STRAIGHT_KEYS:
                _straight(result, raw_key, value, schema)  # the same type clean-up as for a predecessor's conf
            elif raw_key in EARLIER_KEYS:
                _removed(result, str(raw_key), value, schema, old)
            else:
                _copy(result, str(raw_key), value, schema)
        _drop_credentials(result, schema)
        _required(result)
        _high_assurance_is_fixed(result)
        return result
    handlers: dict[str, Callable[[Migration, Any], None]] = {
        "workerImage": _worker_image,
        "workerInit": _worker_init,
        "workerNamespace": _worker_namespace,
        "image": _image,
        "funcXServiceAddress": lambda m, v: _service_address(m, v, schema),
        "endpointCLIargs": lambda m, v: _cli_args(m, v, schema),
        "SLATE": lambda m, _v: m.note("SLATE", "dropped", reason="The SLATE server sets it at install time."),
    }
    removed = schema.removed()
    for raw_key, value in old.items():
        key = str(raw_key)
        if key in handlers:
            handlers[key](result, value)
        elif key in STRAIGHT_KEYS:
            _straight(result, key, value, schema)
        elif key in removed:
            _removed(result, key, value, schema, old)
        elif key in schema.properties:
            _copy(result, key, value, schema, "Already a key of this chart.")
        else:
            _unmapped(result, key, schema)
    _credential_mode(result, old)
    _block_defaults(result)
    _drop_credentials(result, schema)
    _required(result)
    _high_assurance_is_fixed(result)
    return result


def _copy(result: Migration, key: str, value: Any, schema: ValuesSchema, why: str = "") -> None:
    """A key this chart has too, copied; an empty one (null, which would delete the key and its default
    in Helm) becomes "" for a text value, and is left out otherwise, so the chart's default applies."""
    if value is None and key in schema.properties:
        if nodes.accepted_types(schema.properties[key]) == {"string"}:
            result.put(key, "")
            result.note(key, "changed", key, 'Empty in the old conf: written as "" (a null would delete the key).')
        else:
            result.note(key, "dropped", reason="Empty in the old conf; this chart's default applies.")
        return
    result.put(key, value)
    result.note(key, "copied", key, why)


def _straight(result: Migration, key: str, value: Any, schema: ValuesSchema) -> None:
    if key in {"endpointUUID", "secrets"} and value in (None, ""):
        return  # reported as something to fill in
    if key == "Instance" and value is None:
        result.put(key, "")
        result.note(key, "copied", key, "Empty, as before: SLATE names the release globus-compute-endpoint.")
        return
    if value is None:
        result.note(key, "dropped", reason="Empty in the old conf; this chart's default applies.")
        return
    cleaned, why = _clean_type(schema.properties[key], value)
    result.put(key, cleaned)
    result.note(key, "changed" if why else "copied", key, why)


def _clean_type(node: dict[str, Any], value: Any) -> tuple[Any, str]:
    """The value in the type the schema ``node`` wants, and a reason when it had to be converted.

    The predecessors took numbers and booleans as text, and quantities either way; the schema's
    ``type`` and ``x-quantity`` say what this chart wants.
    """
    types = nodes.accepted_types(node) or set()
    digits = value.strip() if isinstance(value, str) else ""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if types == {"integer"} and digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits), ""
    if types == {"integer"} and isinstance(value, float) and math.isfinite(value) and value >= 0:
        whole = math.ceil(value)
        return whole, "" if whole == value else f"{value} is not a whole number: rounded up to {whole}."
    if types == {"boolean"} and isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true", ""
    if types == {"string"} and is_number:
        bytes_note = node.get("x-quantity") == "memory"
        why = "A number without a unit means bytes; written as a quoted quantity." if bytes_note else ""
        return str(value), why
    if types == {"number"} and node.get("x-quantity") == "cpu" and isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
        except ValueError:
            return value, ""
        if not math.isfinite(number):  # "inf", "nan", "1e999": not a quantity, left for validation to report
            return value, ""
        return number, f"{value!r} written as a number."
    return value, ""


def _worker_image(result: Migration, value: Any) -> None:
    if value in (None, ""):
        result.note("workerImage", "copied", "workerImage", "Empty: workers use the endpoint's image.")
        return
    if predecessors.PYTHON_IMAGE_RE.match(str(value)):
        result.note(
            "workerImage",
            "dropped",
            reason=f"{value} is a plain Python image without globus-compute-endpoint, so workers could not "
            "start (the old chart pip-installed it in every pod). Empty (the default) runs workers on the "
            "endpoint's own image, which has the matching version.",
        )
        return
    result.put("workerImage", str(value))
    result.note(
        "workerImage",
        "review",
        "workerImage",
        "Kept; the image must contain the same globus-compute-endpoint version as the endpoint "
        "(this chart's appVersion) and whatever your functions import.",
    )


def _worker_init(result: Migration, value: Any) -> None:
    text = "" if value is None else str(value)
    if not text.strip():
        return
    if predecessors.PIP_ENDPOINT_ONLY_RE.match(text):
        result.note(
            "workerInit",
            "dropped",
            reason="It only pip-installed the endpoint in every worker pod; the worker image already has "
            "it, and a different version installed this way breaks the workers.",
        )
        return
    result.put("workerInit", text)
    if predecessors.ENDPOINT_PACKAGE_RE.search(text):
        result.note(
            "workerInit",
            "review",
            "workerInit",
            "Kept, but it installs globus-compute-endpoint (or funcX): remove that part, the worker image "
            "already has the right version.",
        )
    else:
        result.note("workerInit", "copied", "workerInit")


def _worker_namespace(result: Migration, value: Any) -> None:
    if value in (None, "", "default"):
        if value == "default":
            result.note(
                "workerNamespace",
                "changed",
                "workerNamespace",
                "'default' became '' (the release's own namespace): on SLATE that is slate-group-<group>, "
                "the only namespace an app may start pods in.",
            )
        return
    result.put("workerNamespace", str(value))
    result.note(
        "workerNamespace",
        "review",
        "workerNamespace",
        "Kept; on SLATE only the release's namespace works, so use '' there. Elsewhere the chart's role "
        "must be allowed to create pods in it.",
    )


def _image(result: Migration, value: Any) -> None:
    if not isinstance(value, dict):
        result.note("image", "unmapped", reason="Not a mapping of repository, tag and pullPolicy; not copied.")
        return
    repository = str(value.get("repository") or "") or UPSTREAM_IMAGE
    which = predecessors.old_endpoint_image(repository)
    if which is not None:
        tag = str(value.get("tag") or "")
        named = f"{repository}:{tag}" if tag else repository
        if repository == UPSTREAM_IMAGE and tag in ("", predecessors.OLD_IMAGE_TAG):
            what = f"Your conf kept the old chart's default image {UPSTREAM_IMAGE}:{predecessors.OLD_IMAGE_TAG}"
        else:
            what = f"Your conf named {named}, {which}"
        result.note(
            "image",
            "dropped",
            reason=f"{what}, which runs an endpoint older than 4.x that this chart's configuration does "
            "not fit (and is no longer published); this chart's default image runs the endpoint version "
            "it is tested with.",
        )
        return
    for sub in ("repository", "tag", "pullPolicy"):
        if value.get(sub) is not None:
            result.put(f"image.{sub}", str(value[sub]))
    result.note(
        "image",
        "review",
        "image",
        "Kept your own image; it must run globus-compute-endpoint 4.16 or later as a non-root user "
        "(podSecurity.runAsUser).",
    )
    for sub in value:
        if sub not in ("repository", "tag", "pullPolicy"):
            result.note(f"image.{sub}", "unmapped", reason="Not a key of this chart; not copied.")


def _service_address(result: Migration, value: Any, schema: ValuesSchema) -> None:
    reason = schema.removed()["funcXServiceAddress"].hint
    address = str(value or "").strip()
    if address and address not in PRODUCTION_ADDRESSES:
        reason += f" Your conf named {address}: if that is a Globus test environment, set endpoint.environment."
    result.note("funcXServiceAddress", "dropped", reason=reason)


def _cli_args(result: Migration, value: Any, schema: ValuesSchema) -> None:
    words = str(value or "").split()
    others = [word for word in words if word not in ("--debug", "--log-to-console")]
    reason = schema.removed()["endpointCLIargs"].hint
    if others:
        reason += f" Not carried over: {' '.join(others)}."
    if "--debug" in words:
        result.put("endpoint.debug", True)
        result.note("endpointCLIargs", "changed", "endpoint.debug", f"--debug became endpoint.debug: true. {reason}")
        return
    result.note("endpointCLIargs", "dropped", reason=reason)


def _removed(result: Migration, key: str, value: Any, schema: ValuesSchema, old: dict[str, Any]) -> None:
    entry = schema.removed()[key]
    target = entry.replaced_by
    if not target:
        result.note(key, "dropped", reason=entry.hint)
        return
    if _has_path(old, target):
        result.note(key, "dropped", reason=f"{target} is set too, and wins. {entry.hint}")
        return
    why = ""
    if value is not None:
        node = schema.node(tuple(target.split(".")))
        value, why = _clean_type(node, value) if node else (value, "")
        result.put(target, value)
    result.note(key, "renamed", target, f"{entry.hint} {why}".strip())


def _has_path(values: dict[str, Any], dotted: str) -> bool:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _unmapped(result: Migration, key: str, schema: ValuesSchema) -> None:
    if any(word in key.upper() for word in _CREDENTIAL_WORDS):
        reason = (
            "Looks like a credential: credentials belong in the secret that `secrets` names, never in the "
            "conf. Not copied."
        )
    else:
        lowered = {name.lower(): name for name in schema.properties}
        reason = "Not a key of the predecessor charts or of this chart; not copied."
        if key.lower() in lowered:
            reason += f" Did you mean {lowered[key.lower()]}?"
    result.note(key, "unmapped", reason=reason)


def _drop_credentials(result: Migration, schema: ValuesSchema) -> None:
    """A credential pasted into a value the migration would copy stays behind, and the report says so."""

    def declared(pointer: str) -> bool:
        *parents, last = ptr.tokens(pointer)
        return last in schema.allowed_keys(tuple(parents))

    for finding in list(secrets_scan.scan(result.values, declared)):
        tokens = ptr.tokens(finding.pointer)
        node: Any = result.values
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if isinstance(node, list):
            node.pop(int(tokens[-1]))
        else:
            node.pop(tokens[-1], None)
        key = ".".join(tokens)
        if len(tokens) == 1:
            result.changes = [change for change in result.changes if change.new_key != key]
        result.note(
            key,
            "dropped",
            reason=f"It holds what looks like a credential ({finding.what}): credentials belong in the secret "
            "that `secrets` names, never in the conf. Not copied; if the old conf was shared, rotate it.",
        )


def _credential_mode(result: Migration, old: dict[str, Any]) -> None:
    """Both login modes off worked in no chart: switch on client credentials, the usual choice."""
    client, user = result.values.get("useClientCredentials"), result.values.get("useUserCredentials")
    if "useClientCredentials" in old and client is False and user is not True:
        result.put("useClientCredentials", True)
        result.renote(
            "useClientCredentials",
            "changed",
            "useClientCredentials",
            "Both login modes were off, which cannot log in; client credentials (a client ID and secret "
            "in the secret that `secrets` names) are now on.",
        )


def _block_defaults(result: Migration) -> None:
    """Replace the predecessors' unsafe block defaults, keeping any value the user chose."""
    values = result.values
    if values.get("maxBlocks") == OLD_MAX_BLOCKS_DEFAULT:
        floor = max(_count(values.get("minBlocks")), _count(values.get("initBlocks")))
        new_max = max(4, floor)
        values["maxBlocks"] = new_max
        result.renote(
            "maxBlocks",
            "changed",
            "maxBlocks",
            f"100 was the old charts' default and lets one endpoint start up to 100 worker pods; now {new_max}. "
            "Raise it if you meant 100.",
        )
    if result.predecessor == UPSTREAM_CHART and values.get("minBlocks") == OLD_UPSTREAM_MIN_BLOCKS_DEFAULT:
        values["minBlocks"] = 0
        result.renote(
            "minBlocks",
            "changed",
            "minBlocks",
            "1 was the old chart's default and keeps a worker pod running; now 0 (workers start when tasks "
            "arrive). Set it back if you want a warm worker.",
        )


def _count(value: Any) -> int:
    """A block count as a number, 0 when it is not one (validation reports it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value)


def _required(result: Migration) -> None:
    if not result.values.get("endpointUUID"):
        result.note(
            "endpointUUID",
            "fill-in",
            "endpointUUID",
            "The old conf has no endpoint UUID. Use the UUID of your existing endpoint to keep it, or make "
            "a new one with `python3 -c 'import uuid; print(uuid.uuid4())'`.",
        )
    if not result.values.get("secrets"):
        result.note(
            "secrets",
            "fill-in",
            "secrets",
            "The old conf names no credentials secret. Create one with `gce-values secret create` and put its "
            "name here.",
        )


def _high_assurance_is_fixed(result: Migration) -> None:
    """Say, beside a kept endpoint UUID, that the endpoint's High Assurance setting came with it.

    An endpoint registers as High Assurance or not, for good: one registered without it (every
    predecessor's) cannot have endpoint.highAssurance switched on later under the same UUID.
    """
    kept = [c for c in result.changes if c.key == "endpointUUID" and c.action in ("copied", "changed")]
    if not kept:
        return
    endpoint = result.values.get("endpoint")
    high = isinstance(endpoint, dict) and endpoint.get("highAssurance") is True
    setting = "with" if high else "without"
    why = (
        f"The endpoint keeps its registration, {setting} High Assurance: endpoint.highAssurance cannot be "
        f"switched {'off' if high else 'on'} later for this UUID (a new UUID registers a new endpoint)."
    )
    change = kept[0]
    result.renote(change.key, change.action, change.new_key, f"{change.reason} {why}".strip())
