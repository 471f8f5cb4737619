"""The networkx reference implementation of DESIGN.md's coverage semantics.

This is the oracle the production engine (`graph_models.engine`) is checked against on
random graphs, not what the service runs: plain networkx, one dict per company, written
for clarity. `analysis` holds states, coverage, tiers and gaps; `paths` the exact path
counts and paginated listing of uncovered paths.
"""
