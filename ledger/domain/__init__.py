"""The pure core: rules over plain values, importing neither Flask nor SQLAlchemy."""
