"""Type declarations shared by the extension modules (``from _common cimport real_t``)."""
from libc.stdint cimport int32_t, int64_t

# Floating-point inputs: float32 data stay float32 (half the memory traffic), float64 as given.
ctypedef fused real_t:
    float
    double

# Indices of neighbours and CSR columns: int32 where N < 2^31 suffices, int64 otherwise.
ctypedef fused index_t:
    int32_t
    int64_t
