// pages/admin/DiscoveredApps.tsx — app discovery for the mapping form: the
// applications the chosen Argo CD endpoint can see (GET
// /argocd-endpoints/{id}/applications, through the GitOps plugin), offered
// as a picker that fills the application name and as the name field's
// datalist. Free text stays allowed: when the endpoint cannot be listed
// (unreachable, token refused, a plugin too old to list) the error says so
// and the operator types the name.
import { api, must, type Schemas } from "../../api/client";
import { ErrorBanner, Loading, Select, useLoad } from "../../components/ui";

type App = Schemas["ArgocdApplication"];

export const DISCOVERED_LIST_ID = "discovered-argocd-applications";

const describe = (a: App) => {
  const state = [a.sync_status, a.health_status].filter(Boolean).join(", ");
  const where = [a.project && `project ${a.project}`, a.namespace && `namespace ${a.namespace}`].filter(Boolean).join(", ");
  return `${a.name}${where ? ` (${where})` : ""}${state ? ` — ${state}` : ""}`;
};

export function DiscoveredApps(props: { endpointId: string; endpointName: string; value: string; onPick: (name: string) => void }) {
  const apps = useLoad(
    async () => (props.endpointId ? await must(api.GET("/api/v1/argocd-endpoints/{id}/applications", { params: { path: { id: props.endpointId } } })) : undefined),
    [props.endpointId],
  );
  if (!props.endpointId) return null;
  if (apps.loading) return <Loading what={`the applications of ${props.endpointName}`} />;
  if (apps.error)
    return (
      <div className="discovered-apps">
        <ErrorBanner error={apps.error} />
        <p className="hint">Could not list the applications of {props.endpointName}: type the application&apos;s name instead.</p>
      </div>
    );
  const items = apps.data?.items ?? [];
  return (
    <div className="discovered-apps">
      <Select
        label="Discovered application"
        value={items.some((a) => a.name === props.value) ? props.value : ""}
        onChange={(name) => name && props.onPick(name)}
        placeholder={items.length ? `Pick one of ${items.length} on ${props.endpointName}…` : `No application found on ${props.endpointName}`}
        options={items.map((a) => ({ value: a.name, label: describe(a) }))}
      />
      {apps.data?.truncated && <p className="hint">Only the first {apps.data.limit} applications are offered; type the name of another.</p>}
      <datalist id={DISCOVERED_LIST_ID}>
        {items.map((a) => (
          <option key={a.name} value={a.name} />
        ))}
      </datalist>
    </div>
  );
}
