// pages/admin/RoleForm.tsx — create or edit a custom role: name, description
// and a permission picker (the server's catalog, GET /permissions, grouped,
// each with its description). At least one permission; the server refuses
// unknown keys and ones the editor does not hold globally (shown as sent).
import { useState } from "react";
import { api, must, type Schemas } from "../../api/client";
import { Check, CreateForm } from "../../components/forms";
import { ErrorBanner, Field, Loading, useLoad } from "../../components/ui";

const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function RoleForm({ role, onDone, onCancel }: { role?: Schemas["Role"]; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [chosen, setChosen] = useState<string[]>(role?.permissions ?? []);
  const catalog = useLoad(async () => (await must(api.GET("/api/v1/permissions"))).items ?? [], []);
  const groups = new Map<string, Schemas["Permission"][]>();
  for (const p of catalog.data ?? []) groups.set(p.group ?? "other", [...(groups.get(p.group ?? "other") ?? []), p]);
  const toggle = (key: string, on: boolean) => setChosen((c) => (on ? [...c, key] : c.filter((k) => k !== key)));
  return (
    <CreateForm
      title={role ? `Edit role ${role.name}` : "New role"}
      submitLabel={role ? "Save role" : "Create role"}
      onCancel={onCancel}
      onCreate={async () => {
        if (!chosen.length) throw new Error("Choose at least one permission.");
        const body = { name, description, permissions: chosen };
        if (role) await must(api.PUT("/api/v1/roles/{id}", { params: { path: { id: role.id! } }, body }));
        else await must(api.POST("/api/v1/roles", { body }));
        onDone();
      }}
    >
      <Field label="Role name" name="role-name" value={name} onChange={setName} required validate={(v) => (ROLE_NAME.test(v) ? null : "lowercase letters, digits and underscores, starting with a letter")} />
      <Field label="Role description" name="role-description" value={description} onChange={setDescription} />
      {catalog.loading && <Loading what="the permission catalog" />}
      <ErrorBanner error={catalog.error} />
      {[...groups].map(([group, perms]) => (
        <fieldset key={group}>
          <legend>{group}</legend>
          {perms.map((p) => (
            <div key={p.key}>
              <Check label={p.key!} checked={chosen.includes(p.key!)} onChange={(on) => toggle(p.key!, on)} />
              <span className="hint">{p.description}</span>
            </div>
          ))}
        </fieldset>
      ))}
    </CreateForm>
  );
}
