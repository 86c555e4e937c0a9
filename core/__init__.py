"""The floor every area stands on: errors, YAML with file:line, database base, masking, file stamps.

Nothing here imports any other package of the product (the import contract in pyproject.toml keeps it so).
"""

__version__ = "0.1.0"
