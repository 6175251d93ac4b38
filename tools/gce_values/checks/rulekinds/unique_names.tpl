{{/* gce.repeatedNames: the first item of a list whose field repeats another's or a reserved one. */}}
{{- define "gce.repeatedNames" -}}
{{- $field := index . 1 -}}
{{- $seen := index . 2 -}}
{{- $repeated := list -}}
{{- range (index . 0) }}{{ $name := toString (index . $field) }}{{ if has $name $seen }}{{ $repeated = append $repeated $name }}{{ end }}{{ $seen = append $seen $name }}{{ end -}}
{{- if $repeated }}{{ first $repeated | quote }}{{ end -}}
{{- end }}
