"""Built-in example specs, shipped as TOML files beside this module."""
