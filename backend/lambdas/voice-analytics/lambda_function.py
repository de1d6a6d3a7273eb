"""voice-analytics: analytics and org statistics (routes and logic live in voice_common.api)."""

from access_common.app import create_app, handler
from voice_common.api import analytics

app = create_app()
app.include_router(analytics.router)
lambda_handler = handler(app)
