"""The generic HTTP destination: user-configured JSON mappings (see hooks.py)."""
