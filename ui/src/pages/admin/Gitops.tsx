// pages/admin/Gitops.tsx — GitOps observation (only when the server has it
// on): Argo CD endpoints (create, edit, replace the token, delete after
// confirmation — the server refuses one that still has mappings and says
// so), a health check per endpoint that reads one application (or the
// endpoint's mapped ones) through the plugin and shows the result, and the
// application mappings (GitopsMappings). Needs integration.edit.
import { useState } from "react";
import { api, must, type Schemas } from "../../api/client";
import { LoadedTable } from "../../components/forms";
import { Button, ConfirmAbout, Empty, ErrorBanner, Field, Loading, Time, useLoad, useSubmit } from "../../components/ui";
import { useGitopsEnabled } from "../../lib/gitopsEnabled";
import { EndpointForm } from "./EndpointForm";
import { GitopsMappings } from "./GitopsMappings";

type Endpoint = Schemas["ArgocdEndpoint"];

function HealthCheck({ endpoint, onChecked }: { endpoint: Endpoint; onChecked: () => void }) {
  const [application, setApplication] = useState("");
  const [result, setResult] = useState<Schemas["ArgocdHealth"] | null>(null);
  const run = useSubmit();
  const check = () =>
    run.submit(async () => {
      setResult(null);
      setResult(await must(api.POST("/api/v1/argocd-endpoints/{id}/health-check", { params: { path: { id: endpoint.id! } }, body: application ? { application } : {} })));
      onChecked();
    });
  return (
    <div className="card" role="region" aria-label={`Health of ${endpoint.name}`}>
      <h3>Health check: {endpoint.name}</h3>
      <div className="row">
        <Field label="Application to read" name={`health-app-${endpoint.id}`} value={application} onChange={setApplication} description="Empty: the endpoint's first five mapped applications." />
        <Button variant="primary" isDisabled={run.busy} onPress={() => void check()}>
          {run.busy ? "Checking…" : `Check ${endpoint.name}`}
        </Button>
      </div>
      <ErrorBanner error={run.error} />
      {result && (
        <div role="status">
          <p>
            <strong>{result.healthy ? "Healthy" : "Unhealthy"}</strong>: {result.healthy ? "every application could be read." : "at least one application could not be read."}
          </p>
          <ul>
            {(result.applications ?? []).map((a) => (
              <li key={a.application}>
                {a.application}: {a.ok ? "readable" : `not readable — ${a.error}`}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Health({ e }: { e: Endpoint }) {
  if (!e.health_checked_at) return <span className="muted">never checked</span>;
  return (
    <>
      {e.health_error ? <>unhealthy: {e.health_error}</> : "healthy"} <span className="muted">(<Time at={e.health_checked_at} />)</span>
    </>
  );
}

export function GitopsPage() {
  const enabled = useGitopsEnabled();
  const [v, setV] = useState(0);
  const bump = () => setV((x) => x + 1);
  const endpoints = useLoad(async () => (enabled ? ((await must(api.GET("/api/v1/argocd-endpoints"))).items ?? []) : []), [enabled, v]);
  const [editing, setEditing] = useState<Endpoint | "new" | null>(null);
  const [checking, setChecking] = useState<Endpoint | null>(null);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const act = useSubmit();
  if (enabled === undefined) return <Loading what="the GitOps settings" />;
  if (!enabled) return <Empty>GitOps observation is off on this server (gitops_observation.enabled in its configuration).</Empty>;
  const list = endpoints.data ?? [];
  return (
    <>
      <section className="card">
        <h2>Argo CD endpoints</h2>
        <ErrorBanner error={act.error} />
        <LoadedTable
          what="the endpoints"
          load={endpoints}
          empty="No Argo CD endpoints yet."
          caption="Argo CD endpoints"
          rowKey={(e) => e.id}
          columns={[
            { header: "Name", cell: (e) => e.name },
            { header: "Base URL", cell: (e) => <code>{e.base_url}</code> },
            { header: "Project", cell: (e) => e.project ?? <span className="muted">—</span> },
            { header: "Token set", cell: (e) => <Time at={e.token_set_at} /> },
            { header: "Health", cell: (e) => <Health e={e} /> },
            {
              header: "Actions",
              cell: (e) => (
                <div className="row">
                  <Button onPress={() => setEditing(e)}>Edit {e.name}</Button>
                  <Button onPress={() => setChecking(e)}>Health check {e.name}</Button>
                  <Button variant="danger" onPress={() => setDeleting(e)}>
                    Delete {e.name}
                  </Button>
                </div>
              ),
            },
          ]}
        />
        {checking && <HealthCheck key={checking.id} endpoint={checking} onChecked={bump} />}
        {editing ? (
          <EndpointForm key={editing === "new" ? "new" : editing.id} endpoint={editing === "new" ? undefined : editing} onDone={() => (setEditing(null), bump())} onCancel={() => setEditing(null)} />
        ) : (
          <Button variant="primary" onPress={() => setEditing("new")}>
            New Argo CD endpoint
          </Button>
        )}
      </section>
      <GitopsMappings endpoints={list} version={v} />
      <ConfirmAbout
        item={deleting}
        title={(e) => `Delete the endpoint ${e.name}?`}
        confirmLabel="Delete endpoint"
        onClose={() => setDeleting(null)}
        onConfirm={(e) => void act.submit(async () => (await must(api.DELETE("/api/v1/argocd-endpoints/{id}", { params: { path: { id: e.id! } } })), setChecking(null), bump()))}
      >
        {() => <p>Its stored token is deleted with it. An endpoint that still has mappings cannot be deleted: remove them first.</p>}
      </ConfirmAbout>
    </>
  );
}
