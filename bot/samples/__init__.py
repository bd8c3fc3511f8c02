"""Small feeds bundled for `newsbot demo` (and its tests)."""
