"""DigitalOcean: the account of the token. Docs: https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="digitalocean",
        rule_ids=("digitalocean-personal-access-token", "digitalocean-oauth-access-token"),
        base="https://api.digitalocean.com",
        path="/v2/account",
        expect_path="account",
        identity={"user": "account.email", "account": "account.uuid", "org": "account.team.name"},
    )
]
