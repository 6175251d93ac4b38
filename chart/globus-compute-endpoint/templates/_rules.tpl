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
{{- if eq (include "gce.quantityAbove" (list .Values.initMem .Values.maxMem)) "true" }}
  {{- fail "initMem must not exceed maxMem (Kubernetes refuses a pod whose request is above its limit) [memory-request-within-limit]" }}
{{- end }}
{{- if eq (include "gce.quantityAbove" (list (index ((index (.Values.resources | default dict) "requests") | default dict) "cpu") (index ((index (.Values.resources | default dict) "limits") | default dict) "cpu"))) "true" }}
  {{- fail "resources.requests.cpu must not exceed resources.limits.cpu [endpoint-cpu-request-within-limit]" }}
{{- end }}
{{- if eq (include "gce.quantityAbove" (list (index ((index (.Values.resources | default dict) "requests") | default dict) "memory") (index ((index (.Values.resources | default dict) "limits") | default dict) "memory"))) "true" }}
  {{- fail "resources.requests.memory must not exceed resources.limits.memory [endpoint-memory-request-within-limit]" }}
{{- end }}
{{- if or (hasKey (.Values.workerExtraResources | default dict) "cpu") (hasKey (.Values.workerExtraResources | default dict) "memory") }}
  {{- fail "workerExtraResources must not hold cpu or memory: they would silently override initCPU, maxCPU, initMem and maxMem; set those instead [no-cpu-memory-in-extra-resources]" }}
{{- end }}
{{- if and (not (empty (index (.Values.endpoint | default dict) "admins"))) (eq (toString ((index (.Values.endpoint | default dict) "subscriptionId") | default "")) "") }}
  {{- fail "endpoint.subscriptionId is required when endpoint.admins is set [admins-need-subscription]" }}
{{- end }}
{{- if and (eq (toString (index (.Values.endpoint | default dict) "highAssurance")) "true") (eq (toString ((index (.Values.endpoint | default dict) "subscriptionId") | default "")) "") }}
  {{- fail "endpoint.subscriptionId (a High Assurance subscription) is required when endpoint.highAssurance is true [high-assurance-needs-subscription]" }}
{{- end }}
{{- if and (eq (toString (index (.Values.endpoint | default dict) "highAssurance")) "true") (eq (toString ((index (.Values.endpoint | default dict) "authenticationPolicy") | default "")) "") }}
  {{- fail "endpoint.authenticationPolicy (a High Assurance authentication policy) is required when endpoint.highAssurance is true [high-assurance-needs-policy]" }}
{{- end }}
{{- if and (eq (toString .Values.rbacEnabled) "false") (eq (toString (.Values.serviceAccountName | default "")) "") }}
  {{- fail "serviceAccountName is required when rbacEnabled is false [service-account-without-rbac]" }}
{{- end }}
{{- if gt (len .Release.Name) 53 }}
  {{- fail "the release name is longer than Helm's 53 characters: shorten Instance (SLATE names the release globus-compute-endpoint-<Instance>) [release-name-length]" }}
{{- end }}
{{- if ne (include "gce.undefinedNames" (list (.Values.workerVolumeMounts | default list) (.Values.workerVolumes | default list) "name")) "" }}
  {{- fail "every entry of workerVolumeMounts must name a volume of workerVolumes [worker-mounts-name-volumes]" }}
{{- end }}
{{- if ne (include "gce.repeatedNames" (list (.Values.workerVolumes | default list) "name" (list "worker-keys"))) "" }}
  {{- fail "the names of workerVolumes must differ from each other and from worker-keys (the volume of the workers' connection keys) [worker-volume-names-unique]" }}
{{- end }}
{{- if ne (include "gce.repeatedNames" (list (.Values.workerVolumeMounts | default list) "mountPath" (list "/etc/gce-worker-keys"))) "" }}
  {{- fail "the mountPaths of workerVolumeMounts must differ from each other and from /etc/gce-worker-keys (where the workers' connection keys are mounted) [worker-mount-paths-unique]" }}
{{- end }}
{{- if or (hasKey (.Values.workerLabels | default dict) "app.kubernetes.io/name") (hasKey (.Values.workerLabels | default dict) "app.kubernetes.io/instance") (hasKey (.Values.workerLabels | default dict) "app.kubernetes.io/component") (hasKey (.Values.workerLabels | default dict) "release") (hasKey (.Values.workerLabels | default dict) "instance") (hasKey (.Values.workerLabels | default dict) "parsl-job-id") }}
  {{- fail "workerLabels must not set the labels the release puts on its worker pods (the NetworkPolicies, SLATE and the endpoint select the workers by them) [worker-labels-keep-release-labels]" }}
{{- end }}
{{- end }}

{{/* gce.warnings prints one line per rule of severity warning that applies. */}}
{{- define "gce.warnings" -}}
{{- if and (not (empty .Values.imagePullSecret)) (not (empty .Values.workerNamespace)) }}
WARNING: imagePullSecret must also exist in workerNamespace, or worker pods cannot pull their image [pull-secret-in-worker-namespace]
{{- end }}
{{- if (eq (toString .Values.workerAutomountServiceAccountToken) "true") }}
WARNING: workerAutomountServiceAccountToken is true: every function can read the worker service account's token and use the cluster with that account's rights [worker-token-reaches-functions]
{{- end }}
{{- if (eq (toString (index (.Values.endpoint | default dict) "highAssurance")) "true") }}
WARNING: endpoint.highAssurance cannot be switched off (or on) later for the same endpointUUID: the endpoint registers with it for good [high-assurance-is-for-good]
{{- end }}
{{- end }}

