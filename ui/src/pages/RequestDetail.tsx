// pages/RequestDetail.tsx — one request: facts, timeline, votes; the
// approver's vote (RequestDecide: approve/reject, or verify for a filled
// cross-team request), cancel for the requester while it is open, reveal
// once (Reveal) when an executed read is mine; for a patch, the GitOps
// rollout observations (GitopsPanel, hidden when GitOps observation is off).
// Each panel is its own component, so further panels slot in below the
// timeline.
import { Link, useParams } from "react-router";
import { api, must } from "../api/client";
import { Button, ErrorBanner, Loading, StateBadge, Time, useLoad, useSubmit } from "../components/ui";
import { useSession } from "../lib/session";
import { GitopsPanel } from "./GitopsPanel";
import { RequestDecide } from "./RequestDecide";
import { Reveal } from "./Reveal";

export function RequestDetailPage() {
  const { id = "" } = useParams();
  const { state, can } = useSession();
  const me = state.status === "signed_in" ? state.me.user.id : "";
  const teamName = (tid?: string | null) => (state.status === "signed_in" ? state.me.teams.find((t) => t.id === tid)?.name : undefined) ?? tid ?? "—";
  const req = useLoad(() => must(api.GET("/api/v1/requests/{id}", { params: { path: { id } } })), [id]);
  const act = useSubmit();
  if (req.loading && !req.data) return <Loading what="the request" />;
  if (req.error) return <ErrorBanner error={req.error} />;
  const r = req.data!;
  const mine = r.requester_id === me;
  const decidable = r.state === "pending" || r.state === "pending_verification";
  const open = decidable || r.state === "pending_values";
  const voted = (r.votes ?? []).some((v) => v.approver_id === me);
  const run = (fn: () => Promise<unknown>) => act.submit(async () => (await fn(), await req.reload()));
  const timeline = [
    { at: r.created_at, what: "submitted" },
    ...(r.filled_at ? [{ at: r.filled_at, what: `values provided${r.fill_comment ? `: ${r.fill_comment}` : ""}` }] : []),
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
        {r.kind === "cross_team" && (
          <>
            <dt>Values from</dt>
            <dd>{teamName(r.target_team_id)}</dd>
          </>
        )}
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
      {r.kind === "patch" && <GitopsPanel requestId={id} />}
      {decidable && !mine && !voted && r.filled_by !== me && (can("secret.approve") || can("secret.security.approve")) && <RequestDecide request={r} onDecided={req.reload} />}
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
