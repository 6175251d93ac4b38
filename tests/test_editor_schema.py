"""Editors: the conf schema as the real yaml-language-server (npm) applies it to confs as users write them.

The server runs over stdio as editors run it; this test is its editor (the LSP client). A conf names
its schema with `# yaml-language-server: $schema=URL`, the released file's versioned URL. There is
no network here, so the test does what VS Code's YAML extension does for every http(s) schema: it
registers as the fetcher of schema content (`yaml/registerContentRequest`) and answers the server's
`vscode/content` request for exactly that URL with the file `gce-values schema build` generated
(chart/globus-compute-endpoint/conf.schema.json). Any other URL is answered with an error.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from gce_values.schema import editor as editor_schema
from support.cli import run
from support.paths import CHART_DIR, REPO_ROOT, SEED_TEXT

CONF_SCHEMA = CHART_DIR / "conf.schema.json"
DEFAULT_SERVER = REPO_ROOT / ".tools" / "npm" / "node_modules" / ".bin" / "yaml-language-server"
SCHEMA_URL = editor_schema.url()
MODELINE = f"# yaml-language-server: $schema={SCHEMA_URL}\n"
# The seed conf: the blog post's five keys, as a user writes them.
SEED_CONF = SEED_TEXT
WAIT = 30.0


def _server_path() -> Path:
    value = os.environ.get("YAML_LANGUAGE_SERVER")
    path = Path(value) if value else DEFAULT_SERVER
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"yaml-language-server not found at {path}: run `make setup` (npm ci)", pytrace=False)
    return path


class LanguageServer:
    """A yaml-language-server process and the client end of its JSON-RPC connection."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.incoming: queue.Queue[dict[str, Any]] = queue.Queue()
        self.content_requests: list[str] = []
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.diagnostics_seen = threading.Condition()
        self.settings: dict[str, Any] = {"validate": True, "schemaStore": {"enable": False}}
        self._next_id = 0
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if message.get("method") == "textDocument/publishDiagnostics":
                with self.diagnostics_seen:
                    self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
                    self.diagnostics_seen.notify_all()
            elif "method" in message and "id" in message:
                self._answer(message)
            else:
                self.incoming.put(message)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _answer(self, request: dict[str, Any]) -> None:
        """What an editor answers the server: settings, schema content, and nothing for the rest."""
        method, params = request["method"], request.get("params") or {}
        if method == "vscode/content":
            requested = str(params[0] if isinstance(params, list) else params)  # the server sends [url]
            self.content_requests.append(requested)
            if requested == SCHEMA_URL:
                self._send({"id": request["id"], "result": CONF_SCHEMA.read_text(encoding="utf-8")})
            else:
                self._send({"id": request["id"], "error": {"code": -32603, "message": f"no network: {requested}"}})
        elif method == "workspace/configuration":
            items = params["items"]
            self._send(
                {"id": request["id"], "result": [self.settings if i.get("section") == "yaml" else None for i in items]}
            )
        else:
            self._send({"id": request["id"], "result": None})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self._next_id += 1
        self._send({"id": self._next_id, "method": method, "params": params})
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            message = self.incoming.get(timeout=WAIT)
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                return message.get("result")
        raise TimeoutError(method)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def diagnose(self, path: Path) -> list[dict[str, Any]]:
        """Open ``path`` as an editor does and return the diagnostics the server settles on."""
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        self.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}
        )
        with self.diagnostics_seen:
            assert self.diagnostics_seen.wait_for(lambda: uri in self.diagnostics, timeout=WAIT), "no diagnostics sent"
        # The first answer can come before the schema is loaded; wait until the answer stops changing.
        last, settled_at = self.diagnostics[uri], time.monotonic()
        while time.monotonic() - settled_at < 1.5:
            time.sleep(0.1)
            if self.diagnostics[uri] != last:
                last, settled_at = self.diagnostics[uri], time.monotonic()
        return last

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanguageServer]:
    root = tmp_path_factory.mktemp("editor")
    lsp = LanguageServer([str(_server_path()), "--stdio"], root)
    try:
        lsp.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {"workspace": {"configuration": True}, "textDocument": {"publishDiagnostics": {}}},
            },
        )
        lsp.notify("initialized", {})
        lsp.notify("yaml/registerContentRequest", {})
        lsp.notify("workspace/didChangeConfiguration", {"settings": {"yaml": lsp.settings}})
        yield lsp
    finally:
        lsp.close()


