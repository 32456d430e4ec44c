"""npm: the registry's whoami for the token. Docs: https://docs.npmjs.com/cli/v10/commands/npm-whoami"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="npm",
        rule_ids=("npm-access-token", "npm-json-auth-token"),
        base="https://registry.npmjs.org",
        path="/-/whoami",
        expect_path="username",
        identity={"user": "username"},
    )
]
