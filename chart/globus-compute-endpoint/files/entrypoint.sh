#!/bin/sh
# Entrypoint of the globus-compute-endpoint pod.
#
# It ships in the chart (mounted from the ConfigMap) rather than in the image, so that any image with
# globus-compute-endpoint installed works, and a fix reaches users with a chart upgrade alone
# (images/endpoint/README.md explains the choice).
#
#   entrypoint.sh start        check the pod's setup, lay out the endpoint directory, map the credentials,
#                              start relaying the engine's log to this container's output, then exec
#                              `globus-compute-endpoint start NAME --endpoint-uuid UUID --log-to-console`,
#                              so that the endpoint itself receives the pod's signals
#   entrypoint.sh probe live   succeed while the endpoint runs (it refreshes its PID file every 15 s)
#                              and the relay of its engine's log to this container's output runs
#   entrypoint.sh probe ready  succeed once the endpoint has also registered with Globus Compute
#
# Environment (the chart sets the first seven):
#   GCE_ENDPOINT_NAME       the endpoint's directory name: [a-zA-Z0-9][a-zA-Z0-9_-]*
#   GCE_ENDPOINT_UUID       the endpoint's UUID (endpointUUID)
#   GCE_CREDENTIALS_MODE    client (a client ID and secret) or user (saved tokens in storage.db)
#   GCE_CONFIG_DIR          where the ConfigMap's endpoint files are mounted
#   GCE_CREDENTIALS_DIR     where the credentials secret is mounted (one file per key)
#   GLOBUS_COMPUTE_USER_DIR the writable directory the endpoint keeps its state in
#   GCE_DEBUG               1 to start the endpoint with --debug
#   GCE_DRY_RUN             1 to do everything except starting the endpoint; instead print the command
#                           it would exec, then the names (never the values) of the credential variables
#                           it would pass on: "exported credential variables: NAME NAME" (or "none")
#   GCE_PID_STALE_SECONDS   probes: a PID file older than this means a hung endpoint (default 90)
#
# Credentials: the secret's keys GLOBUS_COMPUTE_CLIENT_ID / GLOBUS_COMPUTE_CLIENT_SECRET, or their old
# spelling FUNCX_SDK_CLIENT_ID / FUNCX_SDK_CLIENT_SECRET (which the endpoint ignores since 4.6.0, and
# then waits at an interactive login prompt forever), are exported as GLOBUS_COMPUTE_CLIENT_*.
# Secret values are never printed.
#
# Exit codes: 0 done (dry run, probe passed), 1 probe failed, 64 bad usage, 73 cannot create the
# endpoint's state directory, 77 running as root or with Linux capabilities, 78 missing or invalid
# configuration or credentials.
set -eu

EX_USAGE=64
EX_CANTCREAT=73
EX_NOPERM=77
EX_CONFIG=78
USAGE="usage: entrypoint.sh start | entrypoint.sh probe live|ready"
# The chart's settings; require_env reports the missing ones where they are needed.
GCE_ENDPOINT_NAME=${GCE_ENDPOINT_NAME:-}
GCE_ENDPOINT_UUID=${GCE_ENDPOINT_UUID:-}
GCE_CREDENTIALS_MODE=${GCE_CREDENTIALS_MODE:-}
GCE_CONFIG_DIR=${GCE_CONFIG_DIR:-}
GCE_CREDENTIALS_DIR=${GCE_CREDENTIALS_DIR:-}
GLOBUS_COMPUTE_USER_DIR=${GLOBUS_COMPUTE_USER_DIR:-}
uid=$(id -u)
SECRET_HINT="create the secret from an env file with one KEY=value line each: slate secret create NAME --group GROUP --cluster CLUSTER --from-env-file client_creds.env (or kubectl create secret generic NAME --from-env-file client_creds.env)"

die() {
    code=$1
    shift
    printf 'gce-entrypoint: error: %s\n' "$*" >&2
    exit "${code}"
}

log() {
    printf 'gce-entrypoint: %s\n' "$*" >&2
}

require_env() {
    for name in "$@"; do
        eval "value=\${${name}:-}"
        [ -n "${value}" ] || die "${EX_CONFIG}" "${name} is not set; the chart sets it (is this pod from the chart?)"
    done
}

