"""Notion: the bot user of the integration token. Docs: https://developers.notion.com/reference/get-self"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="notion",
        rule_ids=("notion-integration-token", "notion-legacy-integration-secret"),
        base="https://api.notion.com",
        path="/v1/users/me",
        expect_path="id",
        extra_headers={"Notion-Version": "2022-06-28"},
        identity={"user": "name", "org": "bot.workspace_name", "account": "id"},
    )
]
