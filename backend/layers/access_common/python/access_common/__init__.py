"""Shared access layer: identity, errors, envelope, RLS transactions, pagination.

Submodules are imported explicitly (``from access_common.db import user_tx``) so a Lambda pays only for
what its routes use at cold start.
"""
