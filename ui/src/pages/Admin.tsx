// pages/Admin.tsx — administration: teams, projects, environments, provider
// connections and their project bindings, secret bindings, users, roles and
// grants (create with scope), workflows and policy rules (read). Each form
// validates before submit and shows the server's error; lists reload after
// every change.
import { useState, type ReactNode } from "react";
import { Form } from "react-aria-components";
import { api, must } from "../api/client";
import { Button, Empty, ErrorBanner, Field, Loading, Select, useLoad, useSubmit } from "../components/ui";

const NAME = "^[a-z0-9][a-z0-9-]{0,62}$";
const nameRule = (v: string) => (new RegExp(NAME).test(v) ? null : "lowercase letters, digits and dashes, starting with a letter or digit");

function CreateForm(props: { title: string; onCreate: () => Promise<void>; children: ReactNode; submitLabel: string }) {
  const { busy, error, submit, setError } = useSubmit();
  return (
    <Form
      className="form inline-form"
      aria-label={props.title}
      validationBehavior="aria"
      onSubmit={(e) => {
        e.preventDefault();
        // field rules show as they are typed; a form with one broken is not sent
        if (e.currentTarget.querySelector('[aria-invalid="true"]')) setError(new Error("Correct the fields marked in red first."));
        else void submit(props.onCreate);
      }}
    >
      <h3>{props.title}</h3>
      <ErrorBanner error={error} />
      {props.children}
      <Button type="submit" variant="primary" isDisabled={busy}>
        {props.submitLabel}
      </Button>
    </Form>
  );
}

function Listing<T>(props: { what: string; load: { data?: T[]; error: unknown; loading: boolean }; render: (t: T) => ReactNode; keyOf: (t: T) => string }) {
  if (props.load.loading && !props.load.data) return <Loading what={props.what} />;
  return (
    <>
      <ErrorBanner error={props.load.error} />
      {props.load.data?.length ? <ul className="plain">{props.load.data.map((t) => <li key={props.keyOf(t)}>{props.render(t)}</li>)}</ul> : <Empty>No {props.what} yet.</Empty>}
    </>
  );
}

/** Teams in tree order (parents before their children), each with its depth. */
function asTree<T extends { id?: string; parent_id?: string | null; name?: string }>(teams: T[]): (T & { depth: number })[] {
  const out: (T & { depth: number })[] = [];
  const ids = new Set(teams.map((t) => t.id));
  const visit = (parent: string | null, depth: number) => {
    for (const t of teams.filter((x) => (x.parent_id && ids.has(x.parent_id) ? x.parent_id : null) === parent).sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""))) {
      out.push({ ...t, depth });
      if (depth < 32) visit(t.id ?? null, depth + 1);
    }
  };
  visit(null, 0);
  return out;
}

