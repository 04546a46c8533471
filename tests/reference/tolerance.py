"""How far two fp32 computations of the same function may differ (the Python
side of tests/unit/tolerance.h, which says why).

Rounding is relative to the values' magnitude: bounds are fp32 ulps at the
largest |value| compared. WHOLE_MODEL (1024 ulps, 1.2e-4 relative) is for
logits of a whole forward pass computed two ways (transformers/PEFT against
the engine, on whatever CPU this is); a wrong term moves logits by percents.
"""
EPS32 = 2.0 ** -23
WHOLE_MODEL = 1024


def fp32_ulps(ulps, scale):
    """`ulps` ulps of fp32 at magnitude `scale`."""
    return ulps * EPS32 * scale
