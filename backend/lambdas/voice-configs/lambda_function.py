"""voice-configs: interview configurations and org settings (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import configs, org_settings

app = create_app()
app.include_router(configs.router)
app.include_router(org_settings.router)
lambda_handler = handler(app)
