"""Notes Assistant: ranked passages from your own study notes, with citations."""

__version__ = "0.1.0"
