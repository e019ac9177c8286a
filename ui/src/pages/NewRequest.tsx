// pages/NewRequest.tsx — a read or patch request on one of my projects'
// secret bindings. Keys come from the binding's allowlist. Patch values are
// sealed here, in the browser, to every live agent of the secret's connection
// (lib/seal.ts); only the boxes are sent, and the inputs are cleared. A
// cross-team request names the team that holds the values instead; that
// team fills it from its inbox.
import { useState } from "react";
import { Form } from "react-aria-components";
import { useNavigate } from "react-router";
import { api, listAll, must, projectSecretBindings } from "../api/client";
import { Button, Empty, ErrorBanner, Field, Loading, Select, useLoad, useSubmit } from "../components/ui";
import { sealForConnection } from "../lib/seal";
import { useSession } from "../lib/session";

export function NewRequestPage() {
  const { state } = useSession();
  const navigate = useNavigate();
  const projects = state.status === "signed_in" ? state.me.projects : [];
  const [projectId, setProjectId] = useState(projects.length === 1 ? projects[0].id : "");
  const [bindingId, setBindingId] = useState("");
  const [kind, setKind] = useState<"read" | "patch" | "cross_team">("read");
  const [targetTeam, setTargetTeam] = useState("");
  const [keys, setKeys] = useState<string[]>([]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [justification, setJustification] = useState("");
  const { busy, error, submit, setError } = useSubmit();
  const bindings = useLoad(
    () => projectSecretBindings(projectId),
    [projectId],
  );
  const binding = bindings.data?.find((b) => b.id === bindingId);
  const ops = (binding?.allowed_ops ?? []).filter((o) => o === "read" || o === "patch");
  // a cross-team request asks another team for values that the agent then patches in
  const kinds = [...ops, ...(ops.includes("patch") ? (["cross_team"] as const) : [])];
  const ownTeam = projects.find((p) => p.id === projectId)?.team_id;
  const teams = useLoad(
    async () => (kind === "cross_team" ? listAll("/api/v1/teams") : []),
    [kind],
  );

  const toggle = (k: string) => setKeys((ks) => (ks.includes(k) ? ks.filter((x) => x !== k) : [...ks, k]));

  async function send() {
    if (!binding) throw new Error("Choose a secret binding.");
    if (keys.length === 0) throw new Error("Choose at least one key.");
    if (justification.trim().length < 3) throw new Error("Say why you need it (a justification).");
    if (kind === "cross_team") {
      if (!targetTeam) throw new Error("Choose the team that holds the values.");
      const created = await must(api.POST("/api/v1/requests/cross-team", { body: { binding_id: binding.id!, target_team_id: targetTeam, keys, justification: justification.trim() } }));
      navigate(`/requests/${created.id}`);
      return;
    }
    let sealed_values;
    if (kind === "patch") {
      const missing = keys.filter((k) => !values[k]);
      if (missing.length) throw new Error(`Enter a value for ${missing.join(", ")}.`);
      const secret = await must(api.GET("/api/v1/secrets/{id}", { params: { path: { id: binding.catalog_secret_id! } } }));
      sealed_values = await sealForConnection(secret.connection_id!, keys.map((k) => ({ key: k, value: values[k] })));
      setValues({}); // the plaintext goes no further
    }
    const created = await must(
      api.POST("/api/v1/requests", {
        body: { kind, binding_id: binding.id!, justification: justification.trim(), ...(kind === "read" ? { keys } : { sealed_values }) },
      }),
    );
    navigate(`/requests/${(created as { id: string }).id}`);
  }

  return (
    <>
      <h1>New request</h1>
      {projects.length === 0 ? (
        <Empty>You are not in any project yet: an administrator adds you to a team that owns one.</Empty>
      ) : (
        <Form
          className="card form"
          aria-label="New request"
          onSubmit={(e) => {
            e.preventDefault();
            setError(undefined);
            void submit(send);
          }}
        >
          <ErrorBanner error={error} />
          <Select label="Project" value={projectId} onChange={(v) => (setProjectId(v), setBindingId(""), setKeys([]))} required options={projects.map((p) => ({ value: p.id, label: p.name }))} />
          {projectId && bindings.loading && <Loading what="secret bindings" />}
          <ErrorBanner error={bindings.error} />
          {projectId && !bindings.loading && bindings.data?.length === 0 && <Empty>This project has no secret bindings yet.</Empty>}
          {!!bindings.data?.length && (
            <Select
              label="Secret"
              value={bindingId}
              onChange={(v) => (setBindingId(v), setKeys([]), setKind("read"))}
              required
              options={bindings.data.map((b) => ({ value: b.id!, label: `${b.secret_ref} (${(b.allowed_ops ?? []).join(", ")})` }))}
            />
          )}
          {binding && (
            <>
              <fieldset>
                <legend>Operation</legend>
                {kinds.map((o) => (
                  <label key={o} className="inline">
                    <input type="radio" name="kind" value={o} checked={kind === o} onChange={() => setKind(o)} /> {o === "cross_team" ? "cross-team (another team provides the values)" : o}
                  </label>
                ))}
              </fieldset>
              <fieldset>
                <legend>Keys</legend>
                {(binding.allowed_keys ?? []).map((k) => (
                  <label key={k} className="inline">
                    <input type="checkbox" checked={keys.includes(k)} onChange={() => toggle(k)} /> {k}
                  </label>
                ))}
              </fieldset>
              {kind === "cross_team" && (
                <>
                  <ErrorBanner error={teams.error} />
                  <Select
                    label="Team that provides the values"
                    value={targetTeam}
                    onChange={setTargetTeam}
                    required
                    options={(teams.data ?? []).filter((t) => t.id !== ownTeam && t.status !== "archived").map((t) => ({ value: t.id!, label: t.name! }))}
                  />
                </>
              )}
              {kind === "patch" &&
                keys.map((k) => (
                  <Field key={k} label={`New value for ${k}`} name={`value-${k}`} type="password" autoComplete="off" value={values[k] ?? ""} onChange={(v) => setValues((vs) => ({ ...vs, [k]: v }))} required description="Sealed in this browser to the agents' keys; the server never sees it." />
                ))}
            </>
          )}
          <Field label="Justification" name="justification" multiline value={justification} onChange={setJustification} required />
          <Button type="submit" variant="primary" isDisabled={busy}>
            {busy ? "Submitting…" : "Submit request"}
          </Button>
        </Form>
      )}
    </>
  );
}
