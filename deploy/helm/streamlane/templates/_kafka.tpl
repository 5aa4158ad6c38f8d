{{/* Kafka connection security, for the app and the scaler alike: both read the same KAFKA_* variables. */}}
{{- define "streamlane.kafkaSecrets" -}}
{{- $k := .Values.kafka -}}
{{- list
  (dict "purpose" "kafka-sasl-password" "secretName" $k.sasl.passwordSecret.name)
  (dict "purpose" "kafka-oauthbearer" "secretName" $k.sasl.oauthBearerTokenSecret.name)
  (dict "purpose" "kafka-ca" "secretName" $k.tls.caSecret.name)
  (dict "purpose" "kafka-client-tls" "secretName" $k.tls.clientCertSecret)
| toYaml }}
{{- end }}

{{- define "streamlane.kafkaEnv" -}}
{{- $k := .Values.kafka }}
{{- $env := list }}
{{- with $k.securityProtocol }}{{ $env = append $env (dict "name" "KAFKA_SECURITY_PROTOCOL" "value" .) }}{{ end }}
{{- with $k.sasl.mechanism }}{{ $env = append $env (dict "name" "KAFKA_SASL_MECHANISM" "value" .) }}{{ end }}
{{- with $k.sasl.username }}{{ $env = append $env (dict "name" "KAFKA_SASL_USERNAME" "value" .) }}{{ end }}
{{- if $k.sasl.passwordSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "KAFKA_SASL_PASSWORD_FILE" "purpose" "kafka-sasl-password" "key" $k.sasl.passwordSecret.key) | fromYaml) }}
{{- end }}
{{- if $k.sasl.oauthBearerTokenSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "KAFKA_SASL_OAUTHBEARER_TOKEN_FILE" "purpose" "kafka-oauthbearer" "key" $k.sasl.oauthBearerTokenSecret.key) | fromYaml) }}
{{- end }}
{{- if $k.tls.caSecret.name }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "KAFKA_SSL_CA_FILE" "purpose" "kafka-ca" "key" $k.tls.caSecret.key) | fromYaml) }}
{{- end }}
{{- if $k.tls.clientCertSecret }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "KAFKA_SSL_CERT_FILE" "purpose" "kafka-client-tls" "key" "tls.crt") | fromYaml) }}
{{- $env = append $env (include "streamlane.fileEnv" (dict "name" "KAFKA_SSL_KEY_FILE" "purpose" "kafka-client-tls" "key" "tls.key") | fromYaml) }}
{{- end }}
{{- if not (kindIs "invalid" $k.tls.endpointIdentification) }}
{{- $env = append $env (dict "name" "KAFKA_SSL_ENDPOINT_IDENTIFICATION" "value" (toString $k.tls.endpointIdentification)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}
