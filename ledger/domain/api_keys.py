"""What an organisation's API key may be allowed to do."""

API_KEY_SCOPES = ("credits:read", "credits:deduct", "topups:write")
