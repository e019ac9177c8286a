// pages/admin/EndpointForm.tsx — create or edit an Argo CD endpoint (docs/
// gitops.md). The token is write-only: a password field that starts empty,
// required on create; on edit it is "Replace token" and only a value typed
// there is sent (the stored token is never shown back, and empty keeps it).
// On edit only changed fields are sent; an emptied optional field is sent as
// null, which clears it.
import { useState } from "react";
import { api, must, type Schemas } from "../../api/client";
import { CreateForm, nameRule } from "../../components/forms";
import { Field } from "../../components/ui";

type Endpoint = Schemas["ArgocdEndpoint"];
const OPTIONAL = ["project", "ca_file", "tls_server_name"] as const;

const urlRule = (v: string) => (v === "" || /^https?:\/\/[^\s/]+/.test(v) ? null : "an http(s) URL such as https://argocd.example.com (http:// only to a loopback host)");

export function EndpointForm(props: { endpoint?: Endpoint; onDone: () => void; onCancel: () => void }) {
  const e = props.endpoint;
  const [f, setF] = useState({ name: e?.name ?? "", base_url: e?.base_url ?? "", project: e?.project ?? "", ca_file: e?.ca_file ?? "", tls_server_name: e?.tls_server_name ?? "", token: "" });
  const set = (k: keyof typeof f) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const save = async () => {
    if (!e) {
      const body: Schemas["ArgocdEndpointCreate"] = { name: f.name, base_url: f.base_url, token: f.token };
      for (const k of OPTIONAL) if (f[k]) body[k] = f[k];
      await must(api.POST("/api/v1/argocd-endpoints", { body }));
    } else {
      const body: Schemas["ArgocdEndpointUpdate"] = {};
      if (f.name !== e.name) body.name = f.name;
      if (f.base_url !== e.base_url) body.base_url = f.base_url;
      for (const k of OPTIONAL) if (f[k] !== (e[k] ?? "")) body[k] = f[k] || null;
      if (f.token) body.token = f.token;
      await must(api.PUT("/api/v1/argocd-endpoints/{id}", { params: { path: { id: e.id! } }, body }));
    }
    setF((x) => ({ ...x, token: "" }));
    props.onDone();
  };
  return (
    <CreateForm title={e ? `Edit endpoint ${e.name}` : "New Argo CD endpoint"} submitLabel={e ? "Save endpoint" : "Create endpoint"} onCreate={save} onCancel={props.onCancel}>
      <Field label="Endpoint name" name="argocd-name" value={f.name} onChange={set("name")} required validate={nameRule} />
      <Field label="Base URL" name="argocd-base-url" value={f.base_url} onChange={set("base_url")} required validate={urlRule} description="The Argo CD server, without /api." />
      <Field label="Argo CD project" name="argocd-project" value={f.project} onChange={set("project")} description="Optional: sent as ?project=, so a missing application answers not found." />
      <Field label="CA bundle file" name="argocd-ca-file" value={f.ca_file} onChange={set("ca_file")} description="Optional: an absolute path on the control plane's host to an extra CA bundle (PEM)." />
      <Field label="TLS server name" name="argocd-tls-server-name" value={f.tls_server_name} onChange={set("tls_server_name")} description="Optional: the name the certificate is checked against." />
      <Field
        label={e ? "Replace token" : "API token"}
        name="argocd-token"
        type="password"
        autoComplete="new-password"
        value={f.token}
        onChange={set("token")}
        required={!e}
        description={e ? `The stored token (set ${e.token_set_at ? new Date(e.token_set_at).toLocaleString() : "earlier"}) is never shown. Leave empty to keep it; a value typed here replaces it.` : "Stored wrapped by the KMS; it can be replaced but never read back."}
      />
    </CreateForm>
  );
}
