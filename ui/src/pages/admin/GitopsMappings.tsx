// pages/admin/GitopsMappings.tsx — which Argo CD application uses which
// secret: a mapping ties an application on an endpoint to a secret binding
// (every executed patch of that binding is observed) or to a provider
// connection (every executed patch through it). List, add, remove (after
// confirmation). Bindings and connections are named, not shown as ids.
// The application is picked from the endpoint's discovered applications
// (DiscoveredApps) or typed.
import { useState } from "react";
import { api, listAll, must, projectSecretBindings, type Schemas } from "../../api/client";
import { CreateForm, LoadedTable, optionsOf } from "../../components/forms";
import { Button, ConfirmAbout, ErrorBanner, Field, Select, useLoad, useSubmit } from "../../components/ui";
import { DISCOVERED_LIST_ID, DiscoveredApps } from "./DiscoveredApps";

type Mapping = Schemas["GitopsMapping"];

const appRule = (v: string) => (v === "" || /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v) ? null : "the Argo CD application's name: lowercase letters, digits, dashes and dots");

export function GitopsMappings(props: { endpoints: Schemas["ArgocdEndpoint"][]; version: number }) {
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const mappings = useLoad(async () => (await must(api.GET("/api/v1/gitops-mappings"))).items ?? [], [v, props.version]);
  const projects = useLoad(() => listAll("/api/v1/projects"), []);
  const conns = useLoad(() => listAll("/api/v1/provider-connections"), []);
  const bindings = useLoad(async () => (await Promise.all((projects.data ?? []).map((p) => projectSecretBindings(p.id!).then((bs) => bs.map((b) => ({ ...b, project: p.name })))))).flat(), [projects.data, v]);
  const [f, setF] = useState({ endpoint: "", application: "", kind: "binding", project: "", target: "" });
  const [removing, setRemoving] = useState<Mapping | null>(null);
  const act = useSubmit();
  const endpointName = (id?: string | null) => props.endpoints.find((e) => e.id === id)?.name ?? id;
  const bindingLabel = (b: { secret_ref?: string; project?: string }) => `${b.secret_ref} (project ${b.project})`;
  const target = (m: Mapping) => {
    if (m.binding_id) {
      const b = bindings.data?.find((x) => x.id === m.binding_id);
      return <>secret binding {b ? bindingLabel(b) : m.binding_id}</>;
    }
    return <>provider connection {conns.data?.find((c) => c.id === m.connection_id)?.name ?? m.connection_id}</>;
  };
  return (
    <section className="card">
      <h2>Application mappings</h2>
      <p className="hint">When a patch of a mapped secret executes, each mapped application is watched until its workloads roll out (or the timeout).</p>
      <ErrorBanner error={act.error} />
      <LoadedTable
        what="the mappings"
        load={mappings}
        empty="No application is mapped yet."
        caption="Application mappings"
        rowKey={(m) => m.id}
        columns={[
          { header: "Application", cell: (m) => m.application },
          { header: "Endpoint", cell: (m) => endpointName(m.endpoint_id) },
          { header: "Watches", cell: target },
          {
            header: "Actions",
            cell: (m) => (
              <Button variant="danger" onPress={() => setRemoving(m)}>
                Remove {m.application} on {endpointName(m.endpoint_id)}
              </Button>
            ),
          },
        ]}
      />
      <CreateForm
        title="New application mapping"
        submitLabel="Add mapping"
        onCreate={async () => {
          if (!f.target) throw new Error(f.kind === "binding" ? "Choose the secret binding." : "Choose the provider connection.");
          const body: Schemas["GitopsMappingCreate"] = { endpoint_id: f.endpoint, application: f.application, ...(f.kind === "binding" ? { binding_id: f.target } : { connection_id: f.target }) };
          await must(api.POST("/api/v1/gitops-mappings", { body }));
          setF((x) => ({ ...x, application: "" }));
          bump();
        }}
      >
        <Select label="Endpoint of the application" value={f.endpoint} onChange={(endpoint) => setF({ ...f, endpoint })} required options={optionsOf(props.endpoints)} />
        <DiscoveredApps endpointId={f.endpoint} endpointName={endpointName(f.endpoint) ?? ""} value={f.application} onPick={(application) => setF({ ...f, application })} />
        <Field label="Application name" name="mapping-application" value={f.application} onChange={(application) => setF({ ...f, application })} required validate={appRule} list={f.endpoint ? DISCOVERED_LIST_ID : undefined} />
        <Select
          label="It uses"
          value={f.kind}
          onChange={(kind) => setF({ ...f, kind: kind || "binding", target: "" })}
          required
          placeholder="Choose what the application uses…"
          options={[
            { value: "binding", label: "a secret binding" },
            { value: "connection", label: "every secret of a provider connection" },
          ]}
        />
        {f.kind === "binding" ? (
          <>
            <Select label="Project of the secret binding" value={f.project} onChange={(project) => setF({ ...f, project, target: "" })} options={optionsOf(projects.data)} />
            <Select label="Secret binding" value={f.target} onChange={(t) => setF({ ...f, target: t })} required options={(bindings.data ?? []).filter((b) => !f.project || b.project_id === f.project).map((b) => ({ value: b.id!, label: bindingLabel(b) }))} />
          </>
        ) : (
          <Select label="Provider connection" value={f.target} onChange={(t) => setF({ ...f, target: t })} required options={optionsOf(conns.data)} />
        )}
      </CreateForm>
      <ConfirmAbout
        item={removing}
        title={(m) => `Remove the mapping of ${m.application}?`}
        confirmLabel="Remove mapping"
        onClose={() => setRemoving(null)}
        onConfirm={(m) => void act.submit(async () => (await must(api.DELETE("/api/v1/gitops-mappings/{id}", { params: { path: { id: m.id! } } })), bump()))}
      >
        {() => <p>Patches executed from now on are no longer observed for this application. Observations already made stay on their requests.</p>}
      </ConfirmAbout>
    </section>
  );
}
