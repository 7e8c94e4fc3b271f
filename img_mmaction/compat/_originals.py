"""The upstream objects the fixes replaced, by a short name.

Tests call them to show that each defect is real (the original fails) and
the fix active (the replacement works).
"""
from typing import Any, Dict

ORIGINALS: Dict[str, Any] = {}
