-- Indexes found missing by bench/growth.c (SPEC §19: no hot-path query
-- scans a table that grows without bound; plans in bench/RESULTS.md).
--
-- The approvers' queue (store/request_store.c, SB_REQUEST_LIST_QUEUE) pages
-- the open requests oldest first: ORDER BY created_at, id LIMIT n over
-- state IN ('pending', 'pending_verification'). requests_open is keyed by
-- project, so with a global grant (or several projects) the only plan was
-- to read every open request and sort them — at 10,000 open requests a
-- Seq Scan of requests and 316 ms a page. This index holds exactly the
-- open requests in the queue's order: the page walks it from its cursor
-- and stops after n rows that pass the filters.
CREATE INDEX requests_queue ON requests (created_at, id)
    WHERE state IN ('pending', 'pending_verification');
