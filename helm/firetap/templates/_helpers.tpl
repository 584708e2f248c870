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

{{/* The container image: repository@digest, or repository:tag (the appVersion by default). */}}
{{- define "firetap.image" -}}
{{- $repository := .Values.image.repository }}
{{- if not $repository }}
{{- fail "set image.repository to your ECR image (build it from this repository's Dockerfile)" }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The key of the access-key Secret the pods read. */}}
{{- define "firetap.accessKeysSecretKey" -}}
{{- if .Values.accessKeys.existingSecret }}{{ .Values.accessKeys.existingSecretKey }}{{ else }}access-keys{{ end }}
{{- end }}

{{/* Bytes of a Kubernetes quantity (1Gi, 1500M, 1073741824). */}}
{{- define "firetap.bytes" -}}
{{- if not (kindIs "string" .) }}
{{- . | int64 }}
{{- else }}
{{- $text := . }}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- $unit := regexFind "[A-Za-z]*$" $text }}
{{- $number := trimSuffix $unit $text }}
{{- if or (not (hasKey $units $unit)) (not (regexMatch "^[0-9]+(\\.[0-9]+)?$" $number)) }}
{{- fail (printf "resources.limits.memory %q is not a memory quantity firetap understands (e.g. 1Gi): fix it, or set config.maxRssBytes" $text) }}
{{- end }}
{{- mulf $number (get $units $unit) | int64 }}
{{- end }}
{{- end }}

{{/* FIRETAP_MAX_RSS_BYTES: the value given, else 85 % of the memory limit, else empty (the service's default). */}}
{{- define "firetap.maxRssBytes" -}}
{{- $limit := "" }}
{{- with .Values.resources }}{{ with .limits }}{{ with .memory }}{{ $limit = include "firetap.bytes" . }}{{ end }}{{ end }}{{ end }}
{{- if not (kindIs "string" .Values.config.maxRssBytes) }}
{{- $rss := .Values.config.maxRssBytes | int64 }}
{{- if and $limit (gt $rss 0) (ge $rss ($limit | int64)) }}
{{- fail (printf "config.maxRssBytes (%d) must be below resources.limits.memory (%s bytes): the pod is killed at the limit before firetap sheds load" $rss $limit) }}
{{- end }}
{{- $rss }}
{{- else if $limit }}
{{- mulf $limit 0.85 | int64 }}
{{- end }}
{{- end }}

{{/* Longer than the drain: the value given (checked), else delayMs + timeoutMs + 15 s. */}}
{{- define "firetap.terminationGracePeriodSeconds" -}}
{{- $drain := div (add .Values.config.shutdown.delayMs .Values.config.shutdown.timeoutMs 999) 1000 }}
{{- if kindIs "string" .Values.terminationGracePeriodSeconds }}
{{- add $drain 15 }}
{{- else }}
{{- $grace := .Values.terminationGracePeriodSeconds | int64 }}
{{- if lt $grace (add $drain 5) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least config.shutdown.delayMs + config.shutdown.timeoutMs + 5 s (%d s), or the kubelet kills requests still draining: raise it, or leave it empty to derive it" $grace (add $drain 5)) }}
{{- end }}
{{- $grace }}
{{- end }}
{{- end }}

{{/* Combinations that would install something unsafe or broken: fail the render with what to set. */}}
{{- define "firetap.validate" -}}
{{- if not (or .Values.accessKeys.existingSecret .Values.accessKeys.generate .Values.allowUnauthenticated) }}
{{- fail "no Firehose access key source: set accessKeys.existingSecret (recommended) or accessKeys.generate: true; to accept every request without a key, set allowUnauthenticated: true" }}
{{- end }}
{{- if and .Values.eventbridge.ingress (not .Values.eventbridge.existingSecret) }}
{{- fail "eventbridge.ingress exposes /eventbridge on the load balancer, where without credentials it answers every event 401 (or, with allowUnauthenticated, accepts forged ones): set eventbridge.existingSecret to a Secret holding the connection's API keys (key eventbridge.apiKeysKey) or user:password pairs (key eventbridge.basicAuthKey)" }}
{{- end }}
{{- if and .Values.eventbridge.existingSecret (not (or .Values.eventbridge.apiKeysKey .Values.eventbridge.basicAuthKey)) }}
{{- fail "eventbridge.existingSecret is set but neither eventbridge.apiKeysKey nor eventbridge.basicAuthKey names a key of it" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.ingressFrom) }}
{{- fail "networkPolicy.enabled needs networkPolicy.ingressFrom: list the CIDRs of the ALB's subnets (or NetworkPolicyPeer objects) allowed to reach firetap; an empty list would admit every source" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.networkPolicy.egress.enabled (not (or .Values.networkPolicy.egress.httpsCidrs .Values.networkPolicy.egress.rules)) }}
{{- fail "networkPolicy.egress.enabled with neither networkPolicy.egress.httpsCidrs nor networkPolicy.egress.rules lets firetap reach nothing but DNS: add the AWS APIs' and the OTLP backend's CIDRs or rules" }}
{{- end }}
{{- $_ := include "firetap.image" . }}
{{- $_ = include "firetap.maxRssBytes" . }}
{{- $_ = include "firetap.terminationGracePeriodSeconds" . }}
{{- end }}
