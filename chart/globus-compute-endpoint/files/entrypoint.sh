#!/bin/sh
# Entrypoint of the globus-compute-endpoint pod.
#
# It ships in the chart (mounted from the ConfigMap) rather than in the image, so that any image with
# globus-compute-endpoint installed works, and a fix reaches users with a chart upgrade alone.
#
#   entrypoint.sh start        lay out the endpoint directory, map credentials, exec the endpoint
#   entrypoint.sh probe live   succeed while the endpoint runs (it refreshes its PID file every 15 s)
#   entrypoint.sh probe ready  succeed once the endpoint has also registered with Globus Compute
#
# Environment (the chart sets it):
#   GCE_ENDPOINT_NAME       the endpoint's directory name
#   GCE_ENDPOINT_UUID       the endpoint's UUID (endpointUUID)
#   GCE_CREDENTIALS_MODE    client (a client ID and secret) or user (saved tokens in storage.db)
#   GCE_CONFIG_DIR          where the ConfigMap's endpoint files are mounted
#   GCE_CREDENTIALS_DIR     where the credentials secret is mounted (one file per key)
#   GLOBUS_COMPUTE_USER_DIR the writable directory the endpoint keeps its state in
#   GCE_DEBUG               1 to start the endpoint with --debug
#   GCE_DRY_RUN             1 to do everything except starting the endpoint, and print its command
#
# Exit codes: 64 bad usage, 77 running as root, 78 missing or invalid configuration or credentials.
set -eu

EX_USAGE=64
EX_NOPERM=77
EX_CONFIG=78
UUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

die() {
    code=$1
    shift
    echo "gce-entrypoint: error: $*" >&2
    exit "$code"
}

log() {
    echo "gce-entrypoint: $*" >&2
}

require_env() {
    for name in "$@"; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || die "$EX_CONFIG" "$name is not set; the chart sets it (is this pod from the chart?)"
    done
}

is_uuid() {
    printf '%s' "$1" | grep -Eq "$UUID_RE"
}

# Print the first non-empty credential file among the names given; fail if there is none.
read_credential() {
    for key in "$@"; do
        file="$GCE_CREDENTIALS_DIR/$key"
        if [ -f "$file" ]; then
            value=$(cat "$file")
            if [ -n "$value" ]; then
                printf '%s' "$value"
                return 0
            fi
        fi
    done
    return 1
}

present_keys() {
    if [ -d "$GCE_CREDENTIALS_DIR" ]; then
        keys=$(cd "$GCE_CREDENTIALS_DIR" && ls -1 2>/dev/null | grep -v '^\.\.' | tr '\n' ' ')
    else
        keys=""
    fi
    printf '%s' "${keys:-none}"
}

map_client_credentials() {
    wanted="GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET (or FUNCX_SDK_CLIENT_ID and FUNCX_SDK_CLIENT_SECRET)"
    hint="create it with: slate secret create NAME --group GROUP --cluster CLUSTER --from-env-file client_creds.env"
    if ! client_id=$(read_credential GLOBUS_COMPUTE_CLIENT_ID FUNCX_SDK_CLIENT_ID); then
        die "$EX_CONFIG" "no client ID in the credentials secret (looked for $wanted in $GCE_CREDENTIALS_DIR; found keys: $(present_keys)); $hint"
    fi
    if ! client_secret=$(read_credential GLOBUS_COMPUTE_CLIENT_SECRET FUNCX_SDK_CLIENT_SECRET); then
        die "$EX_CONFIG" "no client secret in the credentials secret (looked for $wanted in $GCE_CREDENTIALS_DIR; found keys: $(present_keys)); $hint"
    fi
    is_uuid "$client_id" || die "$EX_CONFIG" "the client ID in the credentials secret is not a UUID"
    if [ "$(printf '%s' "$client_id" | tr 'A-F' 'a-f')" = "$(printf '%s' "$GCE_ENDPOINT_UUID" | tr 'A-F' 'a-f')" ]; then
        die "$EX_CONFIG" "endpointUUID equals the client ID; the endpoint needs a UUID of its own (gce-values init makes one)"
    fi
    GLOBUS_COMPUTE_CLIENT_ID=$client_id
    GLOBUS_COMPUTE_CLIENT_SECRET=$client_secret
    export GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET
    unset FUNCX_SDK_CLIENT_ID FUNCX_SDK_CLIENT_SECRET 2>/dev/null || true
    log "using client credentials for client $client_id"
}

