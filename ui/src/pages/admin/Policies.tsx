// pages/admin/Policies.tsx — policy rules (paged): create, edit, delete after
// confirmation, and a rule's history (each create/update/delete with who,
// when and the fields it changed; paged). Who may write which rule is the
// server's decision (policy.edit everywhere, policy.author in scope).
import { useState } from "react";
import { api, listAll, must, pageQuery, type Schemas } from "../../api/client";
import { PagedList, PagedTable, usePaged } from "../../components/paged";
import { Button, ConfirmAbout, ErrorBanner, Time, useLoad, useSubmit } from "../../components/ui";
import { useSession } from "../../lib/session";
import { PolicyForm } from "./PolicyForm";

type Rule = Schemas["PolicyRule"];

function PolicyHistory({ rule, onClose }: { rule: Rule; onClose: () => void }) {
  const history = usePaged((cursor) => must(api.GET("/api/v1/policy-rules/{id}/history", { params: { path: { id: rule.id! }, query: pageQuery(50, cursor) } })), [rule.id]);
  return (
    <section className="card" aria-label={`History of ${rule.name}`}>
      <h3>History of {rule.name}</h3>
      <PagedList paged={history} what="history entries" empty="No recorded changes.">
        {(items) => (
          <ol className="timeline">
            {items.map((h) => (
              <li key={h.id}>
                <Time at={h.occurred_at} /> — <code>{h.action}</code> by {h.actor}
                {h.fields?.length ? `: ${h.fields.join(", ")}` : ""}
                {h.rule && <span className="hint"> (priority {h.rule.priority}, {h.rule.enabled === false ? "disabled" : "enabled"})</span>}
              </li>
            ))}
          </ol>
        )}
      </PagedList>
      <Button onPress={onClose}>Close history</Button>
    </section>
  );
}

export function PoliciesPage() {
  const { can } = useSession();
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const rules = usePaged((cursor) => must(api.GET("/api/v1/policy-rules", { params: { query: pageQuery(50, cursor) } })), [v]);
  const workflows = useLoad(() => listAll("/api/v1/workflows"), [v]);
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [history, setHistory] = useState<Rule | null>(null);
  const act = useSubmit();
  const write = can("policy.edit") || can("policy.author");
  const wfName = (id?: string) => workflows.data?.find((w) => w.id === id)?.name ?? id;
  return (
    <>
      <section className="card">
        <h2>Policy rules</h2>
        <p className="hint">The enabled rule with the highest priority that matches a request picks its workflow.</p>
        <ErrorBanner error={act.error} />
        <ErrorBanner error={workflows.error} />
        <PagedTable
          paged={rules}
          what="policy rules"
          empty="No policy rules yet: every request uses the default workflow."
          caption="Policy rules"
          rowKey={(r) => r.id}
          columns={[
            { header: "Name", cell: (r) => <>{r.name}{r.enabled === false && <span className="chip">disabled</span>}</> },
            { header: "Anchor", cell: (r) => r.anchor?.type },
            { header: "Priority", cell: (r) => r.priority },
            { header: "Workflow", cell: (r) => wfName(r.workflow_id) },
            {
              header: "Matches",
              cell: (r) =>
                Object.entries(r.selector ?? {})
                  .filter(([, x]) => x != null)
                  .map(([k, x]) => `${k}=${x}`)
                  .join(", ") || "any request",
            },
            {
              header: "Actions",
              cell: (r) => (
                <div className="row">
                  <Button onPress={() => setHistory(r)}>History of {r.name}</Button>
                  {write && <Button onPress={() => setEditing(r)}>Edit {r.name}</Button>}
                  {write && (
                    <Button variant="danger" onPress={() => setDeleting(r)}>
                      Delete {r.name}
                    </Button>
                  )}
                </div>
              ),
            },
          ]}
        />
        {history && <PolicyHistory key={history.id} rule={history} onClose={() => setHistory(null)} />}
        {write &&
          (editing ? (
            <PolicyForm key={editing === "new" ? "new" : editing.id} rule={editing === "new" ? undefined : editing} workflows={workflows.data ?? []} onDone={() => (setEditing(null), bump())} onCancel={() => setEditing(null)} />
          ) : (
            <Button variant="primary" onPress={() => setEditing("new")}>
              New policy rule
            </Button>
          ))}
      </section>
      <ConfirmAbout
        item={deleting}
        title={(r) => `Delete the policy rule ${r.name}?`}
        confirmLabel="Delete rule"
        onClose={() => setDeleting(null)}
        onConfirm={(r) => void act.submit(async () => (await must(api.DELETE("/api/v1/policy-rules/{id}", { params: { path: { id: r.id! } } })), bump()))}
      >
        {() => <p>Requests it would have matched fall to the next rule or the default workflow. Its history stays in the audit trail.</p>}
      </ConfirmAbout>
    </>
  );
}
