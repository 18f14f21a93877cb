"""The box's schema: typed ORM models (box, reviews) and the Alembic migrations that build them."""