map_user_credentials() {
    source_db="$GCE_CREDENTIALS_DIR/storage.db"
    [ -s "$source_db" ] || die "$EX_CONFIG" "no storage.db in the credentials secret (looked in $GCE_CREDENTIALS_DIR; found keys: $(present_keys)); create it with: slate secret create NAME --group GROUP --cluster CLUSTER --from-file storage.db=\$HOME/.globus_compute/storage.db"
    cp "$source_db" "$GLOBUS_COMPUTE_USER_DIR/storage.db"
    chmod 600 "$GLOBUS_COMPUTE_USER_DIR/storage.db"
    unset GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET 2>/dev/null || true
    log "using saved user tokens (storage.db)"
}

lay_out_endpoint_dir() {
    ep_dir="$GLOBUS_COMPUTE_USER_DIR/$GCE_ENDPOINT_NAME"
    mkdir -p "$ep_dir"
    for file in config.yaml user_config_template.yaml.j2; do
        [ -f "$GCE_CONFIG_DIR/$file" ] || die "$EX_CONFIG" "$GCE_CONFIG_DIR/$file is missing; the chart's ConfigMap provides it"
        cp "$GCE_CONFIG_DIR/$file" "$ep_dir/$file"
    done
    for file in user_config_schema.json user_environment.yaml; do
        if [ -f "$GCE_CONFIG_DIR/$file" ]; then
            cp "$GCE_CONFIG_DIR/$file" "$ep_dir/$file"
        else
            rm -f "$ep_dir/$file"
        fi
    done
    # State of an earlier run of this container (same pod, same emptyDir): no endpoint runs now,
    # and a fresh-looking PID file would make the endpoint refuse to start.
    rm -f "$ep_dir/daemon.pid" "$ep_dir/endpoint.json"
}

start() {
    [ "$(id -u)" != 0 ] || die "$EX_NOPERM" "refusing to run as root: a root endpoint becomes a multi-user endpoint that demands an email and clears its workers' environment; run as a non-root user (podSecurity.runAsUser)"
    require_env GCE_ENDPOINT_NAME GCE_ENDPOINT_UUID GCE_CREDENTIALS_MODE GCE_CONFIG_DIR GCE_CREDENTIALS_DIR GLOBUS_COMPUTE_USER_DIR
    is_uuid "$GCE_ENDPOINT_UUID" || die "$EX_CONFIG" "endpointUUID '$GCE_ENDPOINT_UUID' is not a UUID"
    umask 077
    mkdir -p "$GLOBUS_COMPUTE_USER_DIR"
    case "$GCE_CREDENTIALS_MODE" in
        client) map_client_credentials ;;
        user) map_user_credentials ;;
        *) die "$EX_CONFIG" "GCE_CREDENTIALS_MODE must be client or user, not '$GCE_CREDENTIALS_MODE'" ;;
    esac
    lay_out_endpoint_dir
    set -- globus-compute-endpoint start "$GCE_ENDPOINT_NAME" --endpoint-uuid "$GCE_ENDPOINT_UUID" --log-to-console
    if [ "${GCE_DEBUG:-0}" = 1 ]; then
        set -- "$@" --debug
    fi
    if [ "${GCE_DRY_RUN:-0}" = 1 ]; then
        echo "$*"
        exit 0
    fi
    log "starting endpoint $GCE_ENDPOINT_NAME ($GCE_ENDPOINT_UUID)"
    exec "$@"
}

probe() {
    require_env GCE_ENDPOINT_NAME GLOBUS_COMPUTE_USER_DIR
    ep_dir="$GLOBUS_COMPUTE_USER_DIR/$GCE_ENDPOINT_NAME"
    pid_file="$ep_dir/daemon.pid"
    [ -f "$pid_file" ] || die 1 "the endpoint has not started (no $pid_file)"
    age=$(($(date +%s) - $(stat -c %Y "$pid_file")))
    [ "$age" -le "${GCE_PID_STALE_SECONDS:-90}" ] || die 1 "the endpoint stopped refreshing $pid_file ${age}s ago"
    case "$1" in
        live) ;;
        ready) [ -s "$ep_dir/endpoint.json" ] || die 1 "the endpoint has not registered yet" ;;
        *) die "$EX_USAGE" "usage: entrypoint.sh probe live|ready" ;;
    esac
}

case "${1:-}" in
    start) start ;;
    probe) probe "${2:-}" ;;
    *) die "$EX_USAGE" "usage: entrypoint.sh start | probe live|ready" ;;
esac