# A UUID in its canonical 8-4-4-4-12 form. A pattern match, so that a value with a newline never passes.
is_uuid() {
    case $1 in
        *[!0-9a-fA-F-]* | *-*-*-*-*-*) return 1 ;;
        ????????-????-????-????-????????????) return 0 ;;
        *) return 1 ;;
    esac
}

# A value for a one-line message: anything unprintable (a newline, say) shown as ?.
printable() {
    printf '%s' "$1" | tr -c '[:print:]' '?'
}

lowercase() {
    printf '%s' "$1" | tr 'A-F' 'a-f'
}

# Strip leading and trailing whitespace (a secret file written with echo, or with Windows line ends).
trim() {
    text=$1
    text=${text#"${text%%[![:space:]]*}"}
    text=${text%"${text##*[![:space:]]}"}
    printf '%s' "${text}"
}

# The secret's keys as a readable list; the glob skips Kubernetes' own ..data entries.
present_keys() {
    keys=""
    for path in "${GCE_CREDENTIALS_DIR}"/*; do
        [ -e "${path}" ] || continue
        keys="${keys:+${keys}, }${path##*/}"
    done
    printf '%s' "${keys:-none}"
}

# Set found_key and found_value from the first of the named secret keys with a non-empty value; both
# stay empty when there is none. Called outside conditions, so that set -e still applies inside.
find_credential() {
    found_key=""
    found_value=""
    for key in "$@"; do
        file="${GCE_CREDENTIALS_DIR}/${key}"
        [ -f "${file}" ] || continue
        [ -r "${file}" ] || die "${EX_CONFIG}" "${file} is not readable by user ${uid}; the chart mounts the secret readable by the pod's group (podSecurity.runAsGroup)"
        content=$(cat "${file}")
        found_value=$(trim "${content}")
        if [ -n "${found_value}" ]; then
            found_key=${key}
            return 0
        fi
    done
}

# Why no client ID was found, with the fix: a secret made from the env file as one file key is common.
die_missing_client_credential() {
    what=$1
    for path in "${GCE_CREDENTIALS_DIR}"/*.env; do
        [ -f "${path}" ] || continue
        die "${EX_CONFIG}" "no ${what} in the credentials secret, but it has a key '${path##*/}': the secret was created from the env file as one file (--from-file); recreate it with --from-env-file ${path##*/}, so that each KEY=value line becomes a key of its own"
    done
    keys=$(present_keys)
    die "${EX_CONFIG}" "no ${what} in the credentials secret (looked for $2 in ${GCE_CREDENTIALS_DIR}; found keys: ${keys}); ${SECRET_HINT}"
}

map_client_credentials() {
    find_credential GLOBUS_COMPUTE_CLIENT_ID FUNCX_SDK_CLIENT_ID
    [ -n "${found_key}" ] || die_missing_client_credential "client ID" "GLOBUS_COMPUTE_CLIENT_ID or FUNCX_SDK_CLIENT_ID"
    client_id=${found_value}
    id_key=${found_key}
    find_credential GLOBUS_COMPUTE_CLIENT_SECRET FUNCX_SDK_CLIENT_SECRET
    [ -n "${found_key}" ] || die_missing_client_credential "client secret" "GLOBUS_COMPUTE_CLIENT_SECRET or FUNCX_SDK_CLIENT_SECRET"
    client_secret=${found_value}
    secret_key=${found_key}
    # The value is not shown: a client ID that is not a UUID is often the secret, pasted in its place.
    is_uuid "${client_id}" || die "${EX_CONFIG}" "the client ID in the credentials secret (key ${id_key}) is not a UUID; a Globus client ID looks like 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d (were the ID and the secret swapped?)"
    id_lowercase=$(lowercase "${client_id}")
    uuid_lowercase=$(lowercase "${GCE_ENDPOINT_UUID}")
    if [ "${id_lowercase}" = "${uuid_lowercase}" ]; then
        die "${EX_CONFIG}" "endpointUUID equals the client ID; the endpoint needs a UUID of its own (gce-values init makes one)"
    fi
    GLOBUS_COMPUTE_CLIENT_ID=${client_id}
    GLOBUS_COMPUTE_CLIENT_SECRET=${client_secret}
    export GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET
    unset FUNCX_SDK_CLIENT_ID FUNCX_SDK_CLIENT_SECRET
    log "using client credentials for client ${client_id} (secret keys ${id_key} and ${secret_key})"
}

