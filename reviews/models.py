"""The review queue works on versions.Version; reviews has no tables of its own yet."""
