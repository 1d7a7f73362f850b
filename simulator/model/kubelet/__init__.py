"""The kubelet, laid out as the kubelet is: one module per component (see ``kubelet.py``)."""

from .backoff import Backoff
from .kubelet import Kubelet

__all__ = ["Kubelet", "Backoff"]
