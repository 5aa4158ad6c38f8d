{{/*
Secrets the values name are mounted read-only at /etc/streamlane/<purpose>, and Streamlane is given the files'
paths (the *_FILE variables), never the secrets themselves: they stay out of the pod spec and `kubectl describe`,
and a rotated Secret reaches the files without a restart.
*/}}
{{- define "streamlane.secretDir" -}}
/etc/streamlane/{{ . }}
{{- end }}

{{/* An env entry pointing at a file of a mounted Secret. Takes (dict "name" VAR "purpose" p "key" file). */}}
{{- define "streamlane.fileEnv" -}}
{{- dict "name" .name "value" (printf "%s/%s" (include "streamlane.secretDir" .purpose) .key) | toYaml }}
{{- end }}

{{/*
Volumes and mounts for a list of (dict "purpose" p "secretName" n), as {volumes: [...], mounts: [...]}; entries with
an empty name are skipped.
*/}}
{{- define "streamlane.secretVolumes" -}}
{{- $volumes := list }}
{{- $mounts := list }}
{{- range . }}
{{- if .secretName }}
{{- $volumes = append $volumes (dict "name" .purpose "secret" (dict "secretName" .secretName)) }}
{{- $mounts = append $mounts (dict "name" .purpose "mountPath" (include "streamlane.secretDir" .purpose) "readOnly" true) }}
{{- end }}
{{- end }}
{{- dict "volumes" $volumes "mounts" $mounts | toYaml }}
{{- end }}

{{/*
The report token's Secret: the one named, else the one the chart generates when this release's scaler takes the
app's reports (it refuses every report without a token), else none.
*/}}
{{- define "streamlane.reportTokenSecretName" -}}
{{- if .Values.scaler.reportTokenSecret.name }}
{{- .Values.scaler.reportTokenSecret.name }}
{{- else if and .Values.scaler.enabled .Values.scaler.reportFromApp }}
{{- printf "%s-report-token" (include "streamlane.fullname" .) }}
{{- end }}
{{- end }}

{{- define "streamlane.appSecrets" -}}
{{- concat (list
  (dict "purpose" "metrics-token" "secretName" .Values.app.metricsTokenSecret.name)
  (dict "purpose" "metrics-tls" "secretName" .Values.app.metricsTlsSecret)
  (dict "purpose" "report-token" "secretName" (include "streamlane.reportTokenSecretName" .))
  (dict "purpose" "scaler-ca" "secretName" .Values.scaler.tls.caSecret.name)
) (include "streamlane.kafkaSecrets" . | fromYamlArray) | toYaml }}
{{- end }}

{{- define "streamlane.scalerSecrets" -}}
{{- concat (list
  (dict "purpose" "report-token" "secretName" (include "streamlane.reportTokenSecretName" .))
  (dict "purpose" "scaler-metrics-token" "secretName" .Values.scaler.metricsTokenSecret.name)
  (dict "purpose" "scaler-tls" "secretName" .Values.scaler.tls.secretName)
  (dict "purpose" "scaler-client-ca" "secretName" .Values.scaler.tls.clientCaSecret.name)
) (include "streamlane.kafkaSecrets" . | fromYamlArray) | toYaml }}
{{- end }}
