"""Writing a whole network into an empty store (`neo4j.bulk`): the reservation that opens
it, the step that publishes it, and the undo of a load that failed. The rows themselves
go through the graph's and the ledger's CREATE writes (ADD_COMPANIES, ADD_LINKS,
CREATE_REQUEST, ADD_CASCADES, ADD_ACKNOWLEDGEMENTS)."""

from __future__ import annotations

__all__ = ["BULK_HOLDS_DATA", "BULK_PUBLISH", "BULK_RESERVE", "BULK_UNDO"]

BULK_HOLDS_DATA = """
RETURN EXISTS { MATCH (:Company) } OR EXISTS { MATCH (:Request) }
    OR EXISTS { MATCH (:Cascade) } OR EXISTS { MATCH (:Acknowledgement) } AS holds
"""
"""Whether the store holds any company, request, cascade event or answer."""

BULK_RESERVE = """
MATCH (r:StoreRevision {id: 'main'})
WITH r, r.value + 1 AS revision, coalesce(r.company_key, 0) AS company_key,
     coalesce(r.ack_seq, 0) AS ack_seq
SET r.value = revision, r.company_key = company_key + $companies,
    r.ack_seq = ack_seq + $answers
RETURN revision, company_key, ack_seq
"""
"""Under the revision lock: advance the revision to the one the load's rows are stamped
with, and hand out `$companies` company keys and `$answers` answer seqs at once (the
load numbers them from the returned last ones). A writer after it gets later ones."""

BULK_PUBLISH = """
MATCH (r:StoreRevision {id: 'main'})
WITH r, r.value + 1 AS revision
SET r.value = revision, r.log_from = revision
"""
"""Under the revision lock, once the load is written (or undone): a new revision whose
change log starts there. The load's rows carry a revision that committed before they
did, so a worker that followed the log meanwhile may lack some: every worker behind
this revision reads the store afresh instead of the log."""

BULK_UNDO = tuple(f"""
MATCH (n:{label}) WHERE n.revision = $revision
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
""" for label in ("Company", "Request", "Cascade", "Acknowledgement"))
"""Delete up to `$batch` rows of a failed load, stamped `$revision`, one label per query
(by its revision index; a company goes with its links)."""
