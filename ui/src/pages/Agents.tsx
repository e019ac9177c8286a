// pages/Agents.tsx — agents with status and last heartbeat; mint an
// enrollment token for a connection (shown once, with config, first-start and
// systemd snippets; it lives only in this component's memory and is gone on
// navigation); revoke an agent after confirmation. The list is paged.
import { useState } from "react";
import { api, listAll, must, pageQuery } from "../api/client";
import { PagedTable, usePaged } from "../components/paged";
import { Button, ConfirmDialog, ErrorBanner, Select, ShownOnce, Time, useLoad, useSubmit } from "../components/ui";
import { useSession } from "../lib/session";

export function AgentsPage() {
  const { can } = useSession();
  const agents = usePaged((cursor) => must(api.GET("/api/v1/agents", { params: { query: pageQuery(50, cursor) } })), []);
  const conns = useLoad(() => listAll("/api/v1/provider-connections"), []);
  const [connectionId, setConnectionId] = useState("");
  const [minted, setMinted] = useState<{ token: string; connection: string } | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const act = useSubmit();
  const connName = conns.data?.find((c) => c.id === connectionId)?.name ?? "";
  const origin = window.location.origin;
  return (
    <>
      <h1>Agents</h1>
      <ErrorBanner error={act.error} />
      {can("agent.mint") && (
        <section className="card form">
          <h2>Enroll an agent</h2>
          <Select label="Connection" value={connectionId} onChange={setConnectionId} options={(conns.data ?? []).map((c) => ({ value: c.id!, label: c.name! }))} />
          <Button
            variant="primary"
            isDisabled={!connectionId || act.busy}
            onPress={() =>
              void act.submit(async () => {
                const t = await must(api.POST("/api/v1/provider-connections/{id}/agent-enrollment-tokens", { params: { path: { id: connectionId } }, body: { ttl_seconds: 900 } }));
                setMinted({ token: t.token ?? "", connection: connName });
              })
            }
          >
            Mint enrollment token
          </Button>
          {minted && (
            <ShownOnce label="Enrollment token" value={minted.token} testId="enrollment-token" onDismiss={() => setMinted(null)}>
              <h3>Config file (/etc/sbridge/agent.yaml)</h3>
              <pre>{`role: agent\ncontrol_plane:\n  url: ${origin}\n  connection: ${minted.connection}\n  identity_file: /var/lib/sbridge-agent/agent.json\n# plugins: and providers: for ${minted.connection} — see docs/agent.md`}</pre>
              <h3>First start (enrolls, then keeps its identity file)</h3>
              <pre>{`SBRIDGE_ENROLLMENT_TOKEN='<token>' sbridge-agent --config /etc/sbridge/agent.yaml`}</pre>
              <h3>systemd unit (/etc/systemd/system/sbridge-agent.service)</h3>
              <pre>{`[Unit]\nDescription=Secrets Bridge agent (${minted.connection})\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/local/bin/sbridge-agent --config /etc/sbridge/agent.yaml\n# first start only: a file holding SBRIDGE_ENROLLMENT_TOKEN=<token>\nEnvironmentFile=-/etc/sbridge/enroll.env\nStateDirectory=sbridge-agent\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target`}</pre>
              <p className="hint">No Helm chart ships yet: run the agent from its config file as above.</p>
            </ShownOnce>
          )}
        </section>
      )}
      <PagedTable
        paged={agents}
        what="agents"
        empty="No agents yet: mint an enrollment token above and start one."
        caption="Enrolled agents"
        rowKey={(a) => a.id}
        columns={[
          { header: "Name", cell: (a) => a.name },
          { header: "Status", cell: (a) => a.status },
          { header: "Version", cell: (a) => a.version },
          { header: "Last seen", cell: (a) => <Time at={a.last_heartbeat_at} /> },
          {
            header: "Actions",
            cell: (a) =>
              can("agent.revoke") &&
              a.status !== "revoked" && (
                <Button variant="danger" onPress={() => setRevoking(a.id!)}>
                  Revoke {a.name}
                </Button>
              ),
          },
        ]}
      />
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this agent?"
        confirmLabel="Revoke"
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const id = revoking!;
          setRevoking(null);
          void act.submit(async () => (await must(api.POST("/api/v1/agents/{id}/revoke", { params: { path: { id } } })), await agents.reload()));
        }}
      >
        <p>It is refused at once and must be enrolled again with a new token.</p>
      </ConfirmDialog>
    </>
  );
}
