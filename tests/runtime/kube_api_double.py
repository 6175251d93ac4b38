"""KubeApiDouble: a stand-in for the Kubernetes API server in the runtime tests. It is NOT a cluster.

No API server can run on these machines, so the runtime tests give the endpoint's KubernetesProvider
(and anything else that speaks the Kubernetes REST API) this double instead. It is small on purpose:

- a generic store of namespaced objects: ``GET`` (read and list, with ``labelSelector``), ``POST``,
  ``PUT``, ``PATCH`` (by its Content-Type: JSON patch, JSON merge patch, and strategic merge patch
  taken as a merge patch, which is what it is for the maps the tests patch) and ``DELETE`` on
  ``/api/v1/namespaces/NS/PLURAL[/NAME]`` and
  ``/apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME]``; any plural works (pods, configmaps, secrets,
  deployments, ...); objects can also be put in directly (``store.put``), e.g. a ConfigMap a test
  expects to be read;
- it records every request (method, path, query, body) in ``requests``, and writes each pod body it
  is sent, as sent (not the stored object, to which it adds a uid and the like), to ``record_dir``;
- a pod it is sent is *started* by a ``PodRunner`` (``PodmanPodRunner``: one podman container per pod
  container, with its image, command, args, env, user and cpu/memory limits); reading the pod reports
  the container's state as the pod's ``status.phase``; deleting the pod removes the container;
- failures can be injected (``fail("create", "pods", 403)``): the request is answered with a
  Kubernetes ``Status`` of that code, like an API server whose RBAC refuses it;
- it checks the bearer token the in-cluster client sends, and serves HTTPS (the in-cluster client
  insists on it) with a certificate made for the test.

It knows nothing of scheduling, controllers, admission, RBAC rules, watches or resource versions
beyond a counter. Say "ran through the API double", never "installed" or "on a cluster".
"""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

Object = dict[str, Any]

# Kinds of the plurals a test is likely to use; any other plural gets a kind made from its name.
KINDS = {
    "pods": "Pod",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "serviceaccounts": "ServiceAccount",
    "services": "Service",
    "events": "Event",
    "deployments": "Deployment",
    "jobs": "Job",
    "roles": "Role",
    "rolebindings": "RoleBinding",
    "networkpolicies": "NetworkPolicy",
}

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<namespace>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?/?$"
)

VERBS = ("get", "list", "create", "update", "patch", "delete")


class PodRunner(Protocol):
    """What runs the pods the double is sent (containers here; nothing at all for a plain store)."""

    def start(self, pod: Object) -> None: ...

    def phase(self, pod: Object) -> str: ...

    def stop(self, pod: Object) -> None: ...


class NoPodRunner:
    """Pods are only stored; they stay Pending."""

    def start(self, pod: Object) -> None:
        return None

    def phase(self, pod: Object) -> str:
        return "Pending"

    def stop(self, pod: Object) -> None:
        return None


