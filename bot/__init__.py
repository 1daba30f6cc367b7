"""rolebot: answers questions about the IT Project Manager and IT Manager roles."""

__version__ = "0.1.0"
