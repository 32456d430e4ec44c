"""Groq: list models (OpenAI-compatible). Docs: https://console.groq.com/docs/api-reference#models-list"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(provider="groq", rule_ids=("groq-api-key",), base="https://api.groq.com", path="/openai/v1/models", expect_path="data")
]
