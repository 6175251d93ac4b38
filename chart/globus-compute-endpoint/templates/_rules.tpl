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
{{- if and (gt (float64 .Values.minBlocks) (float64 0)) (eq (toString (index (.Values.cleanup | default dict) "enabled")) "false") }}
WARNING: minBlocks > 0 with cleanup.enabled false: worker pods will survive `slate instance delete` [warm-workers-without-cleanup]
{{- end }}
{{- end }}
