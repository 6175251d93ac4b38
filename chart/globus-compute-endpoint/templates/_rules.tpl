{{/* Generated from schema/values.schema.yaml (x-rules) by `gce-values schema build`; do not edit. */}}
{{/* gce.rules fails the render when a cross-field rule is broken. */}}
{{- define "gce.rules" -}}
{{- if eq (toString (.Values.endpointUUID | default "")) "" }}
  {{- fail "endpointUUID is required: generate one with `gce-values init` or `python3 -c 'import uuid; print(uuid.uuid4())'` [endpoint-uuid-required]" }}
{{- end }}
{{- if eq (toString (.Values.secrets | default "")) "" }}
  {{- fail "secrets is required: name the SLATE secret that holds the endpoint's credentials (`slate secret create NAME --from-env-file client_creds.env`) [secrets-required]" }}
{{- end }}
{{- if ne (len (without (list (eq (toString .Values.useClientCredentials) "true") (eq (toString .Values.useUserCredentials) "true")) false)) 1 }}
  {{- fail "exactly one of useClientCredentials and useUserCredentials must be true [one-credential-mode]" }}
{{- end }}
{{- if gt (float64 .Values.minBlocks) (float64 .Values.maxBlocks) }}
  {{- fail "minBlocks must not exceed maxBlocks [min-blocks-within-max]" }}
{{- end }}
{{- if gt (float64 .Values.initBlocks) (float64 .Values.maxBlocks) }}
  {{- fail "initBlocks must not exceed maxBlocks [init-blocks-within-max]" }}
{{- end }}
{{- if gt (float64 .Values.initCPU) (float64 .Values.maxCPU) }}
  {{- fail "initCPU must not exceed maxCPU [cpu-request-within-limit]" }}
{{- end }}
{{- if gt (float64 (include "gce.quantity" .Values.initMem)) (float64 (include "gce.quantity" .Values.maxMem)) }}
  {{- fail "initMem must not exceed maxMem (Kubernetes refuses a pod whose request is above its limit) [memory-request-within-limit]" }}
{{- end }}
{{- if gt (float64 (include "gce.quantity" (index ((index (.Values.resources | default dict) "requests") | default dict) "cpu"))) (float64 (include "gce.quantity" (index ((index (.Values.resources | default dict) "limits") | default dict) "cpu"))) }}
  {{- fail "resources.requests.cpu must not exceed resources.limits.cpu [endpoint-cpu-request-within-limit]" }}
{{- end }}
{{- if gt (float64 (include "gce.quantity" (index ((index (.Values.resources | default dict) "requests") | default dict) "memory"))) (float64 (include "gce.quantity" (index ((index (.Values.resources | default dict) "limits") | default dict) "memory"))) }}
  {{- fail "resources.requests.memory must not exceed resources.limits.memory [endpoint-memory-request-within-limit]" }}
{{- end }}
{{- if or (hasKey (.Values.workerExtraResources | default dict) "cpu") (hasKey (.Values.workerExtraResources | default dict) "memory") }}
  {{- fail "workerExtraResources must not hold cpu or memory: they would silently override initCPU, maxCPU, initMem and maxMem; set those instead [no-cpu-memory-in-extra-resources]" }}
{{- end }}
{{- if and (not (empty (index (.Values.endpoint | default dict) "admins"))) (eq (toString ((index (.Values.endpoint | default dict) "subscriptionId") | default "")) "") }}
  {{- fail "endpoint.subscriptionId is required when endpoint.admins is set [admins-need-subscription]" }}
{{- end }}
{{- if and (eq (toString .Values.rbacEnabled) "false") (eq (toString (.Values.serviceAccountName | default "")) "") }}
  {{- fail "serviceAccountName is required when rbacEnabled is false [service-account-without-rbac]" }}
{{- end }}
{{- if gt (len .Release.Name) 53 }}
  {{- fail "the release name is longer than Helm's 53 characters: shorten Instance (SLATE names the release globus-compute-endpoint-<Instance>) [release-name-length]" }}
{{- end }}
{{- end }}

{{/* gce.warnings prints one line per rule of severity warning that applies. */}}
{{- define "gce.warnings" -}}
{{- if and (not (empty .Values.imagePullSecret)) (not (empty .Values.workerNamespace)) }}
WARNING: imagePullSecret must also exist in workerNamespace, or worker pods cannot pull their image [pull-secret-in-worker-namespace]
{{- end }}
{{- end }}

{{/* gce.quantity turns a Kubernetes quantity (500m, 2, 512Mi, 4Gi) into a number. */}}
{{- define "gce.quantity" -}}
{{- $text := include "gce.scalarString" . -}}
{{- $number := regexFind "^[0-9]+([.][0-9]+)?" $text -}}
{{- $factors := dict "" 1.0 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- mulf (float64 $number) (get $factors (trimPrefix $number $text)) -}}
{{- end }}
