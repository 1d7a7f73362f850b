"""The control plane as a node sees it, one module per component: client-go's token-bucket rate
limiter (``ratelimit``), the apiserver (``apiserver``), kube-scheduler (``scheduler``) and the
ReplicaSet / Deployment controllers (``replicaset``)."""
