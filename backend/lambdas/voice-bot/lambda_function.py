"""voice-bot: bot lifecycle callbacks, authenticated by the per-session bot token."""

from access_common.app import create_app, handler
from voice_common.api import bot

app = create_app()
app.include_router(bot.router)
lambda_handler = handler(app)