export function AdminPage() {
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const teams = useLoad(async () => (await must(api.GET("/api/v1/teams"))).items ?? [], [v]);
  const projects = useLoad(async () => (await must(api.GET("/api/v1/projects"))).items ?? [], [v]);
  const conns = useLoad(async () => (await must(api.GET("/api/v1/provider-connections"))).items ?? [], [v]);
  const users = useLoad(async () => (await must(api.GET("/api/v1/users"))).items ?? [], [v]);
  const roles = useLoad(async () => (await must(api.GET("/api/v1/roles"))).items ?? [], [v]);
  const grants = useLoad(async () => (await must(api.GET("/api/v1/grants"))).items ?? [], [v]);
  const workflows = useLoad(async () => (await must(api.GET("/api/v1/workflows"))).items ?? [], [v]);
  const rules = useLoad(async () => (await must(api.GET("/api/v1/policy-rules"))).items ?? [], [v]);

  const [team, setTeam] = useState({ name: "", parent: "" });
  const [project, setProject] = useState({ name: "", team: "" });
  const [env, setEnv] = useState({ project: "", name: "", kind: "non_prod" });
  const envs = useLoad(async () => (env.project ? ((await must(api.GET("/api/v1/projects/{id}/environments", { params: { path: { id: env.project } } }))).items ?? []) : []), [env.project, v]);
  const [conn, setConn] = useState({ name: "", type: "vault", address: "", mount: "secret" });
  const [cb, setCb] = useState({ connection: "", project: "" });
  const [sb, setSb] = useState({ project: "", environment: "", secret: "", keys: "", read: true, patch: false });
  const sbEnvs = useLoad(async () => (sb.project ? ((await must(api.GET("/api/v1/projects/{id}/environments", { params: { path: { id: sb.project } } }))).items ?? []) : []), [sb.project, v]);
  const catalog = useLoad(async () => (await must(api.GET("/api/v1/secrets", { params: { query: { limit: 500 } } }))).items ?? [], [v]);
  const sbList = useLoad(async () => (sb.project ? ((await must(api.GET("/api/v1/projects/{id}/secret-bindings", { params: { path: { id: sb.project } } }))).items ?? []) : []), [sb.project, v]);
  const [grant, setGrant] = useState({ user: "", role: "", scope: "global", scopeId: "" });

  const opt = <T extends { id?: string; name?: string; username?: string }>(xs?: T[]) => (xs ?? []).map((x) => ({ value: x.id!, label: x.name ?? x.username ?? x.id! }));
  const projectOpts = opt(projects.data);

  return (
    <>
      <h1>Administration</h1>
      <section className="card">
        <h2>Teams</h2>
        <Listing what="teams" load={{ ...teams, data: teams.data && asTree(teams.data) }} keyOf={(t) => t.id!} render={(t) => <span className={`depth-${Math.min(t.depth, 5)}`}>{t.name}</span>} />
        <CreateForm title="New team" submitLabel="Create team" onCreate={async () => (await must(api.POST("/api/v1/teams", { body: { name: team.name, ...(team.parent ? { parent_id: team.parent } : {}) } })), setTeam({ name: "", parent: "" }), bump())}>
          <Field label="Team name" name="team-name" value={team.name} onChange={(name) => setTeam({ ...team, name })} required />
          <Select label="Parent team" value={team.parent} onChange={(parent) => setTeam({ ...team, parent })} placeholder="None (a root team)" options={opt(teams.data)} />
        </CreateForm>
      </section>
      <section className="card">
        <h2>Projects</h2>
        <Listing what="projects" load={projects} keyOf={(p) => p.id!} render={(p) => <>{p.name}</>} />
        <CreateForm title="New project" submitLabel="Create project" onCreate={async () => (await must(api.POST("/api/v1/projects", { body: { name: project.name, team_id: project.team } })), setProject({ name: "", team: "" }), bump())}>
          <Field label="Project name" name="project-name" value={project.name} onChange={(name) => setProject({ ...project, name })} required validate={nameRule} />
          <Select label="Owning team" value={project.team} onChange={(t) => setProject({ ...project, team: t })} required options={opt(teams.data)} />
        </CreateForm>
      </section>
      <section className="card">
        <h2>Environments</h2>
        <Select label="Project of the environment" value={env.project} onChange={(p) => setEnv({ ...env, project: p })} options={projectOpts} />
        {env.project && <Listing what="environments" load={envs} keyOf={(e) => e.id!} render={(e) => <>{e.name} ({e.kind})</>} />}
        <CreateForm title="New environment" submitLabel="Create environment" onCreate={async () => (await must(api.POST("/api/v1/environments", { body: { project_id: env.project, name: env.name, kind: env.kind as "prod" } })), setEnv({ ...env, name: "" }), bump())}>
          <Field label="Environment name" name="env-name" value={env.name} onChange={(name) => setEnv({ ...env, name })} required validate={nameRule} />
          <Select label="Kind" value={env.kind} onChange={(kind) => setEnv({ ...env, kind })} required options={[{ value: "non_prod", label: "non-prod" }, { value: "prod", label: "prod" }]} />
        </CreateForm>
      </section>
      <section className="card">
        <h2>Provider connections</h2>
        <Listing what="connections" load={conns} keyOf={(c) => c.id!} render={(c) => <>{c.name} ({c.type}, {c.status})</>} />
        <CreateForm
          title="New connection"
          submitLabel="Create connection"
          onCreate={async () => (await must(api.POST("/api/v1/provider-connections", { body: { name: conn.name, type: conn.type as "vault", discovery_interval_s: 300, scope: conn.type === "vault" ? { address: conn.address, mount: conn.mount } : { region: conn.address } } })), setConn({ ...conn, name: "" }), bump())}
        >
          <Field label="Connection name" name="conn-name" value={conn.name} onChange={(name) => setConn({ ...conn, name })} required validate={nameRule} />
          <Select label="Provider type" value={conn.type} onChange={(type) => setConn({ ...conn, type })} required options={["vault", "aws-sm", "gcp-sm", "azure-kv", "kubernetes"].map((t) => ({ value: t, label: t }))} />
          <Field label={conn.type === "vault" ? "Vault address" : "Region / location"} name="conn-address" value={conn.address} onChange={(address) => setConn({ ...conn, address })} required />
          {conn.type === "vault" && <Field label="KV mount" name="conn-mount" value={conn.mount} onChange={(mount) => setConn({ ...conn, mount })} required />}
        </CreateForm>
        <CreateForm title="Bind a connection to a project" submitLabel="Bind connection" onCreate={async () => (await must(api.POST("/api/v1/provider-connections/{id}/bindings", { params: { path: { id: cb.connection } }, body: { project_id: cb.project } })), bump())}>
          <Select label="Connection to bind" value={cb.connection} onChange={(connection) => setCb({ ...cb, connection })} required options={opt(conns.data)} />
          <Select label="Project to bind to" value={cb.project} onChange={(p) => setCb({ ...cb, project: p })} required options={projectOpts} />
        </CreateForm>
      </section>
      <section className="card">
        <h2>Secret bindings</h2>
        <Select label="Project of the binding" value={sb.project} onChange={(p) => setSb({ ...sb, project: p, environment: "" })} options={projectOpts} />
        {sb.project && <Listing what="secret bindings" load={sbList} keyOf={(b) => b.id!} render={(b) => <>{b.secret_ref}: {(b.allowed_keys ?? []).join(", ")} ({(b.allowed_ops ?? []).join(", ")})</>} />}
        <CreateForm
          title="New secret binding"
          submitLabel="Create secret binding"
          onCreate={async () => {
            const allowed_ops = [...(sb.read ? ["read" as const] : []), ...(sb.patch ? ["patch" as const] : [])];
            const allowed_keys = sb.keys.split(",").map((k) => k.trim()).filter(Boolean);
            if (!allowed_ops.length) throw new Error("Allow at least one operation.");
            if (!allowed_keys.length) throw new Error("List at least one key.");
            await must(api.POST("/api/v1/projects/{id}/secret-bindings", { params: { path: { id: sb.project } }, body: { catalog_secret_id: sb.secret, environment_id: sb.environment, allowed_keys, allowed_ops } }));
            bump();
          }}
        >
          <Select label="Environment of the binding" value={sb.environment} onChange={(environment) => setSb({ ...sb, environment })} required options={opt(sbEnvs.data)} />
          <Select label="Catalog secret" value={sb.secret} onChange={(secret) => setSb({ ...sb, secret })} required options={(catalog.data ?? []).map((s) => ({ value: s.id!, label: `${s.connection_name}: ${s.secret_ref}` }))} />
          <Field label="Allowed keys (comma-separated)" name="sb-keys" value={sb.keys} onChange={(keys) => setSb({ ...sb, keys })} required />
          <label className="inline">
            <input type="checkbox" checked={sb.read} onChange={(e) => setSb({ ...sb, read: e.target.checked })} /> read
          </label>
          <label className="inline">
            <input type="checkbox" checked={sb.patch} onChange={(e) => setSb({ ...sb, patch: e.target.checked })} /> patch
          </label>
        </CreateForm>
      </section>
      <section className="card">
        <h2>Users and grants</h2>
        <Listing what="users" load={users} keyOf={(u) => u.id!} render={(u) => <>{u.username}</>} />
        <h3>Roles</h3>
        <Listing what="roles" load={roles} keyOf={(r) => r.id!} render={(r) => <>{r.name}: {(r.permissions ?? []).length} permissions</>} />
        <h3>Grants</h3>
        <Listing what="grants" load={grants} keyOf={(g) => g.id!} render={(g) => <>{users.data?.find((u) => u.id === g.user_id)?.username ?? g.user_id}: {g.role} ({g.scope_type})</>} />
        <CreateForm
          title="New grant"
          submitLabel="Grant role"
          onCreate={async () => (await must(api.POST("/api/v1/grants", { body: { user_id: grant.user, role_id: grant.role, scope_type: grant.scope as "global", ...(grant.scope !== "global" ? { scope_id: grant.scopeId } : {}) } })), bump())}
        >
          <Select label="User" value={grant.user} onChange={(user) => setGrant({ ...grant, user })} required options={opt(users.data)} />
          <Select label="Role" value={grant.role} onChange={(role) => setGrant({ ...grant, role })} required options={opt(roles.data)} />
          <Select label="Scope" value={grant.scope} onChange={(scope) => setGrant({ ...grant, scope, scopeId: "" })} required options={["global", "team", "project"].map((s) => ({ value: s, label: s }))} />
          {grant.scope !== "global" && <Select label="Scope target" value={grant.scopeId} onChange={(scopeId) => setGrant({ ...grant, scopeId })} required options={grant.scope === "team" ? opt(teams.data) : projectOpts} />}
        </CreateForm>
      </section>
      <section className="card">
        <h2>Workflows and policies</h2>
        <Listing what="workflows" load={workflows} keyOf={(w) => (w as { id?: string }).id ?? w.name!} render={(w) => <>{w.name}: {w.min_approvers} approver(s)</>} />
        <Listing what="policy rules" load={rules} keyOf={(r) => (r as { id?: string }).id ?? r.name!} render={(r) => <>{r.name} (priority {r.priority})</>} />
      </section>
    </>
  );
}
