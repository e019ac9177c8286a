-- A request's votes, read at the moment they are asked for (issue 11: one
-- statement fewer per vote). store/request_store.c locks the request row
-- FOR UPDATE and reads its votes in the same statement through this
-- function.
--
-- Why a function: a statement keeps the snapshot it started with, so a
-- plain subquery in the locking statement misses the votes of a transaction
-- whose lock it waited for. A VOLATILE function takes a fresh snapshot for
-- each query it runs, and when the lock was waited for, PostgreSQL re-reads
-- the locked row and evaluates the statement's output again for it
-- (EvalPlanQual), calling this once more, after the other transaction
-- committed. That holds because every vote is written by the statement that
-- also updates the request row (sb_request_store_set_state): a transaction
-- that adds a vote always changes the row a waiter re-reads.
--
-- PL/pgSQL, so that the planner never inlines it into the calling
-- statement (which would bring back the caller's snapshot).
CREATE FUNCTION request_votes_now(request uuid) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_array(v.approver_id::text, v.decision, v.groups)
                                      ORDER BY v.created_at, v.approver_id), '[]'::jsonb)
              FROM request_votes v WHERE v.request_id = request);
END
$$;
