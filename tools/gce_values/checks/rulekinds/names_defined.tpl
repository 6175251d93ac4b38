{{/* gce.undefinedNames: the first item of a list whose field names no item of another list. */}}
{{- define "gce.undefinedNames" -}}
{{- $field := index . 2 -}}
{{- $defined := list -}}
{{- range (index . 1) }}{{ $defined = append $defined (toString (index . "name")) }}{{ end -}}
{{- $missing := list -}}
{{- range (index . 0) }}{{ if not (has (toString (index . $field)) $defined) }}{{ $missing = append $missing (toString (index . $field)) }}{{ end }}{{ end -}}
{{- if $missing }}{{ first $missing | quote }}{{ end -}}
{{- end }}
