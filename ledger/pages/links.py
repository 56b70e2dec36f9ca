"""Addresses the service prints or sends: they start with PUBLIC_BASE_URL."""

from flask import current_app

SIGN_IN_PATHS = {"operator": "/console/sign-in/", "portal": "/portal/sign-in/"}


def sign_in_url(kind: str, token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + SIGN_IN_PATHS[kind] + token
