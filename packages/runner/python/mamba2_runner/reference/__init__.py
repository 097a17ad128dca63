"""float64 reference backend, independent of the generated kernels.

scan.py: ref_scan (the sequential recurrence); ops.py: conv, dt, norm;
graph.py: ref_block, which interprets a model's ir.json.
"""