{{/* gce.undefinedNames: the first item of a list whose field names no item of another list. */}}
{{- define "gce.undefinedNames" -}}
{{- $field := index . 2 -}}
{{- $defined := list -}}
{{- range (index . 1) }}{{ $defined = append $defined (toString (index . "name")) }}{{ end -}}
{{- $missing := list -}}
{{- range (index . 0) }}{{ if not (has (toString (index . $field)) $defined) }}{{ $missing = append $missing (toString (index . $field)) }}{{ end }}{{ end -}}
{{- if $missing }}{{ first $missing | quote }}{{ end -}}
{{- end }}

{{/* gce.quantity reads a Kubernetes quantity exactly (gce_values.checks.quantities). */}}
{{- define "gce.quantity" -}}
{{- $text := include "gce.scalarString" . -}}
{{- if regexMatch "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3})?$" $text -}}
{{- $sign := regexReplaceAll "^([+-]?)([0-9]*)[.]?([0-9]*)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3})?$" $text "${1}" -}}
{{- $fraction := regexReplaceAll "^([+-]?)([0-9]*)[.]?([0-9]*)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3})?$" $text "${3}" -}}
{{- $suffix := regexReplaceAll "^([+-]?)([0-9]*)[.]?([0-9]*)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3})?$" $text "${4}" -}}
{{- $digits := regexReplaceAll "^0+" (printf "%s%s" (regexReplaceAll "^([+-]?)([0-9]*)[.]?([0-9]*)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3})?$" $text "${2}") $fraction) "" -}}
{{- $exponent := sub 0 (len $fraction) -}}
{{- $binary := dict "Ki" 1 "Mi" 2 "Gi" 3 "Ti" 4 "Pi" 5 "Ei" 6 -}}
{{- $decimal := dict "" 0 "n" -9 "u" -6 "m" -3 "k" 3 "M" 6 "G" 9 "T" 12 "P" 15 "E" 18 -}}
{{- if hasKey $binary $suffix -}}
{{- range until (int (get $binary $suffix)) -}}
{{- $digits = regexReplaceAll "^0+" (include "gce.digitsTimes" (list $digits 1024 0)) "" -}}
{{- end -}}
{{- else if hasKey $decimal $suffix -}}
{{- $exponent = add $exponent (get $decimal $suffix) -}}
{{- else -}}
{{- $exponent = add $exponent (atoi (substr 1 -1 $suffix)) -}}
{{- end -}}
{{- $amount := "" -}}
{{- if eq $digits "" -}}
{{- $amount = "0" -}}
{{- else if gt (add (len $digits) $exponent) 19 -}}
{{- $amount = "9223372036854775807000000000" -}}
{{- else if ge (add $exponent 9) 0 -}}
{{- $amount = printf "%s%s" $digits (repeat (int (add $exponent 9)) "0") -}}
{{- else -}}
{{- $cut := int (sub 0 (add $exponent 9)) -}}
{{- $kept := "0" -}}
{{- $dropped := $digits -}}
{{- if lt $cut (len $digits) -}}
{{- $kept = substr 0 (int (sub (len $digits) $cut)) $digits -}}
{{- $dropped = substr (int (sub (len $digits) $cut)) -1 $digits -}}
{{- end -}}
{{- $rounded := include "gce.digitsTimes" (list $kept 1 (ternary 1 0 (regexMatch "[1-9]" $dropped))) -}}
{{- $amount = regexReplaceAll "^0+" $rounded "" -}}
{{- end -}}
{{- $amount = printf "%s%s" (repeat (int (sub 28 (min 28 (len $amount)))) "0") $amount -}}
{{- if or (gt (len $amount) 28) (gt $amount "9223372036854775807000000000") -}}
{{- $amount = "9223372036854775807000000000" -}}
{{- end -}}
{{- printf "%s%s" (ternary "-" "+" (and (eq $sign "-") (regexMatch "[1-9]" $amount))) $amount -}}
{{- end -}}
{{- end }}

{{- define "gce.quantityAbove" -}}
{{- $low := include "gce.quantity" (index . 0) -}}
{{- $high := include "gce.quantity" (index . 1) -}}
{{- if and $low $high -}}
{{- $lowSign := substr 0 1 $low -}}
{{- $highSign := substr 0 1 $high -}}
{{- if ne $lowSign $highSign -}}
{{- eq $lowSign "+" -}}
{{- else if eq $lowSign "+" -}}
{{- gt $low $high -}}
{{- else -}}
{{- lt $low $high -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "gce.digitsTimes" -}}
{{- $digits := index . 0 -}}
{{- $factor := index . 1 -}}
{{- $carry := index . 2 -}}
{{- $padded := printf "%s%s" (repeat (int (mod (sub 9 (mod (len $digits) 9)) 9)) "0") $digits -}}
{{- $out := "" -}}
{{- range reverse (regexFindAll "[0-9]{9}" $padded -1) -}}
{{- $sum := add (mul (atoi .) $factor) $carry -}}
{{- $out = printf "%09d%s" (mod $sum 1000000000) $out -}}
{{- $carry = div $sum 1000000000 -}}
{{- end -}}
{{- printf "%d%s" $carry $out -}}
{{- end }}

{{/* gce.repeatedNames: the first item of a list whose field repeats another's or a reserved one. */}}
{{- define "gce.repeatedNames" -}}
{{- $field := index . 1 -}}
{{- $seen := index . 2 -}}
{{- $repeated := list -}}
{{- range (index . 0) }}{{ $name := toString (index . $field) }}{{ if has $name $seen }}{{ $repeated = append $repeated $name }}{{ end }}{{ $seen = append $seen $name }}{{ end -}}
{{- if $repeated }}{{ first $repeated | quote }}{{ end -}}
{{- end }}
