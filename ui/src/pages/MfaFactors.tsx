// pages/MfaFactors.tsx — my second factors (TOTP authenticator apps, docs/
// mfa.md): the list (never a secret), enrolling one — the secret and its
// otpauth:// URI (as text and as a QR code) are shown once, held only in
// this component's memory, and a code from the app activates the factor —
// and removing one (an active factor only after a fresh step-up, through
// useStepUp()).
import { useState } from "react";
import { Form } from "react-aria-components";
import { api, must, type Schemas } from "../api/client";
import { LoadedTable } from "../components/forms";
import { Button, ConfirmAbout, ErrorBanner, Field, StateBadge, Time, useLoad, useSubmit } from "../components/ui";
import { QrCode } from "../components/QrCode";
import { useStepUp } from "../lib/stepUp";

type Factor = Schemas["MfaFactor"];
type Enrollment = Schemas["TotpEnrollment"];

export function MfaFactors() {
  const factors = useLoad(async () => (await must(api.GET("/api/v1/auth/mfa/factors"))).items ?? [], []);
  const [label, setLabel] = useState("");
  const [enrolling, setEnrolling] = useState<Enrollment | null>(null);
  const [code, setCode] = useState("");
  const [removing, setRemoving] = useState<Factor | null>(null);
  const start = useSubmit();
  const confirm = useSubmit();
  const act = useSubmit();
  const stepUp = useStepUp();
  const forget = () => {
    setEnrolling(null);
    setCode("");
  };
  return (
    <section className="card" id="mfa" aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Two-factor authentication</h2>
      <p className="hint">
        Approving, rejecting, revealing and providing values on requests whose policy requires it ask for a code from an authenticator app (TOTP),
        again once the last check is older than the server's step-up window (15 minutes by default).
      </p>
      <ErrorBanner error={act.error} />
      <LoadedTable
        what="factors"
        load={factors}
        empty="You have no second factor yet."
        caption="My second factors"
        rowKey={(f) => f.id}
        columns={[
          { header: "Name", cell: (f) => f.label },
          { header: "Kind", cell: () => "authenticator app (TOTP)" },
          { header: "Status", cell: (f) => <StateBadge state={f.status} /> },
          { header: "Added", cell: (f) => <Time at={f.created_at} /> },
          { header: "Last used", cell: (f) => <Time at={f.last_used_at} /> },
          {
            header: "Actions",
            cell: (f) => (
              <Button variant="danger" onPress={() => setRemoving(f)}>
                Remove {f.label}
              </Button>
            ),
          },
        ]}
      />
      {enrolling ? (
        <div className="banner banner-once" role="region" aria-label="New authenticator app">
          <p>
            <strong>Shown once.</strong> Scan this QR code with your authenticator app (or type the secret key into it), then enter the code it
            shows.
          </p>
          <QrCode text={enrolling.otpauth_uri} label="QR code of the authenticator setup link" />
          <p>
            Secret key: <code data-testid="totp-secret">{enrolling.secret}</code>
          </p>
          <p>
            Setup link: <code data-testid="totp-uri">{enrolling.otpauth_uri}</code>
          </p>
          <ErrorBanner error={confirm.error} />
          <Form
            aria-label="Activate the authenticator app"
            onSubmit={(ev) => {
              ev.preventDefault();
              void confirm.submit(async () => {
                if (!/^\d{6}$/.test(code.trim())) throw new Error("Enter the 6-digit code your authenticator app shows now.");
                await must(api.POST("/api/v1/auth/mfa/totp/{id}/confirm", { params: { path: { id: enrolling.id } }, body: { code: code.trim() } }));
                forget();
                await factors.reload();
              });
            }}
          >
            <Field label="Code from the app" name="totp-confirm-code" value={code} onChange={setCode} autoComplete="one-time-code" required />
            <div className="row">
              <Button type="submit" variant="primary" isDisabled={confirm.busy}>
                Activate
              </Button>
              <Button onPress={forget}>Cancel</Button>
            </div>
          </Form>
        </div>
      ) : (
        <Form
          className="form"
          aria-label="Add an authenticator app"
          onSubmit={(ev) => {
            ev.preventDefault();
            void start.submit(async () => {
              const e = await must(api.POST("/api/v1/auth/mfa/totp", { body: label.trim() ? { label: label.trim() } : {} }));
              setEnrolling(e);
              setLabel("");
              await factors.reload();
            });
          }}
        >
          <h3>Add an authenticator app</h3>
          <ErrorBanner error={start.error} />
          <Field label="Name of the app or device (optional)" name="totp-label" value={label} onChange={setLabel} />
          <Button type="submit" variant="primary" isDisabled={start.busy}>
            Add authenticator app
          </Button>
        </Form>
      )}
      <ConfirmAbout
        item={removing}
        title={(f) => `Remove ${f.label}?`}
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={(f) =>
          void act.submit(async () => {
            await stepUp(() => must(api.DELETE("/api/v1/auth/mfa/factors/{id}", { params: { path: { id: f.id } } })));
            await factors.reload();
          })
        }
      >
        {(f) => <p>Its codes stop working at once{f.status === "active" ? "; removing an active factor asks for a code first" : ""}.</p>}
      </ConfirmAbout>
    </section>
  );
}
