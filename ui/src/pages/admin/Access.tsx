// pages/admin/Access.tsx — who may do what: users (read), roles with a
// permission picker (create, edit and delete custom roles; system roles are
// read-only), grants of a role at a scope (create, revoke after
// confirmation; paged).
import { useState } from "react";
import { api, listAll, must, pageQuery, type Schemas } from "../../api/client";
import { CreateForm, Listing, optionsOf } from "../../components/forms";
import { PagedTable, usePaged } from "../../components/paged";
import { Button, ConfirmAbout, DataTable, ErrorBanner, Loading, Select, Time, useLoad, useSubmit } from "../../components/ui";
import { useSession } from "../../lib/session";
import { RoleForm } from "./RoleForm";

type Role = Schemas["Role"];
type Grant = Schemas["Grant"];

export function AccessPage() {
  const { can } = useSession();
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const users = useLoad(() => listAll("/api/v1/users"), [v]);
  const roles = useLoad(() => listAll("/api/v1/roles"), [v]);
  const teams = useLoad(() => listAll("/api/v1/teams"), [v]);
  const projects = useLoad(() => listAll("/api/v1/projects"), [v]);
  const grants = usePaged((cursor) => must(api.GET("/api/v1/grants", { params: { query: pageQuery(50, cursor) } })), [v]);
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const [revoking, setRevoking] = useState<Grant | null>(null);
  const [grant, setGrant] = useState({ user: "", role: "", scope: "global", scopeId: "" });
  const act = useSubmit();
  const userName = (id?: string) => users.data?.find((u) => u.id === id)?.username ?? id;
  const roleName = (g: Grant) => g.role || (roles.data?.find((r) => r.id === g.role_id)?.name ?? g.role_id);
  const scopeName = (g: Grant) =>
    g.scope_type === "global" ? "global" : `${g.scope_type} ${(g.scope_type === "team" ? teams.data : projects.data)?.find((x) => x.id === g.scope_id)?.name ?? g.scope_id}`;
  return (
    <>
      <ErrorBanner error={act.error} />
      {can("user.manage") && (
        <section className="card">
          <h2>Users</h2>
          <Listing what="users" load={users} keyOf={(u) => u.id!} render={(u) => <>{u.username} <span className="hint">({u.source}, {u.status})</span></>} />
        </section>
      )}
      <section className="card">
        <h2>Roles</h2>
        {roles.loading && !roles.data && <Loading what="roles" />}
        <ErrorBanner error={roles.error} />
        {roles.data && (
          <DataTable
            caption="Roles"
            rows={roles.data}
            rowKey={(r) => r.id}
            columns={[
              { header: "Name", cell: (r) => r.name },
              { header: "Description", cell: (r) => r.description },
              { header: "Permissions", cell: (r) => (r.permissions ?? []).join(", ") },
              {
                header: "Actions",
                cell: (r) =>
                  r.is_system ? (
                    <span className="hint">system role (read-only)</span>
                  ) : (
                    can("role.edit") && (
                      <div className="row">
                        <Button onPress={() => setEditing(r)}>Edit {r.name}</Button>
                        <Button variant="danger" onPress={() => setDeleting(r)}>
                          Delete {r.name}
                        </Button>
                      </div>
                    )
                  ),
              },
            ]}
          />
        )}
        {can("role.edit") &&
          (editing ? (
            <RoleForm key={editing === "new" ? "new" : editing.id} role={editing === "new" ? undefined : editing} onDone={() => (setEditing(null), bump())} onCancel={() => setEditing(null)} />
          ) : (
            <Button variant="primary" onPress={() => setEditing("new")}>
              New role
            </Button>
          ))}
      </section>
      <section className="card">
        <h2>Grants</h2>
        <PagedTable
          paged={grants}
          what="grants"
          empty="No grants yet."
          caption="Grants: a role at a scope"
          rowKey={(g) => g.id}
          columns={[
            { header: "User", cell: (g) => userName(g.user_id) },
            { header: "Role", cell: roleName },
            { header: "Scope", cell: (g) => scopeName(g) },
            { header: "Since", cell: (g) => <Time at={g.created_at} /> },
            {
              header: "Actions",
              cell: (g) => (
                <Button variant="danger" onPress={() => setRevoking(g)}>
                  Revoke {roleName(g)} from {userName(g.user_id)}
                </Button>
              ),
            },
          ]}
        />
        <CreateForm
          title="New grant"
          submitLabel="Grant role"
          onCreate={async () => {
            if (grant.scope !== "global" && !grant.scopeId) throw new Error(`Choose the ${grant.scope} the role applies to.`);
            await must(api.POST("/api/v1/grants", { body: { user_id: grant.user, role_id: grant.role, scope_type: grant.scope as "global", ...(grant.scope !== "global" ? { scope_id: grant.scopeId } : {}) } }));
            bump();
          }}
        >
          <Select label="User" value={grant.user} onChange={(user) => setGrant({ ...grant, user })} required options={optionsOf(users.data)} />
          <Select label="Role" value={grant.role} onChange={(role) => setGrant({ ...grant, role })} required options={optionsOf(roles.data)} />
          <Select label="Scope" value={grant.scope} onChange={(scope) => setGrant({ ...grant, scope, scopeId: "" })} required options={["global", "team", "project"].map((s) => ({ value: s, label: s }))} />
          {grant.scope !== "global" && <Select label="Scope target" value={grant.scopeId} onChange={(scopeId) => setGrant({ ...grant, scopeId })} required options={grant.scope === "team" ? optionsOf(teams.data) : optionsOf(projects.data)} />}
        </CreateForm>
      </section>
      <ConfirmAbout
        item={deleting}
        title={(r) => `Delete the role ${r.name}?`}
        confirmLabel="Delete role"
        onClose={() => setDeleting(null)}
        onConfirm={(r) => void act.submit(async () => (await must(api.DELETE("/api/v1/roles/{id}", { params: { path: { id: r.id! } } })), bump()))}
      >
        {() => <p>A role that is still granted cannot be deleted: revoke its grants first.</p>}
      </ConfirmAbout>
      <ConfirmAbout
        item={revoking}
        title={() => "Revoke this grant?"}
        confirmLabel="Revoke grant"
        onClose={() => setRevoking(null)}
        onConfirm={(g) => void act.submit(async () => (await must(api.DELETE("/api/v1/grants/{id}", { params: { path: { id: g.id! } } })), bump()))}
      >
        {(g) => (
          <p>
            {userName(g.user_id)} loses the role {roleName(g)} ({scopeName(g)}) at once.
          </p>
        )}
      </ConfirmAbout>
    </>
  );
}