@dataclass(frozen=True)
class Request:
    """One request the double was sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    time: float

    @property
    def verb(self) -> str:
        return verb_of(self.method, self.path)


@dataclass
class Failure:
    """Answer matching requests with this HTTP status (``times`` of them, or all when None)."""

    verb: str
    plural: str
    status: int
    times: int | None = None
    message: str = ""


def plural_of(path: str) -> str | None:
    match = _PATH.match(path)
    return match.group("plural") if match else None


def verb_of(method: str, path: str) -> str:
    """The Kubernetes verb of a request: get and list are both GET, told apart by a name in the path."""
    match = _PATH.match(path)
    named = bool(match and match.group("name"))
    return {
        "GET": "get" if named else "list",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(method, method.lower())


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``application/merge-patch+json`` means)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "merge",
}


class PatchError(ValueError):
    """A JSON patch that cannot be applied (the API server answers 422)."""


def _pointer(path: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"not a JSON pointer: {path!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _parent(document: Any, tokens: list[str]) -> tuple[Any, str]:
    if not tokens:
        raise PatchError("the patch may not replace the whole object")
    node = document
    for token in tokens[:-1]:
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError) as exc:
            raise PatchError(f"no such path: /{'/'.join(tokens)}") from exc
    return node, tokens[-1]


def _get(document: Any, tokens: list[str]) -> Any:
    node, last = _parent(document, tokens)
    try:
        return node[int(last)] if isinstance(node, list) else node[last]
    except (KeyError, IndexError, ValueError) as exc:
        raise PatchError(f"no such path: /{'/'.join(tokens)}") from exc


def _remove(document: Any, tokens: list[str]) -> Any:
    node, last = _parent(document, tokens)
    _get(document, tokens)
    return node.pop(int(last)) if isinstance(node, list) else node.pop(last)


def _add(document: Any, tokens: list[str], value: Any) -> None:
    node, last = _parent(document, tokens)
    if isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), copy.deepcopy(value))
    elif isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    else:
        raise PatchError(f"no such path: /{'/'.join(tokens)}")


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch (what ``application/json-patch+json`` means); raises PatchError."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "path" not in operation:
            raise PatchError(f"not a JSON patch operation: {operation!r}")
        op, tokens = operation.get("op"), _pointer(operation["path"])
        if op == "add":
            _add(document, tokens, operation.get("value"))
        elif op == "remove":
            _remove(document, tokens)
        elif op == "replace":
            _remove(document, tokens)
            _add(document, tokens, operation.get("value"))
        elif op == "test":
            if _get(document, tokens) != operation.get("value"):
                raise PatchError(f"test failed at {operation['path']}")
        elif op in {"move", "copy"}:
            source = _pointer(operation.get("from", ""))
            value = _remove(document, source) if op == "move" else _get(document, source)
            _add(document, tokens, value)
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    return document


def label_selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Equality-based selectors (``a=b,c!=d,e``), which is all the chart's clients use."""
    for term in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class ObjectStore:
    """Namespaced objects by (plural, namespace, name); thread-safe."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str], Object] = {}
        self._lock = threading.Lock()
        self._versions = itertools.count(1)

    def put(self, plural: str, obj: Object, api_version: str = "v1") -> Object:
        """Store ``obj`` (created or replaced), filling in the metadata an API server adds."""
        stored = copy.deepcopy(obj)
        metadata = stored.setdefault("metadata", {})
        metadata.setdefault("namespace", "default")
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("creationTimestamp", _now())
        stored.setdefault("apiVersion", api_version)
        stored.setdefault("kind", KINDS.get(plural, plural[:1].upper() + plural[1:].rstrip("s")))
        with self._lock:
            metadata["resourceVersion"] = str(next(self._versions))
            self._objects[(plural, metadata["namespace"], metadata["name"])] = stored
        return copy.deepcopy(stored)

    def get(self, plural: str, namespace: str, name: str) -> Object | None:
        with self._lock:
            found = self._objects.get((plural, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def select(self, plural: str, namespace: str, selector: str = "") -> list[Object]:
        """The objects of ``plural`` in ``namespace`` whose labels match ``selector``."""
        with self._lock:
            found = [obj for (p, ns, _), obj in sorted(self._objects.items()) if p == plural and ns == namespace]
        return [
            copy.deepcopy(obj)
            for obj in found
            if label_selector_matches(selector, obj.get("metadata", {}).get("labels") or {})
        ]

    def all(self, plural: str) -> list[Object]:
        """Every stored object of ``plural``, in every namespace."""
        with self._lock:
            return [copy.deepcopy(obj) for (p, _, _), obj in sorted(self._objects.items()) if p == plural]

    def delete(self, plural: str, namespace: str, name: str) -> Object | None:
        with self._lock:
            return self._objects.pop((plural, namespace, name), None)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code: int, reason: str, message: str) -> Object:
    """The body of an API server's error answer."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip


@dataclass
class TlsFiles:
    """A certificate for 127.0.0.1 and its key, and the CA file clients trust (the certificate itself)."""

    certificate: Path
    key: Path

    @classmethod
    def create(cls, directory: Path, host: str = "127.0.0.1") -> TlsFiles:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-api-double")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        files = cls(directory / "tls.crt", directory / "tls.key")
        files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        files.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        files.key.chmod(0o600)
        return files


