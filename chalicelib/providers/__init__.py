"""Adapters behind the pipeline's outside-world ports (background removal)."""
