{{/* The chart name, overridable. */}}
{{- define "firetap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release-chart, unless the release already contains the chart name. */}}
{{- define "firetap.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Kubernetes recommended labels. */}}
{{- define "firetap.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "firetap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: ingestion
app.kubernetes.io/part-of: firetap
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "firetap.selectorLabels" -}}
app.kubernetes.io/name: {{ include "firetap.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "firetap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "firetap.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the accepted access keys: the user's, or the chart's generated one. */}}
{{- define "firetap.accessKeysSecret" -}}
{{- if .Values.accessKeys.existingSecret }}
{{- .Values.accessKeys.existingSecret }}
{{- else }}
{{- printf "%s-access-keys" (include "firetap.fullname" .) }}
{{- end }}
{{- end }}

{{/* key=value,… from a map, as FIRETAP_RESOURCE_ATTRIBUTES wants it (values percent-encoded). */}}
{{- define "firetap.keyValues" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $pairs = append $pairs (printf "%s=%s" $k (urlquery (toString $v))) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
