// pages/admin/Tenancy.tsx — teams (a tree) and their members, projects,
// environments, provider connections and their project bindings, secret
// bindings. Each form validates before submit and shows the server's error;
// lists reload after every change. Reference lists are read whole (every
// page), since trees and pickers need them all.
import { useState } from "react";
import { api, listAll, must, projectEnvironments, projectSecretBindings } from "../../api/client";
import { Check, CreateForm, Listing, nameRule, optionsOf } from "../../components/forms";
import { Field, Select, useLoad } from "../../components/ui";
import { useSession } from "../../lib/session";
import { TeamMembers } from "./TeamMembers";

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

export function TenancyPage() {
  const { can } = useSession();
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const teams = useLoad(() => listAll("/api/v1/teams"), [v]);
  const projects = useLoad(() => listAll("/api/v1/projects"), [v]);
  const conns = useLoad(() => listAll("/api/v1/provider-connections"), [v]);

  const [team, setTeam] = useState({ name: "", parent: "" });
  const [project, setProject] = useState({ name: "", team: "" });
  const [env, setEnv] = useState({ project: "", name: "", kind: "non_prod" });
  const envs = useLoad(() => projectEnvironments(env.project), [env.project, v]);
  const [conn, setConn] = useState({ name: "", type: "vault", address: "", mount: "secret" });
  const [cb, setCb] = useState({ connection: "", project: "" });
  const [sb, setSb] = useState({ project: "", environment: "", secret: "", keys: "", read: true, patch: false });
  const sbEnvs = useLoad(() => projectEnvironments(sb.project), [sb.project, v]);
  const catalog = useLoad(() => listAll("/api/v1/secrets"), [v]);
  const sbList = useLoad(() => projectSecretBindings(sb.project), [sb.project, v]);

  const projectOpts = optionsOf(projects.data);

  return (
    <>
      <section className="card">
        <h2>Teams</h2>
        <Listing what="teams" load={{ ...teams, data: teams.data && asTree(teams.data) }} keyOf={(t) => t.id!} render={(t) => <span className={`depth-${Math.min(t.depth, 5)}`}>{t.name}</span>} />
        <CreateForm title="New team" submitLabel="Create team" onCreate={async () => (await must(api.POST("/api/v1/teams", { body: { name: team.name, ...(team.parent ? { parent_id: team.parent } : {}) } })), setTeam({ name: "", parent: "" }), bump())}>
          <Field label="Team name" name="team-name" value={team.name} onChange={(name) => setTeam({ ...team, name })} required />
          <Select label="Parent team" value={team.parent} onChange={(parent) => setTeam({ ...team, parent })} placeholder="None (a root team)" options={optionsOf(teams.data)} />
        </CreateForm>
        {can("user.manage") && <TeamMembers teams={optionsOf(teams.data)} />}
      </section>
      <section className="card">
        <h2>Projects</h2>
        <Listing what="projects" load={projects} keyOf={(p) => p.id!} render={(p) => <>{p.name}</>} />
        <CreateForm title="New project" submitLabel="Create project" onCreate={async () => (await must(api.POST("/api/v1/projects", { body: { name: project.name, team_id: project.team } })), setProject({ name: "", team: "" }), bump())}>
          <Field label="Project name" name="project-name" value={project.name} onChange={(name) => setProject({ ...project, name })} required validate={nameRule} />
          <Select label="Owning team" value={project.team} onChange={(t) => setProject({ ...project, team: t })} required options={optionsOf(teams.data)} />
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
          <Select label="Connection to bind" value={cb.connection} onChange={(connection) => setCb({ ...cb, connection })} required options={optionsOf(conns.data)} />
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
          <Select label="Environment of the binding" value={sb.environment} onChange={(environment) => setSb({ ...sb, environment })} required options={optionsOf(sbEnvs.data)} />
          <Select label="Catalog secret" value={sb.secret} onChange={(secret) => setSb({ ...sb, secret })} required options={(catalog.data ?? []).map((s) => ({ value: s.id!, label: `${s.connection_name}: ${s.secret_ref}` }))} />
          <Field label="Allowed keys (comma-separated)" name="sb-keys" value={sb.keys} onChange={(keys) => setSb({ ...sb, keys })} required />
          <Check label="read" checked={sb.read} onChange={(read) => setSb({ ...sb, read })} />
          <Check label="patch" checked={sb.patch} onChange={(patch) => setSb({ ...sb, patch })} />
        </CreateForm>
      </section>
    </>
  );
}
