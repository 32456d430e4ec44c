"""Mistral: list models. Docs: https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(provider="mistral", rule_ids=("mistral-api-key",), base="https://api.mistral.ai", path="/v1/models", expect_path="data")
]
