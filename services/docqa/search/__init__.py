"""The question path, first half: a question -> the ranked chunks that answer it."""
