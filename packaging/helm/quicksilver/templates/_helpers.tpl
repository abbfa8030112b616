{{- define "quicksilver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quicksilver.fullname" -}}
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

{{- define "quicksilver.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "quicksilver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "quicksilver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quicksilver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quicksilver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "quicksilver.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "quicksilver.secretName" -}}
{{- default (include "quicksilver.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The transport in use: the scheme of the legacy transportUrl, else transport.type. */}}
{{- define "quicksilver.transportType" -}}
{{- if .Values.transportUrl }}
{{- $scheme := regexReplaceAll ":.*$" .Values.transportUrl "" }}
{{- $map := dict "bolt" "bolt" "local" "local" "redis" "redis" "rediss" "redis" "postgres" "postgres" "postgresql" "postgres" "kafka" "kafka" "pulsar" "pulsar" "pulsar+ssl" "pulsar" }}
{{- required (printf "transportUrl: unknown scheme %q; expected bolt, local, redis, rediss, postgres, kafka or pulsar" $scheme) (get $map $scheme) }}
{{- else }}
{{- .Values.transport.type }}
{{- end }}
{{- end }}

{{/* Refuses settings that cannot work, before anything is deployed. */}}
{{- define "quicksilver.validate" -}}
{{- $type := include "quicksilver.transportType" . }}
{{- if not (has $type (list "bolt" "local" "redis" "postgres" "kafka" "pulsar")) }}
{{- fail (printf "transport.type %q is not one of bolt, local, redis, postgres, kafka, pulsar" $type) }}
{{- end }}
{{- if has $type (list "bolt" "local") }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %d but the %s transport runs on a single node: set replicaCount to 1, or use a multi-node transport (redis, postgres, kafka, pulsar)" (int .Values.replicaCount) $type) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) 1) }}
{{- fail (printf "autoscaling may start %d pods but the %s transport runs on a single node: disable autoscaling, or use a multi-node transport (redis, postgres, kafka, pulsar)" (int .Values.autoscaling.maxReplicas) $type) }}
{{- end }}
{{- end }}
{{- if not .Values.transportUrl }}
{{- if and (eq $type "redis") (not .Values.transport.redis.addresses) }}{{ fail "transport.redis.addresses: at least one host:port is required" }}{{ end }}
{{- if and (eq $type "kafka") (not .Values.transport.kafka.addresses) }}{{ fail "transport.kafka.addresses: at least one host:port is required" }}{{ end }}
{{- if and (eq $type "pulsar") (not .Values.transport.pulsar.url) }}{{ fail "transport.pulsar.url is required (pulsar://host:6650)" }}{{ end }}
{{- if and (eq $type "postgres") (not .Values.transport.postgres.url) (not .Values.existingSecret) }}{{ fail "transport.postgres.url is required (or an existingSecret with a transport-url key)" }}{{ end }}
{{- end }}
{{- end }}

{{/* The transport lines of the mercure block (tab-indented by the caller). Secrets come from env vars set from the Secret. */}}
{{- define "quicksilver.transport" -}}
{{- $type := include "quicksilver.transportType" . }}
{{- if .Values.transportUrl -}}
transport_url {$QS_TRANSPORT_URL}
{{- else if eq $type "bolt" -}}
transport bolt {
	path {{ .Values.transport.bolt.path }}
}
{{- else if eq $type "local" -}}
transport local
{{- else if eq $type "redis" -}}
{{- $r := .Values.transport.redis -}}
transport redis {
	{{ if eq (len $r.addresses) 1 }}address{{ else }}addresses{{ end }} {{ join " " $r.addresses }}
	stream {{ $r.stream }}
{{- if or $r.password $r.passwordInSecret }}
	password {$QS_TRANSPORT_PASSWORD}
{{- end }}
{{- if $r.tls }}
	tls
{{- end }}
	max_length {{ int $r.maxLength }}
}
{{- else if eq $type "postgres" -}}
transport postgres {
	url {$QS_TRANSPORT_URL}
}
{{- else if eq $type "kafka" -}}
{{- $k := .Values.transport.kafka -}}
transport kafka {
	addresses {{ join " " $k.addresses }}
	topic {{ $k.topic }}
	consumer_group {$POD_NAME}
{{- if $k.user }}
	user {{ $k.user }}
{{- end }}
{{- if or $k.password $k.passwordInSecret }}
	password {$QS_TRANSPORT_PASSWORD}
{{- end }}
{{- if $k.tls }}
	tls
{{- end }}
}
{{- else if eq $type "pulsar" -}}
{{- $p := .Values.transport.pulsar -}}
transport pulsar {
	url {{ $p.url }}
	topic {{ $p.topic }}
	subscription_name {$POD_NAME}
}
{{- end }}
{{- end }}
