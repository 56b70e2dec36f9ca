"""The gateway registry: adapters by name, built once per app from its config.

A new gateway is one module with a `PaymentGateway` subclass and one line here.
"""

import importlib

from flask import current_app

from ledger.errors import ProviderUnavailable
from ledger.gateways.base import PaymentGateway

GATEWAYS = {
    "stripe": "ledger.gateways.stripe:StripeGateway",
    "portone": "ledger.gateways.portone:PortOneGateway",
}


def get_gateway(name: str) -> PaymentGateway:
    """The configured adapter for this gateway name.

    Raises:
        ProviderUnavailable: its keys are not configured.
    """
    built = current_app.extensions.setdefault("gateways", {})
    if name not in built:
        module_name, _, class_name = GATEWAYS[name].partition(":")
        gateway_class = getattr(importlib.import_module(module_name), class_name)
        missing = [k for k in gateway_class.required_settings if not current_app.config.get(k)]
        if missing:
            # Without its keys a gateway is off, never running on a guessable default.
            raise ProviderUnavailable(f"{name} is not configured", provider=name)
        built[name] = gateway_class.from_config(current_app.config)
    return built[name]
