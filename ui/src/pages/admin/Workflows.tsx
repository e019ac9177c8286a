// pages/admin/Workflows.tsx — approval workflows (paged): create, edit,
// delete (after confirmation; the server refuses the system and default
// workflows and ones policy rules still use, and says so), make default.
import { useState } from "react";
import { api, must, pageQuery, type Schemas } from "../../api/client";
import { PagedTable, usePaged } from "../../components/paged";
import { Button, ConfirmAbout, ErrorBanner, useSubmit } from "../../components/ui";
import { useSession } from "../../lib/session";
import { WorkflowForm } from "./WorkflowForm";

type Workflow = Schemas["Workflow"];

function summary(w: Workflow) {
  const groups = w.groups ?? [];
  if (!groups.length) return `${w.min_approvers ?? 0} approver(s)`;
  return groups.map((g) => `${g.required} × ${g.name}${g.permission === "secret.security.approve" ? " (security)" : ""}${g.owning_team_member ? " (owning team)" : ""}`).join(" AND ");
}

export function WorkflowsPage() {
  const { can } = useSession();
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const workflows = usePaged((cursor) => must(api.GET("/api/v1/workflows", { params: { query: pageQuery(50, cursor) } })), [v]);
  const [editing, setEditing] = useState<Workflow | "new" | null>(null);
  const [deleting, setDeleting] = useState<Workflow | null>(null);
  const act = useSubmit();
  const edit = can("workflow.edit");
  return (
    <>
      <section className="card">
        <h2>Workflows</h2>
        <ErrorBanner error={act.error} />
        <PagedTable
          paged={workflows}
          what="workflows"
          empty="No workflows yet."
          caption="Approval workflows"
          rowKey={(w) => w.id}
          columns={[
            { header: "Name", cell: (w) => <>{w.name}{w.is_default && <span className="chip">default</span>}{w.is_system && <span className="chip">system</span>}{w.enabled === false && <span className="chip">disabled</span>}</> },
            { header: "Approvals", cell: summary },
            { header: "Policy rules", cell: (w) => w.policy_rules ?? 0 },
            {
              header: "Actions",
              cell: (w) =>
                edit && (
                  <div className="row">
                    <Button onPress={() => setEditing(w)}>Edit {w.name}</Button>
                    {!w.is_default && w.enabled !== false && (
                      <Button onPress={() => void act.submit(async () => (await must(api.PUT("/api/v1/workflows/{id}/default", { params: { path: { id: w.id! } } })), bump()))}>
                        Make {w.name} the default
                      </Button>
                    )}
                    <Button variant="danger" onPress={() => setDeleting(w)}>
                      Delete {w.name}
                    </Button>
                  </div>
                ),
            },
          ]}
        />
        {edit &&
          (editing ? (
            <WorkflowForm key={editing === "new" ? "new" : editing.id} workflow={editing === "new" ? undefined : editing} onDone={() => (setEditing(null), bump())} onCancel={() => setEditing(null)} />
          ) : (
            <Button variant="primary" onPress={() => setEditing("new")}>
              New workflow
            </Button>
          ))}
      </section>
      <ConfirmAbout
        item={deleting}
        title={(w) => `Delete the workflow ${w.name}?`}
        confirmLabel="Delete workflow"
        onClose={() => setDeleting(null)}
        onConfirm={(w) => void act.submit(async () => (await must(api.DELETE("/api/v1/workflows/{id}", { params: { path: { id: w.id! } } })), bump()))}
      >
        {() => <p>Requests already submitted keep the snapshot they were decided with.</p>}
      </ConfirmAbout>
    </>
  );
}
