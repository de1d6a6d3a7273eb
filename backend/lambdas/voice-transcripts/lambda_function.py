"""voice-transcripts: transcripts (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import transcripts

app = create_app()
app.include_router(transcripts.router)
lambda_handler = handler(app)
