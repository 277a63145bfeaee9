"""Jinja templates that symbp renders: the generated NumPy module."""
