{{/*
A container's environment: the entries the chart owns, then the user's. A user entry with the same name replaces
the chart's (no duplicate names: server-side apply refuses them). Takes (dict "chart" list "user" list).
*/}}
{{- define "streamlane.mergeEnv" -}}
{{- $userNames := list }}
{{- range .user }}{{ $userNames = append $userNames .name }}{{ end }}
{{- $result := list }}
{{- range .chart }}
{{- if not (has .name $userNames) }}{{ $result = append $result . }}{{ end }}
{{- end }}
{{- concat $result .user | toYaml }}
{{- end }}

{{/* The app's configuration the chart owns (README.md's env column of the configuration table). */}}
{{- define "streamlane.appEnv" -}}
{{- $app := .Values.app }}
{{- $env := list
  (dict "name" "STREAMLANE_GROUP_INSTANCE_ID" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name")))
  (dict "name" "STREAMLANE_APPLICATION_ID" "value" $app.applicationId)
  (dict "name" "KAFKA_BROKERS" "value" .Values.kafka.bootstrapServers)
  (dict "name" "STREAMLANE_STATE_DIR" "value" $app.stateDir)
  (dict "name" "STREAMLANE_PROCESSING_GUARANTEE" "value" $app.processingGuarantee)
  (dict "name" "STREAMLANE_SHUTDOWN_TIMEOUT_MS" "value" (toString $app.shutdownTimeoutMs))
  (dict "name" "STREAMLANE_SESSION_TIMEOUT_MS" "value" (toString $app.sessionTimeoutMs))
  (dict "name" "STREAMLANE_NUM_STANDBY_REPLICAS" "value" (toString $app.numStandbyReplicas))
  (dict "name" "STREAMLANE_METRICS_PORT" "value" (toString $app.metricsPort))
  (dict "name" "STREAMLANE_METRICS_HOST" "value" "0.0.0.0")
  (dict "name" "STREAMLANE_LOG_LEVEL" "value" $app.logLevel)
}}
{{- if not (kindIs "invalid" $app.leaveGroupOnClose) }}
{{- $env = append $env (dict "name" "STREAMLANE_LEAVE_GROUP_ON_CLOSE" "value" (toString $app.leaveGroupOnClose)) }}
{{- end }}
{{- if $app.metricsTokenSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_METRICS_TOKEN_FILE" "purpose" "metrics-token" "key" $app.metricsTokenSecret.key) | fromYaml) }}
{{- end }}
{{- if $app.metricsTlsSecret }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_METRICS_TLS_CERT_FILE" "purpose" "metrics-tls" "key" "tls.crt") | fromYaml) }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_METRICS_TLS_KEY_FILE" "purpose" "metrics-tls" "key" "tls.key") | fromYaml) }}
{{- end }}
{{- $env = concat $env (include "streamlane.kafkaEnv" . | fromYamlArray) }}
{{- $env = concat $env (include "streamlane.reportEnv" . | fromYamlArray) }}
{{- include "streamlane.mergeEnv" (dict "chart" $env "user" .Values.env) }}
{{- end }}

{{/*
How the app reports to this release's scaler: its URL (HTTPS when the scaler has TLS, trusting the CA given), and
the report token, sent by the app and required by the scaler (both read STREAMLANE_SCALER_REPORT_TOKEN_FILE).
*/}}
{{- define "streamlane.reportEnv" -}}
{{- $s := .Values.scaler }}
{{- $env := list }}
{{- if and $s.enabled $s.reportFromApp }}
{{- $scheme := ternary "https" "http" (not (empty $s.tls.secretName)) }}
{{- $env = append $env (dict "name" "STREAMLANE_SCALER_URL" "value" (printf "%s://%s.%s.svc:%v" $scheme (include "streamlane.scalerName" .) .Release.Namespace $s.httpPort)) }}
{{- end }}
{{- if include "streamlane.reportTokenSecretName" . }}
{{- $env = append $env (include "streamlane.reportTokenEnv" . | fromYaml) }}
{{- end }}
{{- if $s.tls.caSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "NODE_EXTRA_CA_CERTS" "purpose" "scaler-ca" "key" $s.tls.caSecret.key) | fromYaml) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{- define "streamlane.reportTokenEnv" -}}
{{- include "streamlane.fileEnv" (dict "name" "STREAMLANE_SCALER_REPORT_TOKEN_FILE" "purpose" "report-token" "key" .Values.scaler.reportTokenSecret.key) }}
{{- end }}

{{/* The scaler's configuration the chart owns (docs/keda.md's flag table). */}}
{{- define "streamlane.scalerEnv" -}}
{{- $s := .Values.scaler }}
{{- $env := list
  (dict "name" "STREAMLANE_SCALER_HOST" "value" "0.0.0.0")
  (dict "name" "STREAMLANE_SCALER_GRPC_PORT" "value" (toString $s.grpcPort))
  (dict "name" "STREAMLANE_SCALER_HTTP_PORT" "value" (toString $s.httpPort))
  (dict "name" "KAFKA_BROKERS" "value" (default .Values.kafka.bootstrapServers .Values.autoscaling.bootstrapServers))
  (dict "name" "STREAMLANE_SCALER_GROUPS" "value" (default .Values.app.applicationId $s.groups))
  (dict "name" "STREAMLANE_LOG_LEVEL" "value" $s.logLevel)
}}
{{- with $s.allowedBrokers }}
{{- $env = append $env (dict "name" "STREAMLANE_SCALER_ALLOWED_BROKERS" "value" .) }}
{{- end }}
{{- if include "streamlane.reportTokenSecretName" . }}
{{- $env = append $env (include "streamlane.reportTokenEnv" . | fromYaml) }}
{{- end }}
{{- if $s.metricsTokenSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_SCALER_TOKEN_FILE" "purpose" "scaler-metrics-token" "key" $s.metricsTokenSecret.key) | fromYaml) }}
{{- end }}
{{- if $s.tls.secretName }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_SCALER_TLS_CERT_FILE" "purpose" "scaler-tls" "key" "tls.crt") | fromYaml) }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_SCALER_TLS_KEY_FILE" "purpose" "scaler-tls" "key" "tls.key") | fromYaml) }}
{{- end }}
{{- if $s.tls.clientCaSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "STREAMLANE_SCALER_GRPC_CLIENT_CA_FILE" "purpose" "scaler-client-ca" "key" $s.tls.clientCaSecret.key) | fromYaml) }}
{{- end }}
{{- $env = concat $env (include "streamlane.kafkaEnv" . | fromYamlArray) }}
{{- include "streamlane.mergeEnv" (dict "chart" $env "user" $s.env) }}
{{- end }}
