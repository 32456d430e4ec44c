"""Heroku: the account of the API key. Docs: https://devcenter.heroku.com/articles/platform-api-reference#account-info"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="heroku",
        rule_ids=("heroku-api-key-v2", "heroku-api-key"),
        base="https://api.heroku.com",
        path="/account",
        expect_path="id",
        extra_headers={"Accept": "application/vnd.heroku+json; version=3"},
        identity={"user": "email", "account": "id"},
    )
]
