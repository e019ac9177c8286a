// pages/admin/PolicyForm.tsx — create or edit a policy rule: name, anchor
// (platform, a team or a project; fixed once created), workflow, priority,
// enabled, the selector (project, environment kind, provider type, secret
// reference prefix, operation; empty = any) and access (direct reveal, MFA,
// reveal TTL). Validated before submit; the server's 422/403 is shown as is.
import { useState } from "react";
import { api, listAll, must, type Schemas } from "../../api/client";
import { Check, CreateForm, intRule, optionsOf } from "../../components/forms";
import { Field, Select, useLoad } from "../../components/ui";

type Rule = Schemas["PolicyRule"];
type Selector = NonNullable<Rule["selector"]>;

const opts = (xs: string[]) => xs.map((x) => ({ value: x, label: x }));

export function PolicyForm({ rule, workflows, onDone, onCancel }: { rule?: Rule; workflows: Schemas["Workflow"][]; onDone: () => void; onCancel: () => void }) {
  const sel = rule?.selector ?? {};
  const [f, setF] = useState({
    name: rule?.name ?? "",
    description: rule?.description ?? "",
    anchorType: rule?.anchor?.type ?? "platform",
    anchorId: rule?.anchor?.id ?? "",
    workflow: rule?.workflow_id ?? "",
    priority: String(rule?.priority ?? 100),
    enabled: rule?.enabled ?? true,
    project: sel.project_id ?? "",
    envKind: sel.environment_kind ?? "",
    provider: sel.provider_type ?? "",
    prefix: sel.secret_ref_prefix ?? "",
    operation: sel.operation ?? "",
    direct: rule?.access?.direct_reveal_allowed ?? false,
    mfa: rule?.access?.mfa_required ?? false,
    revealTtl: String(rule?.access?.reveal_ttl_s ?? 60),
  });
  const set = <K extends keyof typeof f>(k: K) => (v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));
  const teams = useLoad(() => listAll("/api/v1/teams"), []);
  const projects = useLoad(() => listAll("/api/v1/projects"), []);
  return (
    <CreateForm
      title={rule ? `Edit policy rule ${rule.name}` : "New policy rule"}
      submitLabel={rule ? "Save rule" : "Create rule"}
      onCancel={onCancel}
      onCreate={async () => {
        if (!f.workflow) throw new Error("Choose the workflow the rule applies.");
        if (f.anchorType !== "platform" && !f.anchorId) throw new Error(`Choose the ${f.anchorType} the rule is anchored to.`);
        const selector: Selector = {
          project_id: f.project || null,
          environment_kind: (f.envKind || null) as Selector["environment_kind"],
          provider_type: (f.provider || null) as Selector["provider_type"],
          secret_ref_prefix: f.prefix || null,
          operation: (f.operation || null) as Selector["operation"],
        };
        const body = {
          name: f.name.trim(),
          description: f.description,
          workflow_id: f.workflow,
          priority: +f.priority,
          enabled: f.enabled,
          selector,
          access: { direct_reveal_allowed: f.direct, mfa_required: f.mfa, reveal_ttl_s: +f.revealTtl },
        };
        if (rule) await must(api.PUT("/api/v1/policy-rules/{id}", { params: { path: { id: rule.id! } }, body }));
        else await must(api.POST("/api/v1/policy-rules", { body: { ...body, anchor: { type: f.anchorType, id: f.anchorType === "platform" ? null : f.anchorId } } }));
        onDone();
      }}
    >
      <Field label="Rule name" name="rule-name" value={f.name} onChange={set("name")} required validate={(v) => (v.trim() && v.length <= 120 ? null : "1 to 120 characters")} />
      <Field label="Rule description" name="rule-description" value={f.description} onChange={set("description")} />
      {rule ? (
        <p className="hint">Anchored to {rule.anchor?.type} (fixed once created).</p>
      ) : (
        <div className="row">
          <Select label="Anchor" value={f.anchorType} onChange={(t) => setF((x) => ({ ...x, anchorType: (t || "platform") as typeof x.anchorType, anchorId: "" }))} required options={opts(["platform", "team", "project"])} />
          {f.anchorType !== "platform" && <Select label={`Anchor ${f.anchorType}`} value={f.anchorId} onChange={set("anchorId")} required options={optionsOf(f.anchorType === "team" ? teams.data : projects.data)} />}
        </div>
      )}
      <Select label="Workflow" value={f.workflow} onChange={set("workflow")} required options={workflows.map((w) => ({ value: w.id!, label: w.name! }))} />
      <Field label="Priority" name="rule-priority" value={f.priority} onChange={set("priority")} required validate={intRule(-10000, 10000)} description="Higher wins." />
      <Check label="Rule enabled" checked={f.enabled} onChange={set("enabled")} />
      <fieldset>
        <legend>Matches (empty: any)</legend>
        <div className="row">
          <Select label="Selector project" value={f.project} onChange={set("project")} placeholder="Any project" options={optionsOf(projects.data)} />
          <Select label="Environment kind" value={f.envKind} onChange={(v) => set("envKind")(v as typeof f.envKind)} placeholder="Any kind" options={opts(["non_prod", "prod"])} />
          <Select label="Provider type" value={f.provider} onChange={(v) => set("provider")(v as typeof f.provider)} placeholder="Any provider" options={opts(["vault", "aws-sm", "gcp-sm", "azure-kv", "kubernetes"])} />
          <Select label="Operation" value={f.operation} onChange={(v) => set("operation")(v as typeof f.operation)} placeholder="Any operation" options={opts(["read", "patch", "reveal"])} />
        </div>
        <Field label="Secret reference prefix" name="rule-prefix" value={f.prefix} onChange={set("prefix")} />
      </fieldset>
      <fieldset>
        <legend>Access</legend>
        <Check label="Allow direct reveal (never on prod)" checked={f.direct} onChange={set("direct")} />
        <Check label="Require MFA" checked={f.mfa} onChange={set("mfa")} />
        <Field label="Reveal TTL (seconds)" name="rule-reveal-ttl" value={f.revealTtl} onChange={set("revealTtl")} required validate={intRule(10, 300)} />
      </fieldset>
    </CreateForm>
  );
}