map_user_credentials() {
    source_db="${GCE_CREDENTIALS_DIR}/storage.db"
    target_db="${GLOBUS_COMPUTE_USER_DIR}/storage.db"
    keys=$(present_keys)
    [ -s "${source_db}" ] || die "${EX_CONFIG}" "no storage.db in the credentials secret (looked in ${GCE_CREDENTIALS_DIR}; found keys: ${keys}); create it with: slate secret create NAME --group GROUP --cluster CLUSTER --from-file storage.db=\$HOME/.globus_compute/storage.db"
    [ -r "${source_db}" ] || die "${EX_CONFIG}" "${source_db} is not readable by user ${uid}; the chart mounts the secret readable by the pod's group (podSecurity.runAsGroup)"
    magic=$(head -c 15 "${source_db}")
    [ "${magic}" = "SQLite format 3" ] || die "${EX_CONFIG}" "storage.db in the credentials secret is not an SQLite database; copy it from ~/.globus_compute/storage.db on a machine where you ran the endpoint and logged in"
    # A fresh copy (umask 077), never one an earlier run of this container left with another mode;
    # writable, as the endpoint saves refreshed tokens in it.
    rm -f "${target_db}"
    cp "${source_db}" "${target_db}"
    chmod 600 "${target_db}"
    unset GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET FUNCX_SDK_CLIENT_ID FUNCX_SDK_CLIENT_SECRET
    log "using saved user tokens (storage.db)"
}

check_config_files() {
    for file in config.yaml user_config_template.yaml.j2; do
        [ -f "${GCE_CONFIG_DIR}/${file}" ] || die "${EX_CONFIG}" "${GCE_CONFIG_DIR}/${file} is missing; the chart's ConfigMap provides it"
    done
}

lay_out_endpoint_dir() {
    ep_dir="${GLOBUS_COMPUTE_USER_DIR}/${GCE_ENDPOINT_NAME}"
    mkdir -p "${ep_dir}"
    # Private even when an earlier run (of an older chart) left it with a looser mode.
    chmod 700 "${ep_dir}"
    # Fresh copies (umask 077: private), so no mode an earlier run left behind survives.
    for file in config.yaml user_config_template.yaml.j2 user_config_schema.json user_environment.yaml; do
        rm -f "${ep_dir}/${file}"
        if [ -f "${GCE_CONFIG_DIR}/${file}" ]; then
            cp "${GCE_CONFIG_DIR}/${file}" "${ep_dir}/${file}"
        fi
    done
    # State of an earlier run of this container (same pod, same emptyDir): no endpoint runs now, and a
    # fresh-looking PID file would make the endpoint refuse to start. The endpoint would also prefer a
    # config.py to the chart's config.yaml.
    rm -f "${ep_dir}/daemon.pid" "${ep_dir}/endpoint.json" "${ep_dir}/config.py"
}

# Fail now, with the fix, where the endpoint would fail later and obscurely.
check_user() {
    [ "${uid}" != 0 ] || die "${EX_NOPERM}" "refusing to run as root: a root endpoint becomes a multi-user endpoint that demands an email and clears its workers' environment; run as a non-root user (podSecurity.runAsUser)"
    id -un >/dev/null 2>&1 || die "${EX_CONFIG}" "user ID ${uid} has no entry in the image's /etc/passwd, which the endpoint needs; set podSecurity.runAsUser to the image's user (1000 in this project's image)"
    capabilities=""
    if [ -r /proc/self/status ]; then
        while read -r field rest; do
            if [ "${field}" = "CapEff:" ]; then
                capabilities=${rest}
                break
            fi
        done </proc/self/status
    fi
    case ${capabilities} in
        *[!0]*) die "${EX_NOPERM}" "refusing to run with Linux capabilities (effective set ${capabilities}): the endpoint would treat itself as a privileged multi-user endpoint; drop them (securityContext.capabilities.drop: [ALL], as the chart does)" ;;
        *) ;;
    esac
}

check_endpoint_name() {
    case ${GCE_ENDPOINT_NAME} in
        [!a-zA-Z0-9]* | *[!a-zA-Z0-9_-]*)
            shown=$(printable "${GCE_ENDPOINT_NAME}")
            die "${EX_CONFIG}" "endpoint name '${shown}' is not valid: use letters, digits, _ and -, starting with a letter or digit (endpoint.name)"
            ;;
        *) ;;
    esac
}

