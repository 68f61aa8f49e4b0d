"""docqa: answer questions about your own documents (retrieval-augmented generation)."""

__version__ = "0.1.0"
