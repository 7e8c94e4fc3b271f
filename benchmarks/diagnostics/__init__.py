"""Diagnostics of the stack: :mod:`.dist_exit` (the distributed exit
abort)."""
