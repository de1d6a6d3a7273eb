"""voice-credentials: provider credentials (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import credentials

app = create_app()
app.include_router(credentials.router)
lambda_handler = handler(app)
