// pages/Requests.tsx — my requests (filter by state and kind) and, for
// approvers, the queue of requests awaiting my vote; both paged.
import { useState } from "react";
import { Link } from "react-router";
import { api, must, pageQuery, type Schemas } from "../api/client";
import type { paths } from "../api/schema";
import { PagedList, usePaged } from "../components/paged";
import { DataTable, Select, StateBadge, Time } from "../components/ui";
import { useSession } from "../lib/session";

type Req = Schemas["Request"];
type RequestState = NonNullable<NonNullable<paths["/api/v1/requests"]["get"]["parameters"]["query"]>["state"]>;
const STATES: RequestState[] = ["pending", "approved", "executed", "failed", "rejected", "cancelled", "expired", "pending_values", "pending_verification", "refused"];

export function RequestTable({ items, caption }: { items: Req[]; caption: string }) {
  return (
    <DataTable
      caption={caption}
      rows={items}
      rowKey={(r) => r.id}
      columns={[
        { header: "Secret", cell: (r) => <Link to={`/requests/${r.id}`}>{r.secret_ref ?? r.id}</Link> },
        { header: "Kind", cell: (r) => r.kind },
        { header: "Keys", cell: (r) => (r.keys ?? []).join(", ") },
        { header: "State", cell: (r) => <StateBadge state={r.state} /> },
        { header: "Created", cell: (r) => <Time at={r.created_at} /> },
      ]}
    />
  );
}

export function RequestsPage() {
  const { can } = useSession();
  const [state, setState] = useState("");
  const [kind, setKind] = useState("");
  const mine = usePaged(
    (cursor) =>
      must(
        api.GET("/api/v1/requests", {
          params: { query: { ...pageQuery(25, cursor), ...(state ? { state: state as RequestState } : {}), ...(kind ? { kind: kind as "read" } : {}) } },
        }),
      ),
    [state, kind],
  );
  const queue = usePaged(
    (cursor) => (can("secret.approve") ? must(api.GET("/api/v1/requests/queue", { params: { query: pageQuery(25, cursor) } })) : Promise.resolve({ items: [] })),
    [can],
  );
  return (
    <>
      <div className="row spread">
        <h1>Requests</h1>
        {can("secret.request") && (
          <Link className="btn btn-primary" to="/requests/new">
            New request
          </Link>
        )}
      </div>
      {can("secret.approve") && (
        <section>
          <h2>Awaiting my review</h2>
          <PagedList paged={queue} what="requests to review" empty="Nothing awaits your review.">
            {(items) => <RequestTable items={items} caption="Requests you may approve" />}
          </PagedList>
        </section>
      )}
      <section>
        <h2>My requests</h2>
        <div className="row filters">
          <Select
            label="State"
            value={state}
            onChange={setState}
            placeholder="Any state"
            options={STATES.map((s) => ({ value: s, label: s }))}
          />
          <Select label="Kind" value={kind} onChange={setKind} placeholder="Any kind" options={["read", "patch", "direct_reveal", "cross_team"].map((s) => ({ value: s, label: s }))} />
        </div>
        <PagedList paged={mine} what="of your requests" empty={`You have no requests${state || kind ? " matching these filters" : ""}.`}>
          {(items) => <RequestTable items={items} caption="Your requests, newest first" />}
        </PagedList>
      </section>
    </>
  );
}
