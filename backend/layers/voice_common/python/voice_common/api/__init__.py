"""Powertools ``Router``s, one module per API area; Lambdas include the routers they serve."""
