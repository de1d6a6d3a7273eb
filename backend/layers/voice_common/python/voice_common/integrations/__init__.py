"""Clients for the external services module-voice talks to (Daily, Deepgram, Cartesia).

Outbound HTTP uses urllib3 (shipped with botocore in the Lambda runtime) with explicit timeouts and
bounded retries; every base URL is configurable so tests point them at servers on 127.0.0.1.
"""
