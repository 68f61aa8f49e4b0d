"""Settings, domain types, the error tree, the ports, logs and metrics: what both paths share (no
I/O)."""
