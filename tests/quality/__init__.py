"""Test-quality gates: coverage per area (coverage_gate), silent skips (skips), mutation testing."""
