// pages/Audit.tsx — audit events with filters (actor, action, resource,
// correlation id, time range), an event's detail, and its correlation chain
// (every event sharing its correlation id, oldest first). Events are paged.
import { useState } from "react";
import { Form } from "react-aria-components";
import { allPages, api, must, pageQuery, type Schemas } from "../api/client";
import { PagedTable, usePaged } from "../components/paged";
import { Button, Field, Loading, useLoad } from "../components/ui";

type Event = Schemas["AuditEvent"];
type Filters = { actor: string; action: string; resource: string; correlation_id: string; since: string; until: string };
const PAGE = 25;
const NONE: Filters = { actor: "", action: "", resource: "", correlation_id: "", since: "", until: "" };

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [selected, setSelected] = useState<Event | null>(null);
  const events = usePaged((cursor) => {
    const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v).map(([k, v]) => [k, k === "since" || k === "until" ? new Date(v).toISOString() : v]));
    return must(api.GET("/api/v1/audit-events", { params: { query: { ...pageQuery(PAGE, cursor), ...query } } }));
  }, [filters]);
  const chain = useLoad(
    async () => {
      const correlation_id = selected?.correlation_id;
      if (!correlation_id) return [];
      const chain = await allPages((cursor) => must(api.GET("/api/v1/audit-events", { params: { query: { ...pageQuery(200, cursor), correlation_id } } })));
      return chain.reverse(); // oldest first
    },
    [selected?.correlation_id],
  );
  const set = (k: keyof Filters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  return (
    <>
      <h1>Audit</h1>
      <Form className="card row filters" aria-label="Filter audit events" onSubmit={(e) => (e.preventDefault(), setFilters(draft))}>
        <Field label="Actor" name="actor" value={draft.actor} onChange={set("actor")} />
        <Field label="Action" name="action" value={draft.action} onChange={set("action")} />
        <Field label="Resource" name="resource" value={draft.resource} onChange={set("resource")} />
        <Field label="Correlation id" name="correlation_id" value={draft.correlation_id} onChange={set("correlation_id")} />
        <Field label="Since" name="since" type="datetime-local" value={draft.since} onChange={set("since")} />
        <Field label="Until" name="until" type="datetime-local" value={draft.until} onChange={set("until")} />
        <Button type="submit" variant="primary">
          Filter
        </Button>
      </Form>
      <PagedTable
        paged={events}
        what="audit events"
        empty="No audit events match."
        caption="Audit events, newest first"
        rowKey={(e) => e.id}
        columns={[
          { header: "When", cell: (e) => e.occurred_at },
          { header: "Actor", cell: (e) => e.actor },
          { header: "Action", cell: (e) => <Button onPress={() => setSelected(e)}>{e.action}</Button> },
          { header: "Resource", cell: (e) => e.resource },
          { header: "Outcome", cell: (e) => e.outcome },
        ]}
      />
      {selected && (
        <section className="card" aria-label="Event detail">
          <h2>Event {selected.id}</h2>
          <pre>{JSON.stringify(selected, null, 2)}</pre>
          <h3>Correlation chain</h3>
          {chain.loading ? (
            <Loading what="the chain" />
          ) : (
            <ol className="timeline" aria-label="Correlation chain">
              {(chain.data ?? []).map((e) => (
                <li key={e.id}>
                  {e.occurred_at} — <code>{e.action}</code> by {e.actor} ({e.outcome})
                </li>
              ))}
            </ol>
          )}
          <Button onPress={() => setSelected(null)}>Close</Button>
        </section>
      )}
    </>
  );
}
