// pages/admin/WorkflowForm.tsx — create or edit a workflow: name, minimum
// approvers, approver roles, approval groups (combined with AND: each needs
// its number of approvers, by permission, its roles or owning-team membership),
// justification and self-approval switches, request and fill TTLs, enabled.
// Validated before submit; the server's 422 names any field it refuses.
import { useState } from "react";
import { api, listAll, must, type Schemas } from "../../api/client";
import { Check, CreateForm, intRule, nameRule } from "../../components/forms";
import { Button, Field, Select, useLoad } from "../../components/ui";

type Group = Schemas["WorkflowGroup"];
interface GroupDraft {
  name: string;
  required: string;
  permission: NonNullable<Group["permission"]>;
  owning_team_member: boolean;
  role_ids: string[];
}

const MAX_GROUPS = 8;

export function WorkflowForm({ workflow: w, onDone, onCancel }: { workflow?: Schemas["Workflow"]; onDone: () => void; onCancel: () => void }) {
  const [f, setF] = useState({
    name: w?.name ?? "",
    description: w?.description ?? "",
    min_approvers: String(w?.min_approvers ?? 1),
    request_ttl_s: w?.request_ttl_s ? String(w.request_ttl_s) : "",
    fill_ttl_s: w?.fill_ttl_s ? String(w.fill_ttl_s) : "",
    require_justification: w?.require_justification ?? true,
    allow_self_approval: w?.allow_self_approval ?? false,
    enabled: w?.enabled ?? true,
    approver_role_ids: w?.approver_role_ids ?? [],
  });
  const [groups, setGroups] = useState<GroupDraft[]>(
    (w?.groups ?? []).map((g) => ({ name: g.name, required: String(g.required), permission: g.permission ?? "secret.approve", owning_team_member: !!g.owning_team_member, role_ids: g.role_ids ?? [] })),
  );
  const roles = useLoad(() => listAll("/api/v1/roles"), []);
  const set = <K extends keyof typeof f>(k: K) => (v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));
  const setGroup = (i: number, g: Partial<GroupDraft>) => setGroups((gs) => gs.map((x, j) => (j === i ? { ...x, ...g } : x)));
  const toggleRole = (ids: string[], id: string, on: boolean) => (on ? [...ids, id] : ids.filter((x) => x !== id));
  const label = w ? `workflow ${w.name}` : "the new workflow";
  return (
    <CreateForm
      title={w ? `Edit workflow ${w.name}` : "New workflow"}
      submitLabel={w ? "Save workflow" : "Create workflow"}
      onCancel={onCancel}
      onCreate={async () => {
        const names = groups.map((g) => g.name.trim());
        if (names.some((n) => !n)) throw new Error("Every approval group needs a name.");
        if (new Set(names).size !== names.length) throw new Error("Approval group names must differ.");
        const body = {
          name: f.name,
          description: f.description,
          min_approvers: +f.min_approvers,
          approver_role_ids: f.approver_role_ids,
          groups: groups.map((g) => ({ name: g.name.trim(), required: +g.required, permission: g.permission, owning_team_member: g.owning_team_member, role_ids: g.role_ids })),
          require_justification: f.require_justification,
          allow_self_approval: f.allow_self_approval,
          enabled: f.enabled,
          ...(f.request_ttl_s ? { request_ttl_s: +f.request_ttl_s } : {}),
          ...(f.fill_ttl_s ? { fill_ttl_s: +f.fill_ttl_s } : {}),
        };
        if (w) await must(api.PUT("/api/v1/workflows/{id}", { params: { path: { id: w.id! } }, body }));
        else await must(api.POST("/api/v1/workflows", { body }));
        onDone();
      }}
    >
      <Field label="Workflow name" name="wf-name" value={f.name} onChange={set("name")} required validate={nameRule} />
      <Field label="Workflow description" name="wf-description" value={f.description} onChange={set("description")} />
      <Field label="Minimum approvers" name="wf-min" value={f.min_approvers} onChange={set("min_approvers")} required validate={intRule(0, 20)} description="Used when the workflow has no approval groups." />
      <Field label="Request TTL (seconds, optional)" name="wf-ttl" value={f.request_ttl_s} onChange={set("request_ttl_s")} validate={intRule(60, 7776000)} />
      <Field label="Cross-team fill window (seconds, optional)" name="wf-fill-ttl" value={f.fill_ttl_s} onChange={set("fill_ttl_s")} validate={intRule(60, 2592000)} />
      <Check label="Require a justification" checked={f.require_justification} onChange={set("require_justification")} />
      <Check label="Allow self-approval" checked={f.allow_self_approval} onChange={set("allow_self_approval")} />
      <Check label="Enabled" checked={f.enabled} onChange={set("enabled")} />
      <fieldset>
        <legend>Approver roles (none: any holder of the approve permission)</legend>
        {(roles.data ?? []).map((r) => (
          <Check key={r.id} label={r.name!} checked={f.approver_role_ids.includes(r.id!)} onChange={(on) => set("approver_role_ids")(toggleRole(f.approver_role_ids, r.id!, on))} />
        ))}
      </fieldset>
      <fieldset>
        <legend>Approval groups (all must be satisfied)</legend>
        {groups.length === 0 && <p className="hint">No groups: the minimum approvers above decide.</p>}
        {groups.map((g, i) => (
          <fieldset key={i} aria-label={`Approval group ${i + 1}`}>
            <legend>Group {i + 1}</legend>
            <div className="row">
              <Field label={`Group ${i + 1} name`} name={`g${i}-name`} value={g.name} onChange={(name) => setGroup(i, { name })} required />
              <Field label={`Group ${i + 1} approvals needed`} name={`g${i}-required`} value={g.required} onChange={(required) => setGroup(i, { required })} required validate={intRule(1, 20)} />
              <Select
                label={`Group ${i + 1} permission`}
                value={g.permission}
                onChange={(p) => setGroup(i, { permission: (p || "secret.approve") as GroupDraft["permission"] })}
                required
                options={["secret.approve", "secret.security.approve"].map((p) => ({ value: p, label: p }))}
              />
            </div>
            <Check label={`Group ${i + 1}: members of the owning team only`} checked={g.owning_team_member} onChange={(owning_team_member) => setGroup(i, { owning_team_member })} />
            <fieldset>
              <legend>Group {i + 1} roles (none: any holder of its permission)</legend>
              {(roles.data ?? []).map((r) => (
                <Check key={r.id} label={r.name!} checked={g.role_ids.includes(r.id!)} onChange={(on) => setGroup(i, { role_ids: toggleRole(g.role_ids, r.id!, on) })} />
              ))}
            </fieldset>
            <Button onPress={() => setGroups((gs) => gs.filter((_, j) => j !== i))}>Remove group {i + 1}</Button>
          </fieldset>
        ))}
        {groups.length < MAX_GROUPS && (
          <Button onPress={() => setGroups((gs) => [...gs, { name: "", required: "1", permission: "secret.approve", owning_team_member: false, role_ids: [] }])}>
            Add an approval group to {label}
          </Button>
        )}
      </fieldset>
    </CreateForm>
  );
}
