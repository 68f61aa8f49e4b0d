"""The document path: accepted input -> sections -> chunks -> vectors and terms, stored."""
