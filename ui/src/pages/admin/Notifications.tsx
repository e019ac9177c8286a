// pages/admin/Notifications.tsx — the notification outbox (docs/
// notifications.md), dead letters first: the notifications no channel could
// deliver (a permanent failure, or every attempt used), with channel, kind,
// title, attempts, the last error and when; pending and delivered ones on
// request. Paged (cursor). Needs notification.edit from a global grant.
import { useState } from "react";
import { api, must, pageQuery } from "../../api/client";
import { PagedTable, usePaged } from "../../components/paged";
import { Select, StateBadge, Time } from "../../components/ui";

type State = "dead" | "pending" | "delivered";
const PAGE = 25;
const EMPTY: Record<State, string> = {
  dead: "No dead letters: every notification was delivered or is still being tried.",
  pending: "No notification is waiting for delivery.",
  delivered: "No notification has been delivered yet.",
};

export function NotificationsPage() {
  const [state, setState] = useState<State>("dead");
  const rows = usePaged((cursor) => must(api.GET("/api/v1/notifications", { params: { query: { ...pageQuery(PAGE, cursor), state } } })), [state]);
  return (
    <section className="card">
      <h2>Notifications</h2>
      <p className="hint">A dead letter is a notification its channel refused for good or failed to take in every attempt; it is not retried. Look at the last error, fix the channel, and tell the people concerned.</p>
      <Select
        label="Show"
        value={state === "dead" ? "" : state}
        onChange={(s) => setState((s || "dead") as State)}
        placeholder="Dead letters"
        options={[
          { value: "pending", label: "Pending" },
          { value: "delivered", label: "Delivered" },
        ]}
      />
      <PagedTable
        paged={rows}
        what="notifications"
        empty={EMPTY[state]}
        caption={state === "dead" ? "Dead letters, newest first" : `${state[0].toUpperCase()}${state.slice(1)} notifications, newest first`}
        rowKey={(n) => n.id}
        columns={[
          { header: "Channel", cell: (n) => n.channel },
          { header: "Kind", cell: (n) => <code>{n.kind}</code> },
          { header: "Title", cell: (n) => (n.link ? <a href={n.link}>{n.title}</a> : n.title) },
          { header: "State", cell: (n) => <StateBadge state={n.state} /> },
          { header: "Attempts", cell: (n) => n.attempts ?? 0 },
          { header: "Last error", cell: (n) => n.last_error ?? <span className="muted">—</span> },
          { header: "Time", cell: (n) => <Time at={n.state === "delivered" ? n.delivered_at : n.updated_at} /> },
        ]}
      />
    </section>
  );
}
