"""The voice domain: settings, models, repositories, services, integrations and route routers."""
