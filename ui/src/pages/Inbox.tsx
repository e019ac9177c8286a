// pages/Inbox.tsx — what awaits me: cross-team requests asking my teams for
// values (fill or refuse, FillForm) and the requests I may approve or verify
// now (the approval queue). Both lists are paged.
import { useState } from "react";
import { Link } from "react-router";
import { api, must, pageQuery } from "../api/client";
import { PagedList, usePaged } from "../components/paged";
import { Button, Time } from "../components/ui";
import { useSession } from "../lib/session";
import { FillForm } from "./FillForm";
import { RequestTable } from "./Requests";

export function InboxPage() {
  const { can } = useSession();
  const [open, setOpen] = useState<string | null>(null);
  const provide = can("secret.value.provide");
  const approve = can("secret.approve") || can("secret.security.approve");
  const fills = usePaged((cursor) => (provide ? must(api.GET("/api/v1/requests/inbox", { params: { query: pageQuery(25, cursor) } })) : Promise.resolve({ items: [] })), [provide]);
  const queue = usePaged((cursor) => (approve ? must(api.GET("/api/v1/requests/queue", { params: { query: pageQuery(25, cursor) } })) : Promise.resolve({ items: [] })), [approve]);
  return (
    <>
      <h1>Inbox</h1>
      {provide && (
        <section>
          <h2>Values my teams are asked for</h2>
          <PagedList paged={fills} what="cross-team requests" empty="No team of yours is asked for values.">
            {(items) => (
              <ul className="plain">
                {items.map((r) => (
                  <li key={r.id} className="card">
                    <h3>
                      <Link to={`/requests/${r.id}`}>{r.secret_ref}</Link>: {(r.keys ?? []).join(", ")}
                    </h3>
                    <p>{r.justification || <span className="muted">No justification given.</span>}</p>
                    <p className="hint">
                      Asked <Time at={r.created_at} />; answer before <Time at={r.fill_expires_at ?? r.expires_at} />.
                    </p>
                    {open === r.id ? (
                      <FillForm
                        request={r}
                        onDone={() => {
                          setOpen(null);
                          void fills.reload();
                        }}
                      />
                    ) : (
                      <Button variant="primary" onPress={() => setOpen(r.id!)}>
                        Answer {r.secret_ref}
                      </Button>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </PagedList>
        </section>
      )}
      {approve && (
        <section>
          <h2>Awaiting my approval</h2>
          <PagedList paged={queue} what="requests to decide" empty="Nothing awaits your approval.">
            {(items) => <RequestTable items={items} caption="Requests you may approve or verify, oldest first" />}
          </PagedList>
        </section>
      )}
    </>
  );
}
