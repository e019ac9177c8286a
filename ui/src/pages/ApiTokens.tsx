// pages/ApiTokens.tsx — my personal API tokens (paged; never the secret):
// create one (name, lifetime) and its token is shown once with a copy
// button, held only in this component's memory; revoke after confirmation
// (the token stays listed as revoked).
import { useState } from "react";
import { api, must, pageQuery, type Schemas } from "../api/client";
import { CreateForm, intRule } from "../components/forms";
import { PagedTable, usePaged } from "../components/paged";
import { Button, ConfirmAbout, ErrorBanner, Field, ShownOnce, StateBadge, Time, useSubmit } from "../components/ui";

type Token = Schemas["ApiToken"];

export function ApiTokens() {
  const [v, setV] = useState(0);
  const tokens = usePaged((cursor) => must(api.GET("/api/v1/users/me/tokens", { params: { query: pageQuery(50, cursor) } })), [v]);
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
      {created && <ShownOnce label="New API token" value={created.token ?? ""} testId="api-token" onDismiss={() => setCreated(null)} />}
      <PagedTable
        paged={tokens}
        what="tokens"
        empty="You have no API tokens."
        caption="My API tokens"
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
      <ConfirmAbout
        item={revoking}
        title={(t) => `Revoke the token ${t.name}?`}
        confirmLabel="Revoke token"
        onClose={() => setRevoking(null)}
        onConfirm={(t) => void act.submit(async () => (await must(api.DELETE("/api/v1/users/me/tokens/{id}", { params: { path: { id: t.id! } } })), setV((x) => x + 1)))}
      >
        {() => <p>Anything using it is refused from now on.</p>}
      </ConfirmAbout>
    </section>
  );
}
