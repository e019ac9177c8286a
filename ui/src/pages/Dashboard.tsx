// pages/Dashboard.tsx — real data only: my open requests, what awaits my
// review, recent audit activity and (for agent listers) the agents online.
import { Link } from "react-router";
import { api, must } from "../api/client";
import { Empty, ErrorBanner, Loading, useLoad } from "../components/ui";
import { useSession } from "../lib/session";
import { RequestTable } from "./Requests";

const OPEN = new Set(["pending", "approved", "executing", "awaiting_fill", "filled"]);

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
        <section className="card">
          <h2>My open requests</h2>
          <ErrorBanner error={mine.error} />
          {mine.loading ? <Loading what="your requests" /> : mine.data?.length ? <RequestTable items={mine.data} caption="Open requests" /> : <Empty>No open requests. <Link to="/requests/new">Ask for a secret</Link>.</Empty>}
        </section>
        {queue.data !== null && (
          <section className="card">
            <h2>Awaiting my review</h2>
            <ErrorBanner error={queue.error} />
            {queue.loading ? <Loading what="the queue" /> : queue.data?.length ? <RequestTable items={queue.data} caption="Requests awaiting your vote" /> : <Empty>Nothing awaits your review.</Empty>}
          </section>
        )}
        {agents.data !== null && (
          <section className="card">
            <h2>Agents online</h2>
            <ErrorBanner error={agents.error} />
            {agents.loading ? (
              <Loading what="agents" />
            ) : (
              <p>
                <strong>{agents.data?.filter((a) => a.status === "active").length ?? 0}</strong> active of {agents.data?.length ?? 0} enrolled
              </p>
            )}
          </section>
        )}
        {activity.data !== null && (
          <section className="card">
            <h2>Recent activity</h2>
            <ErrorBanner error={activity.error} />
            {activity.loading ? (
              <Loading what="activity" />
            ) : activity.data?.length ? (
              <ul className="plain">
                {activity.data.map((e) => (
                  <li key={e.id}>
                    <code>{e.action}</code> by {e.actor} — {e.outcome}
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>No activity yet.</Empty>
            )}
          </section>
        )}
      </div>
    </>
  );
}
