"""The prepaid-credit ledger service.

The app is built by `ledger.app.create_app`; importing this package loads nothing else,
so the pure core (`ledger.domain`) can be imported without Flask or SQLAlchemy.
"""
