"""Image features shared by several detectors (computed on batches of torch tensors)."""

from .filters import blur3x3, highpass_residual

__all__ = ["blur3x3", "highpass_residual"]
