"""module-voice local stack: API Gateway emulation, embedded services, migrations and seed data."""
