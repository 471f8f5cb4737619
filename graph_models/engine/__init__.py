"""The coverage engine the service runs: DESIGN.md's coverage semantics on arrays.

Every pass over companies or links is a numpy or `scipy.sparse.csgraph` call, so a
million links take milliseconds. The networkx implementation in `graph_models.reference`
is the oracle this is checked against on random graphs, not what runs.

Layers, each rebuilt only when what it depends on changes:

* `network` -- `CompactNetwork`: companies and links as integer arrays (changes with the
  network); `search`: breadth-first reachability and link distances over them;
  `components`: the DAG of strongly connected components and path sums over it.
* `scope` -- `RequestScope`: one request over the network: tiers, the request subgraph,
  its component DAG and path totals.
* `ledger` -- `RequestLedger`: the request's cascade events and answers, folded for
  "now" (earliest forward per link, current answer per company); `columns`: the
  append-only event columns that successive ledgers share.
* `analysis` -- `ArrayAnalysis`: states, covered set and path counts at one instant;
  `advance`: `analyse`, which carries the previous analysis forward over new answers and
  the clock instead of recomputing; `gaps`: break points and their impact; `paths`:
  uncovered paths one page at a time.

Each compute function has an ``is_*`` checker beside it (networkx's ``min_edge_cover`` /
``is_edge_cover`` style) that tests use as a judge. Times are integer microseconds since
the epoch (UTC). The engine imports nothing of the service and nothing of the reference.

Examples
--------
>>> from datetime import UTC, datetime
>>> from graph_models.models import PolicyRequest, to_epoch_us
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> us = to_epoch_us(t)
>>> net = CompactNetwork.build({"f": "manufacturer", "s": "smelter"},
...                            [("f", "s", "raw_materials")])
>>> scope = RequestScope(net, PolicyRequest(id="cm", topic="conflict_minerals",
...     title="3TG", issuer_id="f", issued_at=t))
>>> analyse(RequestLedger.of(scope, [("f", "s", us)], [("s", "accepted", us, 1)]), t).covered
array([ True,  True])
"""

from graph_models.engine.advance import analyse
from graph_models.engine.analysis import (
    STATE_CODE,
    STATES,
    ArrayAnalysis,
    are_path_counts,
    is_covered_mask,
)
from graph_models.engine.components import ComponentDag, are_path_sums, is_height_labelling
from graph_models.engine.gaps import is_gap_list
from graph_models.engine.ledger import (
    ACK_STATUSES,
    NEVER,
    RequestLedger,
    is_folded,
)
from graph_models.engine.network import CompactNetwork
from graph_models.engine.paths import (
    UncoveredPath,
    chain_to,
    is_chain_to,
    is_uncovered_path,
    uncovered_page,
)
from graph_models.engine.scope import RequestScope, is_request_subgraph
from graph_models.engine.search import (
    distances_from,
    is_reachable_mask,
    is_shortest_distance_labelling,
)

__all__ = [
    "ACK_STATUSES",
    "NEVER",
    "STATES",
    "STATE_CODE",
    "ArrayAnalysis",
    "CompactNetwork",
    "ComponentDag",
    "RequestLedger",
    "RequestScope",
    "UncoveredPath",
    "analyse",
    "are_path_counts",
    "are_path_sums",
    "chain_to",
    "distances_from",
    "is_chain_to",
    "is_covered_mask",
    "is_folded",
    "is_gap_list",
    "is_height_labelling",
    "is_reachable_mask",
    "is_request_subgraph",
    "is_shortest_distance_labelling",
    "is_uncovered_path",
    "uncovered_page",
]
