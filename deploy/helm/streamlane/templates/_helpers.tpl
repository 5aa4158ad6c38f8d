{{/* Names and labels, as `helm create` makes them. */}}
{{- define "streamlane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* StatefulSet pod names get "-<ordinal>" and the pods a controller-revision-hash label: leave room (52). */}}
{{- define "streamlane.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "streamlane.scalerName" -}}
{{- printf "%s-scaler" (include "streamlane.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamlane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "streamlane.name" . }}
{{- end }}

{{- define "streamlane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamlane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: app
{{- end }}

{{- define "streamlane.scalerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "streamlane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: scaler
{{- end }}

{{- define "streamlane.image" -}}
{{- printf "%s:%s" .image.repository (default .appVersion .image.tag) }}
{{- end }}

{{/*
The pod's grace period: the app's close (shutdownTimeoutMs) plus a margin for the process to exit. A value set by
hand must leave the close its whole budget, or Kubernetes kills the app before its final commit.
*/}}
{{- define "streamlane.terminationGracePeriodSeconds" -}}
{{- $shutdownSeconds := divf .Values.app.shutdownTimeoutMs 1000 | ceil | int }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $shutdownSeconds 15 }}
{{- else }}
{{- $grace := .Values.terminationGracePeriodSeconds | int }}
{{- if le $grace $shutdownSeconds }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above app.shutdownTimeoutMs (%v ms = %d s): Kubernetes would kill the app before its final commit; raise it or leave it null to derive it" $grace .Values.app.shutdownTimeoutMs $shutdownSeconds) }}
{{- end }}
{{- $grace }}
{{- end }}
{{- end }}

{{/* The scaler's gRPC address for the trigger: set by hand, or this release's scaler. */}}
{{- define "streamlane.scalerAddress" -}}
{{- if .Values.autoscaling.scalerAddress }}
{{- .Values.autoscaling.scalerAddress }}
{{- else if .Values.scaler.enabled }}
{{- printf "%s.%s.svc:%v" (include "streamlane.scalerName" .) .Release.Namespace .Values.scaler.grpcPort }}
{{- else }}
{{- fail "autoscaling.scalerAddress is required when scaler.enabled is false: the host:port of a running `streamlane scaler` (gRPC)" }}
{{- end }}
{{- end }}
