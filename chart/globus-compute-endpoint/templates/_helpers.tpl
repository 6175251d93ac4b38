{{/*
Names and labels. Every object name derives from the release name, so two instances in one
namespace never collide (on SLATE the release is globus-compute-endpoint-<Instance>).
*/}}
{{- define "gce.fullname" -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end }}

{{- define "gce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Labels on every object: Kubernetes' recommended ones plus SLATE's app/chart/release/instance. */}}
{{- define "gce.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "gce.chart" . }}
app: {{ .Chart.Name }}
chart: {{ include "gce.chart" . }}
release: {{ .Release.Name }}
instance: {{ include "gce.scalarString" .Values.Instance | quote }}
{{- end }}

{{/* Labels on workloads and their pods: the above plus SLATE's instanceID. */}}
{{- define "gce.workloadLabels" -}}
{{ include "gce.labels" . }}
instanceID: {{ (.Values.SLATE | default dict).Instance | default dict | dig "ID" "untagged" | toString | quote }}
{{- end }}

{{/* What the Deployment selects its pod by; never changes across upgrades. */}}
{{- define "gce.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: endpoint
release: {{ .Release.Name }}
{{- end }}

{{- define "gce.image" -}}
{{- with .Values.image.digest -}}
{{- printf "%s@%s" ($.Values.image.repository | toString) (toString .) -}}
{{- else -}}
{{- $tag := include "gce.scalarString" (.Values.image.tag | default .Chart.AppVersion) -}}
{{- printf "%s:%s" (.Values.image.repository | toString) $tag -}}
{{- end -}}
{{- end }}

{{- define "gce.workerImage" -}}
{{- .Values.workerImage | default (include "gce.image" .) | toString -}}
{{- end }}

{{- define "gce.workerNamespace" -}}
{{- .Values.workerNamespace | default .Release.Namespace | toString -}}
{{- end }}

{{- define "gce.serviceAccountName" -}}
{{- if .Values.rbacEnabled -}}
{{- include "gce.fullname" . -}}
{{- else -}}
{{- .Values.serviceAccountName | toString -}}
{{- end -}}
{{- end }}

{{/* Prefix of worker pod names; Parsl appends ".<job id>". */}}
{{- define "gce.workerPodPrefix" -}}
{{- printf "%s-worker" (include "gce.fullname" .) -}}
{{- end }}

{{/* The ConfigMap in the worker namespace that owns the worker pods and their key Secret. */}}
{{- define "gce.workerOwner" -}}
{{- printf "%s-workers" (include "gce.fullname" .) -}}
{{- end }}

{{/*
The ports on which the engines' interchanges take worker connections, first to last: each engine
(one per user endpoint process, several may run at once) binds one of them at random. Pinned so that
the endpoint's NetworkPolicy can name them; Parsl's own default is any of 54000-54999.
*/}}
{{- define "gce.workerPortFirst" -}}54000{{- end }}
{{- define "gce.workerPortLast" -}}54063{{- end }}

{{/*
The TCP ports of the configured proxies, comma-separated: each URL's own port, else 443 for https://
and 80 for http://. With networkPolicy.restrictEgress the endpoint must still reach its proxy.
*/}}
{{- define "gce.proxyPorts" -}}
{{- $ports := list -}}
{{- range $url := list .Values.proxy.httpsProxy .Values.proxy.httpProxy -}}
{{- if $url -}}
{{- $parsed := urlParse $url -}}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" $parsed.host) -}}
{{- if not $port -}}{{- $port = ternary "443" "80" (eq $parsed.scheme "https") -}}{{- end -}}
{{- $ports = append $ports $port -}}
{{- end -}}
{{- end -}}
{{- $ports | uniq | join "," -}}
{{- end }}

{{/*
"true" when the SLATE server renders the chart: it sets SLATE.Instance.ID (and SLATE.Cluster) at
install, which plain Helm leaves at the default "untagged". SLATE groups may not create cluster-scoped
objects, so those are never rendered then.
*/}}
{{- define "gce.onSlate" -}}
{{- $slate := .Values.SLATE | default dict -}}
{{- $id := include "gce.scalarString" ($slate.Instance | default dict | dig "ID" "untagged") -}}
{{- if or (ne $id "untagged") (hasKey $slate "Cluster") -}}true{{- end -}}
{{- end }}

{{/* The service account the endpoint runs under, as the API server names it in a request. */}}
{{- define "gce.endpointUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "gce.serviceAccountName" . | default "default") -}}
{{- end }}

{{/* The service account of the worker pods: the conf's, the chart's, or the namespace's default. */}}
{{- define "gce.workerServiceAccountName" -}}
{{- if .Values.workerServiceAccountName -}}
{{- .Values.workerServiceAccountName | toString -}}
{{- else if .Values.rbacEnabled -}}
{{- printf "%s-worker" (include "gce.fullname" .) -}}
{{- else -}}
default
{{- end -}}
{{- end }}

{{/*
The Secrets a worker pod may use, as a JSON list: the workers' keys, and those the conf's worker
volumes and environment name (the admission policy allows these and no other).
*/}}
{{- define "gce.workerSecrets" -}}
{{- $names := list (include "gce.workerKeysSecret" .) -}}
{{- range .Values.workerVolumes -}}
{{- with .secret }}{{ $names = append $names (.secretName | toString) }}{{ end -}}
{{- with .csi }}{{ with .nodePublishSecretRef }}{{ $names = append $names (.name | toString) }}{{ end }}{{ end -}}
{{- with .projected -}}
{{- range .sources }}{{ with .secret }}{{ $names = append $names (.name | toString) }}{{ end }}{{ end -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := .Values.workerEnv -}}
{{- if kindIs "map" $value }}{{ with $value.secretKeyRef }}{{ $names = append $names (.name | toString) }}{{ end }}{{ end -}}
{{- end -}}
{{- $names | uniq | toJson -}}
{{- end }}

{{/* The Secret the endpoint's provider writes the workers' CurveZMQ keys into. */}}
{{- define "gce.workerKeysSecret" -}}
{{- printf "%s-worker-keys" (include "gce.fullname" .) -}}
{{- end }}

{{/*
Labels of every worker pod (the provider adds parsl-job-id). SLATE's instance commands select on
release; the NetworkPolicy admits exactly the pods with instance and component.
*/}}
{{- define "gce.workerLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
release: {{ .Release.Name }}
instance: {{ include "gce.scalarString" .Values.Instance | quote }}
{{- end }}

{{/*
A value the SLATE server may have turned from a quoted string into a number (x-slate-coerce), as the
string the user wrote: Helm reads every number as a float, and toString would write 1000000 as 1e+06.
(Nested ifs: Helm 3.8's Go templates evaluate both sides of `and`.) Its Python twin is
gce_values.helmyaml.scalars.as_template_text; tests/test_template_twins.py holds the two equal.
*/}}
{{- define "gce.scalarString" -}}
{{- $text := toString . -}}
{{- if kindIs "float64" . -}}
{{- if eq (floor .) . -}}
{{- $text = printf "%.0f" . -}}
{{- end -}}
{{- end -}}
{{- $text -}}
{{- end }}

{{/*
A string for the Jinja2 user config template: JSON-quoted (valid YAML) with every brace escaped as
\u007b / \u007d, so no value can open a Jinja2 expression or break out of its YAML string.
*/}}
{{- define "gce.jinjaString" -}}
{{- include "gce.escapeControls" (toJson (toString .)) | replace "{" "\\u007b" | replace "}" "\\u007d" -}}
{{- end }}

{{/*
JSON text (from toJson or toPrettyJson) with the characters it leaves as they are but YAML does not
allow in a manifest (DEL, the C1 controls, NEL, U+FFFE, U+FFFF) written as \u escapes, so that a
value holding one cannot break the manifest it is rendered into. Only JSON strings hold them, and
JSON and YAML read the escape back as the same character.
*/}}
{{- define "gce.escapeControls" -}}
{{- $text := . -}}
{{- range $code := concat (untilStep 127 160 1) (list 65534 65535) -}}
{{- $text = replace (printf "%c" $code) (printf "\\u%04x" $code) $text -}}
{{- end -}}
{{- $text -}}
{{- end }}

{{/* A value as JSON for a manifest or an endpoint file: toJson, then gce.escapeControls. */}}
{{- define "gce.json" -}}
{{- include "gce.escapeControls" (toJson .) -}}
{{- end }}

{{/* Restrictive container security context of the endpoint (the worker provider sets the same). */}}
{{- define "gce.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser | int64 }}
runAsGroup: {{ .Values.podSecurity.runAsGroup | int64 }}
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gce.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser | int64 }}
runAsGroup: {{ .Values.podSecurity.runAsGroup | int64 }}
fsGroup: {{ .Values.podSecurity.runAsGroup | int64 }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
checkov annotations for the security checks a workload fails by design, each with its reason; the
chart README lists them under "Security checks". checkov applies a workload's skips to its pod
template as well, and reads "ID=reason", so a reason must not contain "=".
Call with (dict "root" $ "apiUse" "why the pod needs its service account token").
*/}}
{{- define "gce.checkovSkips" -}}
{{- $values := .root.Values -}}
{{- $skips := list (printf "CKV_K8S_38=%s" .apiUse) -}}
{{- if not $values.image.digest -}}
{{- $skips = append $skips "CKV_K8S_43=image.digest is empty, so the image is chosen by its version tag (image.tag; empty means the chart's appVersion); set image.digest to pin the exact image" -}}
{{- end -}}
{{- if ne (toString $values.image.pullPolicy) "Always" -}}
{{- $skips = append $skips "CKV_K8S_15=image.pullPolicy is the user's choice; the default IfNotPresent fits a tag naming a fixed endpoint version, and keeps restarts independent of the registry" -}}
{{- end -}}
{{- if lt (int64 $values.podSecurity.runAsUser) 10000 -}}
{{- $skips = append $skips "CKV_K8S_40=podSecurity.runAsUser must be a user that exists in the image (the endpoint looks itself up in its passwd file); the image's user is 1000" -}}
{{- end -}}
{{- if not $values.networkPolicy.enabled -}}
{{- $skips = append $skips "CKV2_K8S_6=the user turned networkPolicy.enabled off (on by default); the interchange still admits only workers holding its CurveZMQ keys" -}}
{{- end -}}
{{- $lines := list -}}
{{- range $index, $skip := $skips -}}
{{- $lines = append $lines (printf "checkov.io/skip%d: %s" (add1 $index) (quote $skip)) -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end }}

{{/*
gce.jinjaValue: a value (map, list, string, number, boolean) as JSON that passes the endpoint's Jinja2
unchanged: strings through gce.jinjaString, so no brace of theirs can open a Jinja2 expression (the
JSON structure itself never puts "{{", "{%" or "{#" side by side). Maps come out with sorted keys.
*/}}
{{- define "gce.jinjaValue" -}}
{{- if kindIs "map" . -}}
{ {{- $first := true }}{{ range $key, $value := . }}{{ if not $first }}, {{ end }}{{ $first = false }}{{ include "gce.jinjaString" $key }}: {{ include "gce.jinjaValue" $value }}{{ end -}} }
{{- else if kindIs "slice" . -}}
[ {{- $first := true }}{{ range . }}{{ if not $first }}, {{ end }}{{ $first = false }}{{ include "gce.jinjaValue" . }}{{ end -}} ]
{{- else if kindIs "string" . -}}
{{ include "gce.jinjaString" . }}
{{- else -}}
{{ toJson . }}
{{- end -}}
{{- end }}

{{/* gce.proxyEnv: the proxy settings as environment variables (both spellings), name to value. */}}
{{- define "gce.proxyEnv" -}}
{{- $env := dict -}}
{{- range $name, $value := dict "HTTPS_PROXY" .Values.proxy.httpsProxy "HTTP_PROXY" .Values.proxy.httpProxy "NO_PROXY" .Values.proxy.noProxy -}}
{{- with $value }}
{{- $_ := set $env $name (toString .) }}
{{- $_ := set $env (lower $name) (toString .) }}
{{- end }}
{{- end -}}
{{- toJson $env -}}
{{- end }}

{{/*
gce.workerEnv: the worker container's env entries: the proxy settings, then workerEnv (which wins
over a proxy variable of the same name), a plain value or a Secret or ConfigMap key reference.
*/}}
{{- define "gce.workerEnv" -}}
{{- $entries := list -}}
{{- range $name, $value := (include "gce.proxyEnv" . | fromJson) -}}
{{- if not (hasKey $.Values.workerEnv $name) }}
{{- $entries = append $entries (dict "name" $name "value" $value) }}
{{- end }}
{{- end -}}
{{- range $name, $value := .Values.workerEnv -}}
{{- if kindIs "map" $value }}
{{- $entries = append $entries (dict "name" $name "valueFrom" $value) }}
{{- else }}
{{- $entries = append $entries (dict "name" $name "value" (include "gce.scalarString" $value)) }}
{{- end }}
{{- end -}}
{{- toJson $entries -}}
{{- end }}

{{/*
gce.submissionSchema: the endpoint's user_config_schema.json, what a submission may choose (workerChoices):
only the variables the user config template reads, each bounded; any other variable is refused.
*/}}
{{- define "gce.submissionSchema" -}}
{{- $choices := .Values.workerChoices -}}
{{- $properties := dict -}}
{{- with $choices.images }}
{{- $images := list (include "gce.workerImage" $) }}
{{- range . }}{{ $images = append $images (toString .) }}{{ end }}
{{- $_ := set $properties "worker_image" (dict "type" "string" "enum" (uniq $images)) }}
{{- end }}
{{- if gt (float64 $choices.maxCPU) 0.0 }}
{{- $_ := set $properties "cpu" (dict "type" "number" "exclusiveMinimum" 0 "maximum" $choices.maxCPU) }}
{{- end }}
{{- if gt (float64 $choices.maxMemGiB) 0.0 }}
{{- $_ := set $properties "memory_gib" (dict "type" "number" "exclusiveMinimum" 0 "maximum" $choices.maxMemGiB) }}
{{- end }}
{{- if gt (int $choices.maxGPUs) 0 }}
{{- $_ := set $properties "gpus" (dict "type" "integer" "minimum" 0 "maximum" (int $choices.maxGPUs)) }}
{{- end }}
{{- toPrettyJson (dict "type" "object" "properties" $properties "additionalProperties" false) }}
{{- end }}

{{/*
gce.choice: a value of the user config template that a submission may replace with its variable (a
Jinja2 conditional), or the conf's value alone. Takes (list enabled variable valueWhenPassed confValue).
*/}}
{{- define "gce.choice" -}}
{{- if index . 0 -}}
{{ "{%" }} if {{ index . 1 }} is defined {{ "%}" }}{{ index . 2 }}{{ "{%" }} else {{ "%}" }}{{ index . 3 }}{{ "{%" }} endif {{ "%}" }}
{{- else -}}
{{ index . 3 }}
{{- end -}}
{{- end }}
