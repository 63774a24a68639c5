"""The fast explicit-state engine: numba kernels over states packed into 64-bit words."""
