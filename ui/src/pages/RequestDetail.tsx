// pages/RequestDetail.tsx — one request: facts, timeline, votes; approve or
// reject (a reason is required) for approvers, cancel for the requester
// while it is open, reveal once when an executed read is mine.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, must } from "../api/client";
import { Button, ErrorBanner, Field, Loading, StateBadge, Time, useLoad, useSubmit } from "../components/ui";
import { useSession } from "../lib/session";
import { Reveal } from "./Reveal";

export function RequestDetailPage() {
  const { id = "" } = useParams();
  const { state, can } = useSession();
  const me = state.status === "signed_in" ? state.me.user.id : "";
  const req = useLoad(() => must(api.GET("/api/v1/requests/{id}", { params: { path: { id } } })), [id]);
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const act = useSubmit();
  if (req.loading && !req.data) return <Loading what="the request" />;
  if (req.error) return <ErrorBanner error={req.error} />;
  const r = req.data!;
  const mine = r.requester_id === me;
  const open = r.state === "pending";
  const voted = (r.votes ?? []).some((v) => v.approver_id === me);
  const run = (fn: () => Promise<unknown>) => act.submit(async () => (await fn(), await req.reload()));
  const timeline = [
    { at: r.created_at, what: "submitted" },
    ...(r.votes ?? []).map((v) => ({ at: v.created_at, what: `${v.decision} by ${v.username ?? v.approver_id}${v.comment ? `: ${v.comment}` : ""}` })),
    ...(r.decided_at ? [{ at: r.decided_at, what: `decided: ${r.state}${r.reason ? ` (${r.reason})` : ""}` }] : []),
  ];
  return (
    <>
      <p>
        <Link to="/requests">← Requests</Link>
      </p>
      <h1>
        {r.kind} request for {r.secret_ref} <StateBadge state={r.state} />
      </h1>
      <ErrorBanner error={act.error} />
      <dl className="facts">
        <dt>Keys</dt>
        <dd>{(r.keys ?? []).join(", ") || "—"}</dd>
        <dt>Justification</dt>
        <dd>{r.justification}</dd>
        <dt>Expires</dt>
        <dd>
          <Time at={r.expires_at} />
        </dd>
        {!!r.sealed_values?.boxes && (
          <>
            <dt>Sealed values</dt>
            <dd>
              {r.sealed_values.boxes} boxes to {r.sealed_values.recipients} agent key(s)
            </dd>
          </>
        )}
      </dl>
      <section>
        <h2>Timeline</h2>
        <ol className="timeline">
          {timeline.map((t, i) => (
            <li key={i}>
              <Time at={t.at} /> — {t.what}
            </li>
          ))}
        </ol>
      </section>
      {open && !mine && !voted && can("secret.approve") && (
        <section className="card form">
          <h2>Decide</h2>
          <Field label="Comment (optional)" name="comment" value={comment} onChange={setComment} />
          <Button variant="primary" isDisabled={act.busy} onPress={() => void run(() => must(api.POST("/api/v1/requests/{id}/approve", { params: { path: { id } }, body: comment ? { comment } : {} })))}>
            Approve
          </Button>
          <Field label="Reason for rejecting" name="reason" value={reason} onChange={setReason} />
          <Button
            variant="danger"
            isDisabled={act.busy}
            onPress={() =>
              reason.trim()
                ? void run(() => must(api.POST("/api/v1/requests/{id}/reject", { params: { path: { id } }, body: { reason: reason.trim() } })))
                : act.setError(new Error("A reason is required to reject."))
            }
          >
            Reject
          </Button>
        </section>
      )}
      {open && mine && (
        <Button isDisabled={act.busy} onPress={() => void run(() => must(api.POST("/api/v1/requests/{id}/cancel", { params: { path: { id } } })))}>
          Cancel request
        </Button>
      )}
      {mine && r.kind === "read" && r.state === "executed" && <Reveal requestId={id} />}
      {["approved", "executing"].includes(r.state ?? "") && (
        <Button onPress={() => void req.reload()}>Refresh</Button>
      )}
    </>
  );
}
