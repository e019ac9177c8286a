// pages/ApiTokens.tsx — my personal API tokens (paged; never the secret):
// create one (name, lifetime) and its token is shown once with a copy
// button, held only in this component's memory; revoke after confirmation
// (the token stays listed as revoked).
import { useState } from "react";
import { api, must, type Schemas } from "../api/client";
import { CreateForm, intRule } from "../components/forms";
import { PagedList, usePaged } from "../components/paged";
import { Button, ConfirmDialog, DataTable, ErrorBanner, Field, StateBadge, Time, useSubmit } from "../components/ui";

type Token = Schemas["ApiToken"];

export function ApiTokens() {
  const [v, setV] = useState(0);
  const tokens = usePaged((cursor) => must(api.GET("/api/v1/users/me/tokens", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })), [v]);
  const [name, setName] = useState("");
  const [days, setDays] = useState("30");
  const [created, setCreated] = useState<Token | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const act = useSubmit();
  return (
    <section className="card">
      <h2>API tokens</h2>
      <p className="hint">A token acts as you (with your grants) for the CLI and scripts: send it as a Bearer token.</p>
      <ErrorBanner error={act.error} />
      {created && (
        <div className="banner banner-once" role="region" aria-label="New API token">
          <p>
            <strong>Shown once.</strong> Copy the token now: it is not stored in readable form and cannot be shown again.
          </p>
          <code data-testid="api-token">{created.token}</code>
          <Button onPress={() => void navigator.clipboard?.writeText(created.token ?? "")}>Copy token</Button>
          <Button onPress={() => setCreated(null)}>I have copied it</Button>
        </div>
      )}
      <PagedList paged={tokens} what="tokens" empty="You have no API tokens.">
        {(items) => (
          <DataTable
            caption="My API tokens"
            rows={items}
            rowKey={(t) => t.id}
            columns={[
              { header: "Name", cell: (t) => t.name },
              { header: "Token", cell: (t) => <code>{t.display_hint}</code> },
              { header: "Created", cell: (t) => <Time at={t.created_at} /> },
              { header: "Expires", cell: (t) => <Time at={t.expires_at} /> },
              { header: "Last used", cell: (t) => <Time at={t.last_used_at} /> },
              { header: "Status", cell: (t) => <StateBadge state={t.status} /> },
              {
                header: "Actions",
                cell: (t) =>
                  t.status === "active" && (
                    <Button variant="danger" onPress={() => setRevoking(t)}>
                      Revoke {t.name}
                    </Button>
                  ),
              },
            ]}
          />
        )}
      </PagedList>
      <CreateForm
        title="New API token"
        submitLabel="Create token"
        onCreate={async () => {
          if (!name.trim()) throw new Error("Name the token (what it is for).");
          const t = await must(api.POST("/api/v1/users/me/tokens", { body: { name: name.trim(), expires_in_days: +days } }));
          setCreated(t);
          setName("");
          setV((x) => x + 1);
        }}
      >
        <Field label="Token name" name="token-name" value={name} onChange={setName} required validate={(x) => (x.length <= 100 ? null : "at most 100 characters")} />
        <Field label="Lifetime (days)" name="token-days" value={days} onChange={setDays} required validate={intRule(1, 365)} />
      </CreateForm>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke the token ${revoking?.name}?`}
        confirmLabel="Revoke token"
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const id = revoking!.id!;
          setRevoking(null);
          void act.submit(async () => (await must(api.DELETE("/api/v1/users/me/tokens/{id}", { params: { path: { id } } })), setV((x) => x + 1)));
        }}
      >
        <p>Anything using it is refused from now on.</p>
      </ConfirmDialog>
    </section>
  );
}
