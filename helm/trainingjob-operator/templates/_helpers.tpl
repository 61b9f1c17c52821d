{{- define "trainingjob-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "trainingjob-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "trainingjob-operator.labels" -}}
app.kubernetes.io/name: {{ include "trainingjob-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "trainingjob-operator.selector" -}}
app.kubernetes.io/name: {{ include "trainingjob-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Every operator pod of the release, whatever its shard: what the metrics Service and the outputs volume's affinity select. */}}
{{- define "trainingjob-operator.allShards" -}}
trainingjob.dev/operator: {{ include "trainingjob-operator.fullname" . }}
{{- end -}}

{{/* The Deployment of a shard, given (dict "root" $ "shard" NAME); "" is the default shard, named as before shards. */}}
{{- define "trainingjob-operator.shardFullname" -}}
{{- if .shard -}}
{{- printf "%s-%s" (include "trainingjob-operator.fullname" .root) .shard | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "trainingjob-operator.fullname" .root -}}
{{- end -}}
{{- end -}}

{{/* A shard's Deployment selector. The default shard's is what it was before shards (a Deployment's selector cannot change);
     another shard's pods do not carry the instance label, so the default's selector never matches them: no two Deployments
     select each other's pods. */}}
{{- define "trainingjob-operator.shardSelector" -}}
{{- if .shard -}}
app.kubernetes.io/name: {{ include "trainingjob-operator.name" .root }}
{{ include "trainingjob-operator.allShards" .root }}
trainingjob.dev/operator-shard: {{ .shard }}
{{- else -}}
{{ include "trainingjob-operator.selector" .root }}
{{- end -}}
{{- end -}}

{{/* A shard's pod labels: its selector, the release's common label, and the shard's name (default for the default). */}}
{{- define "trainingjob-operator.shardPodLabels" -}}
{{- if .shard -}}
{{ include "trainingjob-operator.shardSelector" . }}
{{- else -}}
{{ include "trainingjob-operator.selector" .root }}
{{ include "trainingjob-operator.allShards" .root }}
trainingjob.dev/operator-shard: default
{{- end -}}
{{- end -}}

{{- define "trainingjob-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "trainingjob-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The rules the operator needs on jobs, Secrets, ConfigMaps and Events (deploy/clusterrole.yaml). */}}
{{- define "trainingjob-operator.jobRules" -}}
- apiGroups: ["trainingjob.dev"]
  resources: ["trainingjobs"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["trainingjob.dev"]
  resources: ["trainingjobs/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["trainingjob.dev"]
  resources: ["trainingjobs/finalizers"]
  verbs: ["update"]
- apiGroups: ["trainingjob.dev"]
  resources: ["trainingbudgets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["trainingjob.dev"]
  resources: ["trainingbudgets/status"]
  verbs: ["patch", "update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
{{- end -}}

{{- define "trainingjob-operator.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end -}}

{{/* The claim collected outputs live on: the user's, or the one the chart makes. */}}
{{- define "trainingjob-operator.outputsClaim" -}}
{{- default (printf "%s-outputs" (include "trainingjob-operator.fullname" .)) .Values.outputs.persistence.existingClaim -}}
{{- end -}}

{{/* Non-empty when the collected outputs are on a ReadWriteOnce volume: one node mounts it at a time. */}}
{{- define "trainingjob-operator.outputsOnOneNode" -}}
{{- if and .Values.outputs.persistence.enabled (eq .Values.outputs.persistence.accessMode "ReadWriteOnce") -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the outputs endpoint's token (the plugin derives the name from the metrics Service's). */}}
{{- define "trainingjob-operator.outputsTokenSecret" -}}
{{- printf "%s-outputs-token" (include "trainingjob-operator.fullname" .) -}}
{{- end -}}

{{/* What `kubectl trainingjob outputs` needs in the operator's namespace: the service proxy to its metrics Service,
     named as the plugin names it (NAME:PORT) and bare (RBAC matches the proxied name exactly), and the token the
     endpoint asks for, from its one Secret. */}}
{{- define "trainingjob-operator.outputsReaderRules" -}}
- apiGroups: [""]
  resources: ["services/proxy"]
  resourceNames: ["{{ include "trainingjob-operator.fullname" . }}-metrics:metrics", "{{ include "trainingjob-operator.fullname" . }}-metrics"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["{{ include "trainingjob-operator.outputsTokenSecret" . }}"]
  verbs: ["get"]
{{- end -}}
