"""Extensions, created unbound here and bound to the app in `create_app`.

The smorest `Api` lives with the HTTP layer (`ledger.api.api`)."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from ledger.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
