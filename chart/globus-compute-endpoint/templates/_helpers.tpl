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
instance: {{ .Values.Instance | toString | quote }}
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
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- printf "%s:%s" (.Values.image.repository | toString) $tag -}}
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

{{/* Prefix of worker pod names; Parsl appends ".<job id>". The cleanup job matches it. */}}
{{- define "gce.workerPodPrefix" -}}
{{- printf "%s-worker" (include "gce.fullname" .) -}}
{{- end }}

{{/* Annotation the endpoint puts on its worker pods, so cleanup removes only this release's pods. */}}
{{- define "gce.ownerAnnotation" -}}
globus-compute.slateci.io/owner
{{- end }}

{{- define "gce.ownerValue" -}}
{{- printf "%s/%s" .Release.Namespace .Release.Name -}}
{{- end }}

{{/*
A string for the Jinja2 user config template: JSON-quoted (valid YAML) with every brace escaped as
\u007b / \u007d, so no value can open a Jinja2 expression or break out of its YAML string.
*/}}
{{- define "gce.jinjaString" -}}
{{- toJson (toString .) | replace "{" "\\u007b" | replace "}" "\\u007d" -}}
{{- end }}

{{/* Restrictive container security context shared by the endpoint and the cleanup job. */}}
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