# The endpoint runs its engine (which starts the worker pods) in a child process whose output and log
# go to a file (GLOBUS_COMPUTE_LOG_PATH), where kubectl logs never shows them. Make that file a FIFO
# whose lines a relay copies to this container's output: a refused pod create or an image that does
# not pull then shows in `kubectl logs` / `slate instance logs`, and nothing grows in the emptyDir.
#
# Nothing that writes the log may ever wait on the relay:
# - this shell keeps the FIFO open for reading and writing on descriptor LOG_RELAY_FD, and the endpoint
#   it execs inherits it, so opening the log always finds a reader (an open never blocks) and writing
#   it never meets a closed pipe, whatever became of the relay;
# - the relay is a loop that starts `cat` again when it is killed, within a second, reading from where
#   the last one stopped (nothing is lost: unread lines wait in the FIFO); it ends when cat reaches the
#   end of the FIFO, which is when the endpoint and every process that had the log open have exited,
#   so the last lines are out before it stops. It ignores SIGTERM, SIGINT and SIGHUP, which are for the
#   endpoint: a signal to the whole process group must not stop it before the endpoint's last lines.
# - a relay that keeps failing (cat dies at once, five times in a row) gives up and says so, and the
#   liveness probe, which checks the relay's process, then fails: the kubelet restarts the container.
# - in the pod's own PID namespace the kernel stops the relay when PID 1 (the image's dumb-init, which
#   exits with the endpoint) exits; the chart's sitecustomize.py therefore makes a Python process holding LOG_RELAY_FD wait, at its exit,
#   until the relay has copied what is left in the FIFO.
LOG_RELAY_FD=3
relay_engine_log() {
    fifo="${GLOBUS_COMPUTE_USER_DIR}/engine-log.fifo"
    rm -f "${fifo}" "${GLOBUS_COMPUTE_USER_DIR}/log-relay.pid"
    mkfifo -m 600 "${fifo}"
    exec 3<>"${fifo}"
    endpoint_pid=$$
    (
        exec 3>&-
        trap '' TERM INT HUP
        failures=0
        while :; do
            started=$(date +%s)
            if cat <"${fifo}"; then
                exit 0
            fi
            kill -0 "${endpoint_pid}" 2>/dev/null || exit 0
            ended=$(date +%s)
            if [ "${ended}" -le "$((started + 1))" ]; then
                failures=$((failures + 1))
            else
                failures=0
            fi
            if [ "${failures}" -ge 5 ]; then
                log "error: the engine log relay keeps failing; the engine's log no longer reaches this output"
                exit 1
            fi
            log "the engine log relay stopped; restarting it"
            sleep 1
        done
    ) &
    printf '%s\n' "$!" >"${GLOBUS_COMPUTE_USER_DIR}/log-relay.pid"
    GLOBUS_COMPUTE_LOG_PATH=${fifo}
    GCE_LOG_RELAY_FD=${LOG_RELAY_FD}
    export GLOBUS_COMPUTE_LOG_PATH GCE_LOG_RELAY_FD
}

# Succeed while the relay of the engine's log runs (when the entrypoint started one). A relay that
# exited is a zombie of the endpoint, which never reaps it: read its state, not just its existence.
check_log_relay() {
    relay_pid_file="${GLOBUS_COMPUTE_USER_DIR}/log-relay.pid"
    [ -f "${relay_pid_file}" ] || return 0
    read -r relay_pid <"${relay_pid_file}" || relay_pid=""
    relay_state=""
    if [ -n "${relay_pid}" ] && [ -r "/proc/${relay_pid}/stat" ]; then
        read -r _ _ relay_state _ <"/proc/${relay_pid}/stat" || relay_state=""
    fi
    case ${relay_state} in
        '' | Z | X) die 1 "the engine log relay (pid ${relay_pid:-unknown}) has stopped: the engine's log no longer reaches the container's output" ;;
        *) ;;
    esac
}

print_exported_credential_variables() {
    names=""
    for name in GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET FUNCX_SDK_CLIENT_ID FUNCX_SDK_CLIENT_SECRET; do
        # printenv is a child process: it sees exactly what the endpoint would inherit.
        if printenv "${name}" >/dev/null; then
            names="${names} ${name}"
        fi
    done
    printf 'exported credential variables:%s\n' "${names:- none}"
}

