"""Request and response schemas, one module per resource (as the blueprints are).
Inputs refuse unknown fields (`common.InputSchema`)."""
