"""An incident's exposure for one root company, on the coverage engine's arrays.

Given the supplier network (`CompactNetwork`), a root R, the companies an incident affects
and optionally the link categories to follow:

* exposed: affected companies R reaches (R itself never counts), with their tier (shortest
  link distance from R over the followed links);
* per direct supplier s of R: how many exposed companies s reaches (s included) and the
  smallest tier among them;
* root-to-leaf paths from R, counted exactly as the coverage counts are (dynamic programme
  on the DAG of strongly connected components, a cycle is one group), and those through a
  group holding an exposed company;
* the exposed cone: companies R reaches that reach an exposed company (the survey's
  population).

The graph half (`ExposureBase`: the subgraph R reaches, its component DAG, path totals and
what each direct supplier reaches) depends on the network and R only, so a service keeps it
per network and an incident costs only the passes over its own affected set.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property

import numpy as np

from graph_models.engine import CompactNetwork, RequestScope, reach
from graph_models.engine.network import grouped, starts
from graph_models.engine.search import csr_graph, distances_from, ranges, reachable
from graph_models.models import Applicability, PolicyRequest

__all__ = ["ConeScope", "Exposure", "ExposureBase", "exposure_of", "request_scope"]

_FOLLOW_ALL = datetime(1970, 1, 1, tzinfo=UTC)


class ExposureBase:
    """What R reaches over the followed links: tiers, component DAG, path totals."""

    def __init__(self, network: CompactNetwork, root_id: str,
                 categories: Sequence[str] | None = None,
                 scope: RequestScope | None = None) -> None:
        # The coverage engine's request scope over the followed links is exactly the
        # subgraph the path counts run on: reuse it, so the counts are the coverage counts
        # (`scope`: one already built for the same root, network and links).
        if scope is None:
            follow = PolicyRequest(
                id="exposure", topic="exposure", title="exposure", issuer_id=root_id,
                issued_at=_FOLLOW_ALL, applies_to=Applicability(
                    categories=list(categories) if categories is not None else None))
            scope = RequestScope(network, follow)
        self.scope = scope
        self.network, self.root = scope.network, scope.root
        n = self.network.size
        self.tier = distances_from(csr_graph(n, scope.src, scope.dst), self.root)
        self.dag = scope.dag
        self.suppliers = np.unique(scope.dst[scope.src == self.root])
        self._bits: np.ndarray | None = None
        self._bits_lock = threading.Lock()

    @property
    def keeps_reach_bits(self) -> bool:
        """Whether what each direct supplier reaches fits in `reach.MEMORY_BYTES` as bits
        (178 MB for 4,882 suppliers at a million links); a root with more suppliers times
        groups than that (tens of GB at ten million links) has each exposure counted afresh
        in bounded chunks instead, so a worker's memory never grows with the bits."""
        words = -(-self.suppliers.size // 64)
        return words * self.dag.size * 8 <= reach.MEMORY_BYTES

    @property
    def reach_bits(self) -> np.ndarray:
        """Bit i of word i // 64 set on every group (a column each) that direct supplier i
        reaches; built once and kept, as it does not depend on the incident (only asked
        for when `keeps_reach_bits`), the leaf groups' columns completed as exposures read
        them (`reach.fill_leaves`). A caller that comes while another builds them waits
        for those."""
        with self._bits_lock:
            if self._bits is None:
                self._bits = reach.push_bits(self.dag, self.dag.comp[self.suppliers],
                                             leaves=False)
            return self._bits

    @property
    def has_reach_bits(self) -> bool:
        return self._bits is not None

    def build_reach_bits_meanwhile(self) -> None:
        """Start building the reach bits on a thread, if they are kept and not built yet:
        a first exposure builds them while it reads where companies are."""
        if self.keeps_reach_bits and self._bits is None:
            threading.Thread(target=lambda: self.reach_bits, name="reach-bits",
                             daemon=True).start()

    def supplier_reach(self, exposed: np.ndarray) -> np.ndarray:
        """Per direct supplier: how many of the `exposed` companies it reaches (itself
        included)."""
        if not self.keeps_reach_bits:
            return reach.reach_counts(self.dag, self.suppliers, exposed)
        dag = self.dag
        weight = np.bincount(dag.comp[exposed], minlength=dag.size)
        hit = np.flatnonzero(weight)
        reach.fill_leaves(dag, self.reach_bits, hit)  # the leaves this exposure reads
        counts = reach.weighted_bit_counts(self.reach_bits, hit, weight[hit])
        return counts[: self.suppliers.size]

    @cached_property
    def shortest_links(self) -> tuple[np.ndarray, np.ndarray]:
        """The followed links that lie on a shortest chain from R (tier + 1 to tier)."""
        src, dst, tier = self.scope.src, self.scope.dst, self.tier
        keep = (tier[src] >= 0) & (tier[dst] == tier[src] + 1)
        return src[keep], dst[keep]

    @cached_property
    def shortest_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(shortest links ordered by supplier, start of each supplier's, start of each
        buyer's in the buyer order): the lookups `Exposure.chain_to` walks."""
        src, dst = self.shortest_links
        n = self.network.size
        return *grouped(dst, n), starts(src, n)


def exposure_of(base: ExposureBase, affected: np.ndarray) -> Exposure:
    """The exposure given `affected`, a boolean mask over the network's companies."""
    return Exposure(base, affected)


class Exposure:
    """One incident's exposure for the root of `base`."""

    def __init__(self, base: ExposureBase, affected: np.ndarray) -> None:
        self.base = base
        mask = np.zeros(base.network.size, dtype=bool)
        mask[: min(affected.size, mask.size)] = affected[: mask.size]
        self.exposed = mask & (base.tier > 0)
        self.exposed_ids = np.flatnonzero(self.exposed)

    @property
    def count(self) -> int:
        return int(self.exposed_ids.size)

    def tiers(self) -> list[tuple[int, int]]:
        """(tier, exposed companies) in ascending tier, tiers with none left out."""
        counts = np.bincount(self.base.tier[self.exposed_ids])
        return [(tier, int(n)) for tier, n in enumerate(counts.tolist()) if n]

    @cached_property
    def exposed_groups(self) -> np.ndarray:
        """Per group of the component DAG: it holds an exposed company."""
        dag = self.base.dag
        return np.bincount(dag.comp[self.exposed_ids], minlength=dag.size) > 0

    def min_tiers(self) -> np.ndarray:
        """Per group: the smallest tier of an exposed company it reaches (itself
        included), int64 max where it reaches none."""
        dag, big = self.base.dag, np.iinfo(np.int64).max
        best = np.full(dag.size, big, dtype=np.int64)
        np.minimum.at(best, dag.comp[self.exposed_ids], self.base.tier[self.exposed_ids])
        for _, edges in dag.levels:  # suppliers first: successors are final
            heads = dag.edge_src[edges]
            if not heads.size:
                continue
            first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
            below = np.minimum.reduceat(best[dag.edge_dst[edges]], first)
            best[heads[first]] = np.minimum(best[heads[first]], below)
        return best

    def tier1(self) -> list[tuple[int, int, int]]:
        """(supplier, exposed companies it reaches, smallest tier among them) per direct
        supplier of R that reaches one, by count descending, then id."""
        return list(self._tier1)

    @cached_property
    def _tier1(self) -> list[tuple[int, int, int]]:
        if not self.count:
            return []
        min_tier = self.min_tiers()
        counts = self.base.supplier_reach(self.exposed_ids)
        suppliers = self.base.suppliers
        rows = [(s, int(n), int(min_tier[self.base.dag.comp[s]]))
                for s, n in zip(suppliers.tolist(), counts.tolist(), strict=True) if n]
        ids = self.base.network.ids
        return sorted(rows, key=lambda row: (-row[1], ids[row[0]]))

    def paths(self) -> tuple[int, int]:
        """(all root-to-leaf paths, those through a group holding an exposed company)."""
        return self._paths

    @cached_property
    def _paths(self) -> tuple[int, int]:
        scope, dag = self.base.scope, self.base.dag
        totals = scope.totals()
        ends = scope.end_groups(None)
        clean_ok = ~self.exposed_groups
        clean = dag.path_sums(ends, clean_ok.astype(np.int64).astype(totals.dtype), clean_ok,
                              dtype=totals.dtype)
        root = dag.comp[self.base.root]
        return int(totals[root]), int(totals[root]) - int(clean[root])

    def cone(self) -> np.ndarray:
        """Mask of the companies R reaches that reach an exposed company (R and the exposed
        companies included, when any is exposed)."""
        base = self.base
        if not self.count:
            return np.zeros(base.network.size, dtype=bool)
        groups = base.dag.upstream(base.dag.comp[self.exposed_ids])
        reaching = np.zeros(base.dag.size, dtype=bool)
        reaching[groups] = True
        return np.asarray(reaching[base.dag.comp] & base.scope.inside, dtype=bool)

    def chain_to(self, company: int) -> list[int]:
        """A shortest chain of links from R to `company`: among them, the one whose ids
        are smallest step by step from R."""
        base = self.base
        src, dst = base.shortest_links
        n, rank = base.network.size, base.network.id_rank
        order, into, out = base.shortest_index  # walk back from the company first
        back = np.zeros(n, dtype=bool)
        back[company], frontier = True, np.array([company])
        while frontier.size:
            found = src[order[ranges(into, frontier)]]
            frontier = np.unique(found[~back[found]])
            back[frontier] = True
        chain = [base.root]
        while chain[-1] != company:
            nxt = dst[out[chain[-1]] : out[chain[-1] + 1]]
            nxt = nxt[back[nxt]]
            chain.append(int(nxt[np.argmin(rank[nxt])]))
        return chain


class ConeScope(RequestScope):
    """A request whose applicability lists companies (an incident survey's exposed cone):
    only links into listed companies carry it; every other company the issuer reaches is
    `not_applicable`.

    Examples
    --------
    >>> net = CompactNetwork.build(dict.fromkeys("Rabc", "other"),
    ...                            [("R", "a", "x"), ("R", "b", "x"), ("a", "c", "x")])
    >>> survey = PolicyRequest(id="s", topic="incident_report", title="t", issuer_id="R",
    ...     issued_at=_FOLLOW_ALL, applies_to=Applicability(companies=["R", "a", "c"]))
    >>> sorted(net.ids[i] for i in request_scope(net, survey).inside.nonzero()[0])
    ['R', 'a', 'c']
    """

    def __init__(self, network: CompactNetwork, request: PolicyRequest) -> None:
        super().__init__(network, request)
        listed = np.zeros(self.network.size, dtype=bool)
        found = self.network.indexes(request.applies_to.companies or [])
        listed[found[found >= 0]] = True
        keep = listed[self.dst]
        self.inside = reachable(self.network.size, self.src[keep], self.dst[keep], self.root)
        keep &= self.inside[self.src]
        self.link, self.src, self.dst = self.link[keep], self.src[keep], self.dst[keep]


def request_scope(network: CompactNetwork, request: PolicyRequest) -> RequestScope:
    """The engine's scope of `request`, limited to the listed companies when it lists some."""
    if request.applies_to.companies is not None:
        return ConeScope(network, request)
    return RequestScope(network, request)