def _conf(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(MODELINE + body, encoding="utf-8")
    return path


def _lines(diagnostics: list[dict[str, Any]]) -> list[int]:
    """The 1-based lines the diagnostics point at."""
    return [d["range"]["start"]["line"] + 1 for d in diagnostics]


def test_the_seed_five_key_conf_has_no_diagnostic(server: LanguageServer, tmp_path: Path) -> None:
    diagnostics = server.diagnose(_conf(tmp_path, "seed.yaml", SEED_CONF))
    assert diagnostics == []
    assert SCHEMA_URL in server.content_requests, "the server used the schema the modeline names"


def test_a_typo_in_a_key_is_one_diagnostic_at_its_line(server: LanguageServer, tmp_path: Path) -> None:
    conf = _conf(tmp_path, "typo.yaml", SEED_CONF.replace("minBlocks: 0", "minBlock: 0"))
    diagnostics = server.diagnose(conf)
    assert _lines(diagnostics) == [6], diagnostics  # line 1 is the modeline
    assert "minBlock" in diagnostics[0]["message"]


def test_a_malformed_uuid_is_one_diagnostic_at_its_line(server: LanguageServer, tmp_path: Path) -> None:
    conf = _conf(tmp_path, "uuid.yaml", SEED_CONF.replace("7d3e9b21-5c4a", "7d3e9b21-5c4"))
    diagnostics = server.diagnose(conf)
    assert _lines(diagnostics) == [3], diagnostics


def test_a_conf_without_its_endpoint_uuid_is_flagged(server: LanguageServer, tmp_path: Path) -> None:
    body = "".join(line + "\n" for line in SEED_CONF.splitlines() if not line.startswith("endpointUUID"))
    diagnostics = server.diagnose(_conf(tmp_path, "no-uuid.yaml", body))
    assert len(diagnostics) == 1
    assert "endpointUUID" in diagnostics[0]["message"]


@pytest.mark.parametrize("command", ["init", "migrate"])
def test_confs_that_init_and_migrate_write_name_the_schema_and_pass_it(
    server: LanguageServer, tmp_path: Path, command: str
) -> None:
    conf = tmp_path / f"{command}.yaml"
    if command == "init":
        ran = run("init", "-o", str(conf), "--instance", "atlas", "--secret", "globus-compute-creds")
    else:
        old = tmp_path / "old.yaml"
        old.write_text(SEED_CONF + "replicaCount: 1\nendpointCLIargs: --log-to-console\n", encoding="utf-8")
        ran = run("migrate", str(old), "-o", str(conf))
    assert ran.code == 0, ran.output
    assert conf.read_text(encoding="utf-8").startswith(MODELINE)
    assert server.diagnose(conf) == []


def test_the_schema_url_is_versioned_and_names_the_file_the_catalog_export_ships(tmp_path: Path) -> None:
    import sys

    import yaml

    version = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["version"])
    assert f"/globus-compute-endpoint-{version}/" in SCHEMA_URL, "the release tag of this chart version"
    export = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "export_slate_catalog.py"), str(CHART_DIR), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    in_catalog = tmp_path / SCHEMA_URL.split(f"globus-compute-endpoint-{version}/", 1)[1]
    assert in_catalog.read_bytes() == CONF_SCHEMA.read_bytes()


def test_the_conf_schema_requires_only_what_a_user_must_set() -> None:
    document = json.loads(CONF_SCHEMA.read_text(encoding="utf-8"))
    helm = json.loads((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    assert document["required"] == ["endpointUUID", "secrets"]
    assert len(helm["required"]) > 30, "Helm's schema, for the merged values, still requires every key"
    assert set(document["properties"]) == set(helm["properties"])
    assert document["additionalProperties"] is False
