"""The `serve` command (built by the serving issues)."""