start() {
    [ $# -eq 0 ] || die "${EX_USAGE}" "start takes no arguments; ${USAGE}"
    check_user
    require_env GCE_ENDPOINT_NAME GCE_ENDPOINT_UUID GCE_CREDENTIALS_MODE GCE_CONFIG_DIR GCE_CREDENTIALS_DIR GLOBUS_COMPUTE_USER_DIR
    check_endpoint_name
    case ${GCE_CREDENTIALS_MODE} in
        client | user) ;;
        *)
            shown=$(printable "${GCE_CREDENTIALS_MODE}")
            die "${EX_CONFIG}" "GCE_CREDENTIALS_MODE must be client or user, not '${shown}'"
            ;;
    esac
    if ! is_uuid "${GCE_ENDPOINT_UUID}"; then
        shown=$(printable "${GCE_ENDPOINT_UUID}")
        die "${EX_CONFIG}" "endpointUUID '${shown}' is not a UUID; make one with gce-values init or: python3 -c 'import uuid; print(uuid.uuid4())'"
    fi
    endpoint_command=$(command -v globus-compute-endpoint) || die "${EX_CONFIG}" "globus-compute-endpoint is not installed in this image (not found on PATH ${PATH}); use an image that has it (image.repository, image.tag)"
    check_config_files
    umask 077
    mkdir -p "${GLOBUS_COMPUTE_USER_DIR}" 2>/dev/null && [ -w "${GLOBUS_COMPUTE_USER_DIR}" ] \
        || die "${EX_CANTCREAT}" "cannot write the endpoint's state directory ${GLOBUS_COMPUTE_USER_DIR} as user ${uid}; it must be on a writable volume (the chart mounts an emptyDir at \$HOME)"
    if [ "${GCE_CREDENTIALS_MODE}" = client ]; then
        map_client_credentials
    else
        map_user_credentials
    fi
    lay_out_endpoint_dir
    set -- globus-compute-endpoint start "${GCE_ENDPOINT_NAME}" --endpoint-uuid "${GCE_ENDPOINT_UUID}" --log-to-console
    if [ "${GCE_DEBUG:-0}" = 1 ]; then
        set -- "$@" --debug
    fi
    if [ "${GCE_DRY_RUN:-0}" = 1 ]; then
        log "dry run: not starting ${endpoint_command}"
        printf '%s\n' "$*"
        print_exported_credential_variables
        exit 0
    fi
    relay_engine_log
    log "starting endpoint ${GCE_ENDPOINT_NAME} (${GCE_ENDPOINT_UUID}) with ${endpoint_command}"
    exec "$@"
}

probe() {
    [ $# -eq 1 ] || die "${EX_USAGE}" "${USAGE}"
    case $1 in
        live | ready) ;;
        *) die "${EX_USAGE}" "${USAGE}" ;;
    esac
    require_env GCE_ENDPOINT_NAME GLOBUS_COMPUTE_USER_DIR
    stale_after=${GCE_PID_STALE_SECONDS:-90}
    case ${stale_after} in
        '' | *[!0-9]*)
            shown=$(printable "${stale_after}")
            die "${EX_CONFIG}" "GCE_PID_STALE_SECONDS must be a whole number of seconds, not '${shown}'"
            ;;
        *) ;;
    esac
    ep_dir="${GLOBUS_COMPUTE_USER_DIR}/${GCE_ENDPOINT_NAME}"
    pid_file="${ep_dir}/daemon.pid"
    [ -f "${pid_file}" ] || die 1 "the endpoint has not started (no ${pid_file})"
    now=$(date +%s)
    modified=$(stat -c %Y "${pid_file}")
    age=$((now - modified))
    [ "${age}" -le "${stale_after}" ] || die 1 "the endpoint stopped refreshing ${pid_file} ${age}s ago (it does every 15 s while it runs)"
    check_log_relay
    if [ "$1" = ready ]; then
        [ -s "${ep_dir}/endpoint.json" ] || die 1 "the endpoint has not registered with Globus Compute yet (no ${ep_dir}/endpoint.json)"
    fi
}

command_name=${1:-}
[ $# -eq 0 ] || shift
case ${command_name} in
    start) start "$@" ;;
    probe) probe "$@" ;;
    *) die "${EX_USAGE}" "${USAGE}" ;;
esac
