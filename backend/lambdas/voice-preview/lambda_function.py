"""voice-preview: synthesize voice previews (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import preview

app = create_app()
app.include_router(preview.router)
lambda_handler = handler(app)
