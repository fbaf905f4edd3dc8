"""Persistence: SQLAlchemy models, migrations, the job queue, search and the services the app uses."""
