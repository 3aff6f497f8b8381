"""subjectline: thematic, safe, measured LLM subject lines for marketing emails."""

__version__ = "0.1.0"
