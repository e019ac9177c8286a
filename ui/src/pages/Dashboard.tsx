// pages/Dashboard.tsx — real data only: my open requests, what awaits my
// review, recent audit activity and (for agent listers) the agents online.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { api, must } from "../api/client";
import { Empty, ErrorBanner, Loading, useLoad } from "../components/ui";
import { useSession } from "../lib/session";
import { RequestTable } from "./Requests";

const OPEN = new Set(["pending", "pending_values", "pending_verification", "approved", "executing"]);

export function DashboardPage() {
  const { can } = useSession();
  const mine = useLoad(async () => ((await must(api.GET("/api/v1/requests"))).items ?? []).filter((r) => OPEN.has(r.state ?? "")), []);
  const queue = useLoad(async () => (can("secret.approve") ? (await must(api.GET("/api/v1/requests/queue"))).items ?? [] : null), [can]);
  const agents = useLoad(async () => (can("agent.list") ? (await must(api.GET("/api/v1/agents"))).items ?? [] : null), [can]);
  const activity = useLoad(
    async () => (can("audit.read") ? (await must(api.GET("/api/v1/audit-events", { params: { query: { limit: 8 } } }))).items ?? [] : null),
    [can],
  );
  return (
    <>
      <h1>Dashboard</h1>
      <div className="grid">
        <Panel title="My open requests" what="your requests" load={mine} empty={<>No open requests. <Link to="/requests/new">Ask for a secret</Link>.</>}>
          {(items) => <RequestTable items={items} caption="Open requests" />}
        </Panel>
        <Panel title="Awaiting my review" what="the queue" load={queue} empty="Nothing awaits your review.">
          {(items) => <RequestTable items={items} caption="Requests awaiting your vote" />}
        </Panel>
        <Panel title="Agents online" what="agents" load={agents} empty="No agents are enrolled.">
          {(items) => (
            <p>
              <strong>{items.filter((a) => a.status === "active").length}</strong> active of {items.length} enrolled
            </p>
          )}
        </Panel>
        <Panel title="Recent activity" what="activity" load={activity} empty="No activity yet.">
          {(items) => (
            <ul className="plain">
              {items.map((e) => (
                <li key={e.id}>
                  <code>{e.action}</code> by {e.actor} — {e.outcome}
                </li>
              ))}
            </ul>
          )}
        </Panel>
      </div>
    </>
  );
}

/** One dashboard card; absent (null data) when the user may not see it. */
function Panel<T>(props: { title: string; what: string; load: { data?: T[] | null; error: unknown; loading: boolean }; empty: ReactNode; children: (items: T[]) => ReactNode }) {
  const { data, error, loading } = props.load;
  if (data === null) return null;
  return (
    <section className="card">
      <h2>{props.title}</h2>
      <ErrorBanner error={error} />
      {loading ? <Loading what={props.what} /> : data?.length ? props.children(data) : <Empty>{props.empty}</Empty>}
    </section>
  );
}
