"""One module per provider; `ALL_VALIDATORS` is what the default registry holds."""

from __future__ import annotations

from scanner.validate.base import Validator
from scanner.validate.providers import (
    anthropic,
    atlassian,
    aws,
    azure,
    bitbucket,
    cloudflare,
    cohere,
    datadog,
    db,
    digitalocean,
    discord,
    docker,
    gcp,
    github,
    gitlab,
    googleai,
    grafana,
    groq,
    heroku,
    huggingface,
    langchain,
    linear,
    mailgun,
    mistral,
    newrelic,
    notion,
    npm,
    openai,
    pagerduty,
    paypal,
    pinecone,
    pypi,
    replicate,
    sendgrid,
    sentry,
    shopify,
    slack,
    square,
    stripe,
    telegram,
    twilio,
)

MODULES = (
    anthropic, atlassian, aws, azure, bitbucket, cloudflare, cohere, datadog, db, digitalocean, discord, docker,
    gcp, github, gitlab, googleai, grafana, groq, heroku, huggingface, langchain, linear, mailgun, mistral,
    newrelic, notion, npm, openai, pagerduty, paypal, pinecone, pypi, replicate, sendgrid, sentry, shopify, slack,
    square, stripe, telegram, twilio,
)

ALL_VALIDATORS: list[Validator] = [validator for module in MODULES for validator in module.VALIDATORS]
