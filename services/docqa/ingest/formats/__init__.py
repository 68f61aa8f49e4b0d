"""Files -> sections of text: plain text, Markdown, HTML, PDF, Word and PowerPoint."""
