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
{{- include "streamlane.mergeEnv" (dict "chart" $env "user" $s.env) }}
{{- end }}
