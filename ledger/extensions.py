"""Extensions, created unbound here and bound to the app in `create_app`."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from ledger.api.errors import LedgerApi
from ledger.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = LedgerApi()
