"""Fail when a wheel is larger than the limit a user downloads without noticing (2.5 MB)."""
import os
import sys

LIMIT_BYTES = 2_500_000

status = 0
for path in sys.argv[1:]:
    size = os.path.getsize(path)
    print(f"{os.path.basename(path)}: {size / 1e6:.2f} MB (limit {LIMIT_BYTES / 1e6:.1f} MB)")
    status |= size > LIMIT_BYTES
sys.exit(status)
