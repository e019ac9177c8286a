// pages/GitopsPanel.tsx — the request page's GitOps panel: for a patch, the
// Argo CD observations of the applications mapped to its secret (docs/
// gitops.md), each with its state and what that state proves, the evidence
// and the times. Shown from the first answer on, never when the route answers
// 404 (GitOps observation off); while any observation is still open it
// offers a refresh.
import { api, ApiError, must, type Schemas } from "../api/client";
import { Button, DataTable, Empty, ErrorBanner, StateBadge, Time, useLoad } from "../components/ui";

type Observation = Schemas["GitopsObservation"];

/** What each state means and what it proves, in plain words (docs/gitops.md). */
export const OBSERVATION_STATES: Record<NonNullable<Observation["state"]>, string> = {
  pending: "Waiting for the first look at the application; proves nothing yet.",
  observing: "The application as it was before the change is recorded; watching for a rollout. Proves nothing yet.",
  applied: "A rollout that began after the change completed and the application is healthy: the workload restarted and runs with the new value.",
  failed: "The rollout after the change degraded, or a sync failed: the change did not roll out cleanly. Look at Argo CD.",
  applied_unverified:
    "No rollout was seen before the timeout. The secret is patched, but nothing shows the workload picked it up (it may read the secret live, or not restart at all).",
};

const OPEN = new Set(["pending", "observing"]);

export function GitopsPanel({ requestId }: { requestId: string }) {
  const obs = useLoad(async () => {
    try {
      return await must(api.GET("/api/v1/requests/{id}/gitops-observations", { params: { path: { id: requestId } } }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null; // GitOps observation is off
      throw e;
    }
  }, [requestId]);
  // nothing until the first answer: a server with GitOps off never shows the panel, not even loading
  if (obs.data === null || (obs.data === undefined && !obs.error)) return null;
  const items = obs.data?.items ?? [];
  return (
    <section aria-labelledby="gitops-heading">
      <h2 id="gitops-heading">GitOps rollout</h2>
      <p className="hint">Whether the Argo CD applications that use this secret picked the change up. Secrets Bridge only reads Argo CD; it never syncs or restarts anything.</p>
      <ErrorBanner error={obs.error} />
      {items.length ? (
        <DataTable
          caption="GitOps observations"
          rows={items}
          rowKey={(o) => o.id}
          columns={[
            { header: "Application", cell: (o) => <>{o.application} <span className="muted">on {o.endpoint_name}</span></> },
            {
              header: "State",
              cell: (o) => (
                <>
                  <StateBadge state={o.state} />
                  <p className="hint">{o.state ? OBSERVATION_STATES[o.state] : ""}</p>
                </>
              ),
            },
            {
              header: "Evidence",
              cell: (o) => (
                <>
                  {o.evidence ?? "none yet"}
                  {o.detail && <p className="hint">{o.detail}</p>}
                  {o.last_error && <p className="hint">Last error: {o.last_error}</p>}
                  <p className="hint">{o.polls ?? 0} poll(s)</p>
                </>
              ),
            },
            {
              header: "Times",
              cell: (o) => (
                <dl className="facts">
                  <dt>Changed</dt>
                  <dd><Time at={o.changed_at} /></dd>
                  <dt>Baseline</dt>
                  <dd><Time at={o.baseline_at} /></dd>
                  <dt>{o.finished_at ? "Finished" : "Times out"}</dt>
                  <dd><Time at={o.finished_at ?? o.timeout_at} /></dd>
                </dl>
              ),
            },
          ]}
        />
      ) : (
        <Empty>No application is observed for this request: observations start when a patch of a mapped secret executes.</Empty>
      )}
      {items.some((o) => OPEN.has(o.state ?? "")) && <Button onPress={() => void obs.reload()}>Refresh observations</Button>}
    </section>
  );
}
