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
{{- $env := list
  (dict "name" "STREAMLANE_GROUP_INSTANCE_ID" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name")))
  (dict "name" "STREAMLANE_APPLICATION_ID" "value" .Values.app.applicationId)
  (dict "name" "KAFKA_BROKERS" "value" .Values.kafka.bootstrapServers)
  (dict "name" "STREAMLANE_STATE_DIR" "value" .Values.app.stateDir)
  (dict "name" "STREAMLANE_PROCESSING_GUARANTEE" "value" .Values.app.processingGuarantee)
  (dict "name" "STREAMLANE_SHUTDOWN_TIMEOUT_MS" "value" (toString .Values.app.shutdownTimeoutMs))
  (dict "name" "STREAMLANE_SESSION_TIMEOUT_MS" "value" (toString .Values.app.sessionTimeoutMs))
  (dict "name" "STREAMLANE_NUM_STANDBY_REPLICAS" "value" (toString .Values.app.numStandbyReplicas))
  (dict "name" "STREAMLANE_METRICS_PORT" "value" (toString .Values.app.metricsPort))
  (dict "name" "STREAMLANE_METRICS_HOST" "value" "0.0.0.0")
  (dict "name" "STREAMLANE_LOG_LEVEL" "value" .Values.app.logLevel)
}}
{{- if not (kindIs "invalid" .Values.app.leaveGroupOnClose) }}
{{- $env = append $env (dict "name" "STREAMLANE_LEAVE_GROUP_ON_CLOSE" "value" (toString .Values.app.leaveGroupOnClose)) }}
{{- end }}
{{- with .Values.app.metricsTokenSecret.name }}
{{- $env = append $env (dict "name" "STREAMLANE_METRICS_TOKEN_FILE" "value" (printf "%s/%s" (include "streamlane.secretDir" "metrics-token") $.Values.app.metricsTokenSecret.key)) }}
{{- end }}
{{- if .Values.app.metricsTlsSecret }}
{{- $env = append $env (dict "name" "STREAMLANE_METRICS_TLS_CERT_FILE" "value" (printf "%s/tls.crt" (include "streamlane.secretDir" "metrics-tls"))) }}
{{- $env = append $env (dict "name" "STREAMLANE_METRICS_TLS_KEY_FILE" "value" (printf "%s/tls.key" (include "streamlane.secretDir" "metrics-tls"))) }}
{{- end }}
{{- with .Values.scaler.reportTokenSecret.name }}
{{- $env = append $env (include "streamlane.reportTokenEnv" $ | fromYaml) }}
{{- end }}
{{- $env = concat $env (include "streamlane.kafkaEnv" . | fromYamlArray) }}
{{- if and .Values.scaler.enabled .Values.scaler.reportFromApp }}
{{- $env = append $env (dict "name" "STREAMLANE_SCALER_URL" "value" (printf "http://%s.%s.svc:%v" (include "streamlane.scalerName" .) .Release.Namespace .Values.scaler.httpPort)) }}
{{- end }}
{{- include "streamlane.mergeEnv" (dict "chart" $env "user" .Values.env) }}
{{- end }}

{{/* The scaler's configuration the chart owns (docs/keda.md's flag table). */}}
{{- define "streamlane.scalerEnv" -}}
{{- $s := .Values.scaler }}
{{- $env := list
  (dict "name" "STREAMLANE_SCALER_HOST" "value" "0.0.0.0")
  (dict "name" "STREAMLANE_SCALER_GRPC_PORT" "value" (toString $s.grpcPort))
  (dict "name" "STREAMLANE_SCALER_HTTP_PORT" "value" (toString $s.httpPort))
  (dict "name" "KAFKA_BROKERS" "value" (default .Values.kafka.bootstrapServers .Values.autoscaling.bootstrapServers))
  (dict "name" "STREAMLANE_LOG_LEVEL" "value" $s.logLevel)
}}
{{- with $s.reportTokenSecret.name }}
{{- $env = append $env (include "streamlane.reportTokenEnv" $ | fromYaml) }}
{{- end }}
{{- $env = concat $env (include "streamlane.kafkaEnv" . | fromYamlArray) }}
{{- include "streamlane.mergeEnv" (dict "chart" $env "user" $s.env) }}
{{- end }}

{{/* Where a Secret the chart mounts lives in a container: /etc/streamlane/<purpose>. */}}
{{- define "streamlane.secretDir" -}}
/etc/streamlane/{{ . }}
{{- end }}

{{/* The report token file: the app sends it, the scaler requires it; both read the same variable. */}}
{{- define "streamlane.reportTokenEnv" -}}
name: STREAMLANE_SCALER_REPORT_TOKEN_FILE
value: {{ printf "%s/%s" (include "streamlane.secretDir" "report-token") .Values.scaler.reportTokenSecret.key }}
{{- end }}

{{/*
Volumes and mounts of the Secrets the chart's values name, as a YAML map {volumes: [...], mounts: [...]}.
Takes (dict "secrets" (list (dict "purpose" p "secretName" n) ...)); entries with an empty name are skipped.
*/}}
{{- define "streamlane.secretVolumes" -}}
{{- $volumes := list }}
{{- $mounts := list }}
{{- range .secrets }}
{{- if .secretName }}
{{- $volumes = append $volumes (dict "name" .purpose "secret" (dict "secretName" .secretName)) }}
{{- $mounts = append $mounts (dict "name" .purpose "mountPath" (include "streamlane.secretDir" .purpose) "readOnly" true) }}
{{- end }}
{{- end }}
{{- dict "volumes" $volumes "mounts" $mounts | toYaml }}
{{- end }}

{{- define "streamlane.kafkaSecrets" -}}
{{- $k := .Values.kafka -}}
{{- list
  (dict "purpose" "kafka-sasl-password" "secretName" $k.sasl.passwordSecret.name)
  (dict "purpose" "kafka-oauthbearer" "secretName" $k.sasl.oauthBearerTokenSecret.name)
  (dict "purpose" "kafka-ca" "secretName" $k.tls.caSecret.name)
  (dict "purpose" "kafka-client-tls" "secretName" $k.tls.clientCertSecret)
| toYaml }}
{{- end }}

{{- define "streamlane.appSecretVolumes" -}}
{{- include "streamlane.secretVolumes" (dict "secrets" (concat (list
  (dict "purpose" "metrics-token" "secretName" .Values.app.metricsTokenSecret.name)
  (dict "purpose" "metrics-tls" "secretName" .Values.app.metricsTlsSecret)
  (dict "purpose" "report-token" "secretName" .Values.scaler.reportTokenSecret.name)
) (include "streamlane.kafkaSecrets" . | fromYamlArray))) }}
{{- end }}

{{- define "streamlane.scalerSecretVolumes" -}}
{{- include "streamlane.secretVolumes" (dict "secrets" (concat (list
  (dict "purpose" "report-token" "secretName" .Values.scaler.reportTokenSecret.name)
) (include "streamlane.kafkaSecrets" . | fromYamlArray))) }}
{{- end }}

{{/* The Kafka connection settings, for the app and the scaler alike (they read the same KAFKA_* variables). */}}
{{- define "streamlane.kafkaEnv" -}}
{{- $k := .Values.kafka }}
{{- $env := list }}
{{- with $k.securityProtocol }}{{ $env = append $env (dict "name" "KAFKA_SECURITY_PROTOCOL" "value" .) }}{{ end }}
{{- with $k.sasl.mechanism }}{{ $env = append $env (dict "name" "KAFKA_SASL_MECHANISM" "value" .) }}{{ end }}
{{- with $k.sasl.username }}{{ $env = append $env (dict "name" "KAFKA_SASL_USERNAME" "value" .) }}{{ end }}
{{- if $k.sasl.passwordSecret.name }}
{{- $env = append $env (dict "name" "KAFKA_SASL_PASSWORD_FILE" "value" (printf "%s/%s" (include "streamlane.secretDir" "kafka-sasl-password") $k.sasl.passwordSecret.key)) }}
{{- end }}
{{- if $k.sasl.oauthBearerTokenSecret.name }}
{{- $env = append $env (dict "name" "KAFKA_SASL_OAUTHBEARER_TOKEN_FILE" "value" (printf "%s/%s" (include "streamlane.secretDir" "kafka-oauthbearer") $k.sasl.oauthBearerTokenSecret.key)) }}
{{- end }}
{{- if $k.tls.caSecret.name }}
{{- $env = append $env (dict "name" "KAFKA_SSL_CA_FILE" "value" (printf "%s/%s" (include "streamlane.secretDir" "kafka-ca") $k.tls.caSecret.key)) }}
{{- end }}
{{- if $k.tls.clientCertSecret }}
{{- $env = append $env (dict "name" "KAFKA_SSL_CERT_FILE" "value" (printf "%s/tls.crt" (include "streamlane.secretDir" "kafka-client-tls"))) }}
{{- $env = append $env (dict "name" "KAFKA_SSL_KEY_FILE" "value" (printf "%s/tls.key" (include "streamlane.secretDir" "kafka-client-tls"))) }}
{{- end }}
{{- if not (kindIs "invalid" $k.tls.endpointIdentification) }}
{{- $env = append $env (dict "name" "KAFKA_SSL_ENDPOINT_IDENTIFICATION" "value" (toString $k.tls.endpointIdentification)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}
