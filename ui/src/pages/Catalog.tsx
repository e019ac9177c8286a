// pages/Catalog.tsx — search the secrets catalog: connection, ref prefix,
// status and label filters (key:value, split on the first colon, so values
// may hold colons), label chips; results paged; a discovery run for
// connection editors.
import { useState } from "react";
import { Form } from "react-aria-components";
import { api, listAll, must, pageQuery } from "../api/client";
import { PagedTable, usePaged } from "../components/paged";
import { Button, ErrorBanner, Field, Select, Time, useLoad, useSubmit } from "../components/ui";
import { useSession } from "../lib/session";

export function CatalogPage() {
  const { can } = useSession();
  const [connectionId, setConnectionId] = useState("");
  const [prefix, setPrefix] = useState("");
  const [status, setStatus] = useState("");
  const [labelInput, setLabelInput] = useState("");
  const [labels, setLabels] = useState<string[]>([]);
  const [query, setQuery] = useState({ connectionId: "", prefix: "", status: "", labels: [] as string[] });
  const conns = useLoad(() => listAll("/api/v1/provider-connections"), []);
  const secrets = usePaged(
    (cursor) =>
      must(
        api.GET("/api/v1/secrets", {
          params: {
            query: {
              ...pageQuery(50, cursor),
              ...(query.connectionId ? { connection_id: query.connectionId } : {}),
              ...(query.prefix ? { ref_prefix: query.prefix } : {}),
              ...(query.status ? { status: query.status as "present" } : {}),
              ...(query.labels.length ? { label: query.labels } : {}),
            },
          },
        }),
      ),
    [query],
  );
  const discover = useSubmit();
  return (
    <>
      <h1>Catalog</h1>
      <Form
        className="card row filters"
        aria-label="Search the catalog"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ connectionId, prefix, status, labels });
        }}
      >
        <Select label="Connection" value={connectionId} onChange={setConnectionId} placeholder="Any connection" options={(conns.data ?? []).map((c) => ({ value: c.id!, label: c.name! }))} />
        <Field label="Reference prefix" name="prefix" value={prefix} onChange={setPrefix} />
        <Select label="Status" value={status} onChange={setStatus} placeholder="Any status" options={["present", "missing"].map((s) => ({ value: s, label: s }))} />
        <Field label="Label (key:value)" name="label" value={labelInput} onChange={setLabelInput} validate={(v) => (!v || v.includes(":") ? null : "write key:value")} />
        <Button onPress={() => labelInput.includes(":") && (setLabels((l) => [...l, labelInput]), setLabelInput(""))}>Add label</Button>
        <Button type="submit" variant="primary">
          Search
        </Button>
      </Form>
      {labels.length > 0 && (
        <ul className="chips" aria-label="Label filters">
          {labels.map((l) => (
            <li key={l}>
              {l} <Button aria-label={`Remove label ${l}`} onPress={() => setLabels((ls) => ls.filter((x) => x !== l))}>×</Button>
            </li>
          ))}
        </ul>
      )}
      {can("integration.edit") && connectionId && (
        <p>
          <Button isDisabled={discover.busy} onPress={() => void discover.submit(async () => void (await must(api.POST("/api/v1/provider-connections/{id}/discover-jobs", { params: { path: { id: connectionId } }, body: {} }))))}>
            Run discovery on this connection
          </Button>
        </p>
      )}
      <ErrorBanner error={discover.error} />
      <PagedTable
        paged={secrets}
        what="catalog secrets"
        empty="No catalog secrets match. Discovery fills the catalog from a connection's agents."
        caption="Catalog secrets (metadata only)"
        rowKey={(s) => s.id}
        columns={[
          { header: "Reference", cell: (s) => s.secret_ref },
          { header: "Connection", cell: (s) => s.connection_name },
          {
            header: "Labels",
            cell: (s) =>
              Object.entries((s.labels ?? {}) as Record<string, string>).map(([k, v]) => (
                <span key={k} className="chip">
                  {k}:{v}
                </span>
              )),
          },
          { header: "Status", cell: (s) => s.status },
          { header: "Last seen", cell: (s) => <Time at={s.last_seen_at} /> },
        ]}
      />
    </>
  );
}
