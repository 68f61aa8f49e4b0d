"""The question path, second half: ranked chunks -> a cited answer from the generator."""
