{{- define "pcsupport.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pcsupport.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "pcsupport.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "pcsupport.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "pcsupport.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pcsupport.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pcsupport.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "pcsupport.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Service names are DNS labels: 63 characters at most. */}}
{{- define "pcsupport.notRoutedName" -}}
{{- printf "%s-not-routed" (include "pcsupport.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "pcsupport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pcsupport.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest (with the tag kept for readers) when a digest is given. */}}
{{- define "pcsupport.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The public URL's path, always ending in "/" (the app's BasePath). */}}
{{- define "pcsupport.basePath" -}}
{{- $path := "/" }}
{{- if .Values.publicUrl }}
{{- $path = (urlParse .Values.publicUrl).path | default "/" }}
{{- end }}
{{- if not (hasSuffix "/" $path) }}{{ $path = printf "%s/" $path }}{{ end }}
{{- $path }}
{{- end }}

{{/* Where the app mounts its routes (healthz, readyz, metrics included): the base path, or "/"
when the proxy strips the prefix. Mirrors routePrefix in internal/config. */}}
{{- define "pcsupport.routePrefix" -}}
{{- if .Values.proxyStripsPrefix }}/{{ else }}{{ include "pcsupport.basePath" . }}{{ end }}
{{- end }}

{{- define "pcsupport.oauth2Proxy" -}}
{{- if and .Values.ingress.enabled .Values.ingress.oauth2Proxy.enabled }}true{{ end }}
{{- end }}

{{/* The identity header: the value given, else oauth2-proxy's X-Auth-Request-Email when the
Ingress authenticates through it. The Ingress passes on exactly this header. */}}
{{- define "pcsupport.identityHeader" -}}
{{- if .Values.identityHeader }}{{ .Values.identityHeader }}
{{- else if include "pcsupport.oauth2Proxy" . }}X-Auth-Request-Email
{{- end }}
{{- end }}

{{- define "pcsupport.sessionKeysSecret" -}}
{{- .Values.secrets.sessionKeys.secretName | default (printf "%s-session-keys" (include "pcsupport.fullname" .)) }}
{{- end }}

{{/* The secrets mounted as files: name (volume and directory), the app's variable, Secret, key. */}}
{{- define "pcsupport.secretFiles" -}}
{{- $s := .Values.secrets }}
{{- $files := list (dict "name" "session-keys" "env" "PCS_SESSION_KEYS_FILE" "secretName" (include "pcsupport.sessionKeysSecret" .) "key" $s.sessionKeys.key) }}
{{- if $s.redisUrl.secretName }}
{{- $files = append $files (dict "name" "redis-url" "env" "PCS_REDIS_URL_FILE" "secretName" $s.redisUrl.secretName "key" $s.redisUrl.key) }}
{{- end }}
{{- if $s.databaseUrl.secretName }}
{{- $files = append $files (dict "name" "database-url" "env" "PCS_DATABASE_URL_FILE" "secretName" $s.databaseUrl.secretName "key" $s.databaseUrl.key) }}
{{- end }}
{{- if $s.clientCertificate.secretName }}
{{- $files = append $files (dict "name" "client-certificate" "env" "PCS_CLIENT_CERTIFICATE_FILE" "secretName" $s.clientCertificate.secretName "key" $s.clientCertificate.key) }}
{{- end }}
{{- if $s.clientCertificatePassword.secretName }}
{{- $files = append $files (dict "name" "client-certificate-password" "env" "PCS_CLIENT_CERTIFICATE_PASSWORD_FILE" "secretName" $s.clientCertificatePassword.secretName "key" $s.clientCertificatePassword.key) }}
{{- end }}
{{- if $s.clientSecret.secretName }}
{{- $files = append $files (dict "name" "client-secret" "env" "PCS_CLIENT_SECRET_FILE" "secretName" $s.clientSecret.secretName "key" $s.clientSecret.key) }}
{{- end }}
{{- if $s.notifyWebhooks.secretName }}
{{- $files = append $files (dict "name" "notify-webhooks" "env" "PCS_NOTIFY_WEBHOOKS_FILE" "secretName" $s.notifyWebhooks.secretName "key" $s.notifyWebhooks.key) }}
{{- end }}
{{- if $s.notifySecret.secretName }}
{{- $files = append $files (dict "name" "notify-secret" "env" "PCS_NOTIFY_SECRET_FILE" "secretName" $s.notifySecret.secretName "key" $s.notifySecret.key) }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* Misconfigurations the app would only report at start, or not at all, stop the install. */}}
{{- define "pcsupport.validate" -}}
{{- $v := .Values }}
{{- $credentials := 0 }}
{{- range (list $v.workloadIdentity.enabled $v.clientAssertion.enabled $v.secrets.clientCertificate.secretName $v.secrets.clientSecret.secretName) }}
{{- if . }}{{ $credentials = add1 $credentials }}{{ end }}
{{- end }}
{{- if gt $credentials 1 }}
{{- fail "set exactly one client credential: workloadIdentity, clientAssertion, secrets.clientCertificate or secrets.clientSecret" }}
{{- end }}
{{- if and $v.secrets.clientCertificatePassword.secretName (not $v.secrets.clientCertificate.secretName) }}
{{- fail "secrets.clientCertificatePassword needs secrets.clientCertificate" }}
{{- end }}
{{- if and $v.workloadIdentity.enabled (not $v.clientId) }}
{{- fail "workloadIdentity needs clientId: the service account's azure.workload.identity/client-id" }}
{{- end }}
{{- if not (has $v.sessionStore (list "filesystem" "redis")) }}
{{- fail "sessionStore must be filesystem or redis" }}
{{- end }}
{{- if and (eq $v.sessionStore "redis") (not $v.secrets.redisUrl.secretName) }}
{{- fail "sessionStore redis needs secrets.redisUrl" }}
{{- end }}
{{- if gt (int $v.replicaCount) 1 }}
{{- if ne $v.sessionStore "redis" }}
{{- fail "two or more replicas need sessionStore redis: each replica would keep sessions of its own" }}
{{- end }}
{{- if not $v.secrets.databaseUrl.secretName }}
{{- fail "two or more replicas need secrets.databaseUrl (PostgreSQL): each replica would keep a change history of its own" }}
{{- end }}
{{- if and $v.persistence.enabled (not $v.persistence.existingClaim) }}
{{- fail "persistence makes one ReadWriteOnce claim: it serves one replica only" }}
{{- end }}
{{- end }}
{{- if and (include "pcsupport.identityHeader" .) (not $v.trustedProxies) }}
{{- fail "the identity header needs trustedProxies: the ingress controller's pod network" }}
{{- end }}
{{- if $v.ingress.enabled }}
{{- if not $v.publicUrl }}
{{- fail "ingress needs publicUrl: its host and path" }}
{{- end }}
{{- if $v.proxyStripsPrefix }}
{{- fail "the Ingress passes the path prefix on: proxyStripsPrefix must be false" }}
{{- end }}
{{- end }}
{{- if and $v.publicUrl (not (regexMatch "^https?://[^/?#]+(/[^?#]*)?$" $v.publicUrl)) }}
{{- fail "publicUrl must be an absolute http(s) URL without query or fragment, e.g. https://tools.example.com/partner/support/" }}
{{- end }}
{{- end }}
