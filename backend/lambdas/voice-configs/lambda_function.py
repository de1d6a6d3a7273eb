"""voice-configs: interview configurations (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import configs

app = create_app()
app.include_router(configs.router)
lambda_handler = handler(app)
