"""voice-sessions: sessions, knowledge-base links, start, health (routes and logic in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import health, orchestration, sessions

app = create_app()
app.include_router(health.router)
app.include_router(sessions.router)
app.include_router(orchestration.router)
lambda_handler = handler(app)
