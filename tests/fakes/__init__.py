"""Real HTTP servers on 127.0.0.1 standing in for external SaaS in tests."""