@dataclass
class KubeApiDouble:
    """The double: an HTTPS server on a listening socket the caller provides (see netns.listen)."""

    listener: socket.socket
    tls: TlsFiles
    token: str
    runner: PodRunner = field(default_factory=NoPodRunner)
    record_dir: Path | None = None
    store: ObjectStore = field(default_factory=ObjectStore)
    requests: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pod_count = itertools.count(1)
        # Kept now: serving wraps (and so detaches) the listener.
        self._address: tuple[str, int] = self.listener.getsockname()[:2]

    # -- the test's side ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._address[1]

    def fail(self, verb: str, plural: str, status: int = 403, times: int | None = None, message: str = "") -> None:
        """Refuse ``verb`` on ``plural`` with ``status`` from now on (``times`` requests, or all)."""
        if verb not in VERBS:
            raise ValueError(f"verb must be one of {VERBS}")
        with self._lock:
            self.failures.append(Failure(verb, plural, status, times, message))

    def requests_for(self, verb: str, plural: str) -> list[Request]:
        with self._lock:
            recorded = list(self.requests)
        return [r for r in recorded if r.verb == verb and plural_of(r.path) == plural]

    def start(self) -> KubeApiDouble:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.certificate, self.tls.key)
        server = _Server(self)
        server.socket = context.wrap_socket(self.listener, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="kube-api-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for pod in self.store.all("pods"):
            self.runner.stop(pod)

    # -- the server's side -------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any, content_type: str = "") -> tuple[int, Object]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        status, answer = self._answer(method, parts.path, query, copy.deepcopy(body), content_type)
        with self._lock:
            self.requests.append(Request(method, parts.path, query, body, status, time.time()))
        return status, answer

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, content_type: str
    ) -> tuple[int, Object]:
        if method == "GET" and path in {"/version", "/version/"}:
            return 200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0-kube-api-double"}
        match = _PATH.match(path)
        if match is None or match.group("sub"):
            return 404, status_object(404, "NotFound", f"the double does not serve {path}")
        verb = verb_of(method, path)
        plural, namespace, name = match.group("plural"), match.group("namespace"), match.group("name")
        api_version = match.group("core") or f"{match.group('group')}/{match.group('version')}"
        refused = self._injected_failure(verb, plural)
        if refused is not None:
            return refused.status, status_object(
                refused.status,
                HTTPStatus(refused.status).phrase.replace(" ", ""),
                refused.message
                or f'{plural} is forbidden: User "system:serviceaccount:{namespace}:test" cannot {verb} '
                f'resource "{plural}" in API group "{match.group("group") or ""}" in the namespace "{namespace}"',
            )
        if verb == "list":
            selector = (query.get("labelSelector") or [""])[0]
            items = [self._with_status(plural, obj) for obj in self.store.select(plural, namespace, selector)]
            kind = KINDS.get(plural, plural)
            return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {}, "items": items}
        if verb == "create":
            if not isinstance(body, dict) or not body.get("metadata", {}).get("name"):
                return 422, status_object(422, "Invalid", "the object has no metadata.name")
            sent = copy.deepcopy(body)
            body.setdefault("metadata", {})["namespace"] = namespace
            if self.store.get(plural, namespace, body["metadata"]["name"]) is not None:
                return 409, status_object(409, "AlreadyExists", f'{plural} "{body["metadata"]["name"]}" already exists')
            stored = self.store.put(plural, body, api_version)
            if plural == "pods":
                self._record_pod(sent)
                self.runner.start(stored)
            return 201, self._with_status(plural, stored)
        assert name is not None
        current = self.store.get(plural, namespace, name)
        if current is None:
            return 404, status_object(404, "NotFound", f'{plural} "{name}" not found')
        if verb == "get":
            return 200, self._with_status(plural, current)
        if verb == "patch":
            patch_type = PATCH_TYPES.get(content_type.split(";", maxsplit=1)[0].strip().lower())
            if patch_type is None:
                unsupported = f"the body of type {content_type!r} is unsupported"
                return 415, status_object(415, "UnsupportedMediaType", unsupported)
            try:
                body = json_patch(current, body) if patch_type == "json" else merge_patch(current, body)
            except PatchError as exc:
                return 422, status_object(422, "Invalid", str(exc))
        if verb in {"update", "patch"}:
            updated = body
            updated.setdefault("metadata", {}).update(namespace=namespace, name=name)
            return 200, self.store.put(plural, updated, api_version)
        self.store.delete(plural, namespace, name)
        if plural == "pods":
            self.runner.stop(current)
        current.setdefault("metadata", {})["deletionTimestamp"] = _now()
        return 200, current

    def _injected_failure(self, verb: str, plural: str) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.verb == verb and failure.plural == plural and failure.times != 0:
                    if failure.times is not None:
                        failure.times -= 1
                    return failure
        return None

    def _with_status(self, plural: str, obj: Object) -> Object:
        if plural == "pods":
            obj["status"] = {"phase": self.runner.phase(obj)}
        return obj

    def _record_pod(self, pod: Object) -> None:
        if self.record_dir is None:
            return
        self.record_dir.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", pod["metadata"]["name"])
        path = self.record_dir / f"{next(self._pod_count):02d}-{name}.json"
        path.write_text(json.dumps(pod, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: KubeApiDouble) -> None:
        # Bound already (the listener was made inside the test's network namespace): skip bind/listen.
        super().__init__(double._address, _Handler, bind_and_activate=False)
        self.socket.close()
        self.double = double

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (TLS EOF) is not the test's concern; requests are recorded.
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _dispatch(self) -> None:
        double = self.server.double
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        # The Python client writes the scheme in lowercase ("bearer"); HTTP schemes ignore case.
        if scheme.lower() != "bearer" or credential.strip() != double.token:
            self._send(401, status_object(401, "Unauthorized", "Unauthorized"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._send(400, status_object(400, "BadRequest", "the body is not JSON"))
            return
        status, answer = double.handle(self.command, self.path, body, self.headers.get("Content-Type") or "")
        self._send(status, answer)

    def _send(self, status: int, answer: Object) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


def in_cluster_files(directory: Path, tls: TlsFiles, token: str, namespace: str) -> Path:
    """The service account directory a pod gets (token, ca.crt, namespace), pointing at the double."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(token, encoding="utf-8")
    (directory / "ca.crt").write_bytes(tls.certificate.read_bytes())
    (directory / "namespace").write_text(namespace, encoding="utf-8")
    for path in directory.iterdir():
        path.chmod(0o644)
    return directory


def pod_containers(pod: Object) -> Sequence[Object]:
    containers: Sequence[Object] = pod.get("spec", {}).get("containers") or []
    return containers
