// pages/Login.tsx — local sign-in (POST /auth/login sets the HttpOnly session
// cookie; the JWT in the answer is not kept anywhere) and, when the server has
// single sign-on configured (GET /auth/providers), a link to the provider
// (GET /auth/oidc/login?return_to=<this page>). A refused sign-on comes back
// here as ?sso_error=<code>, which is explained above the form.
import { useEffect, useState } from "react";
import { Form } from "react-aria-components";
import { api } from "../api/client";
import { Button, ErrorBanner, Field, useSubmit } from "../components/ui";
import { signIn, useSession } from "../lib/session";

const SSO_ERRORS: Record<string, string> = {
  idp_error: "The identity provider did not sign you in. Try again, or ask your administrator.",
  invalid_state: "That sign-in link was already used, has expired or was started in another browser. Start again from this page.",
  token_exchange_failed: "The identity provider refused to complete the sign-in. Start again from this page.",
  invalid_id_token: "The identity provider's answer could not be verified, so you were not signed in. Ask your administrator to check the SSO configuration.",
  email_domain_not_allowed: "Your account's email address is not in a domain allowed to sign in here.",
  account_disabled: "Your account is disabled. Ask an administrator to enable it.",
  sso_unavailable: "Single sign-on is unavailable at the moment. Try again shortly, or sign in with a password.",
};

interface SsoProvider {
  label: string;
  login_url: string;
}

function useSsoProvider(): SsoProvider | null {
  const [sso, setSso] = useState<SsoProvider | null>(null);
  useEffect(() => {
    let live = true;
    void api.GET("/api/v1/auth/providers").then(({ data }) => {
      if (live && data?.sso) setSso(data.sso);
    });
    return () => {
      live = false;
    };
  }, []);
  return sso;
}

/** Where to come back to after signing on: this page, unless it is the sign-in page. */
function returnTo(): string {
  const { pathname, search } = window.location;
  if (pathname === "/login") return "/";
  const params = new URLSearchParams(search);
  params.delete("sso_error");
  const rest = params.toString();
  return pathname + (rest ? `?${rest}` : "");
}

export function LoginPage() {
  const { reload } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit();
  const sso = useSsoProvider();
  const ssoError = new URLSearchParams(window.location.search).get("sso_error");
  return (
    <main className="center">
      <h1>Sign in to Secrets Bridge</h1>
      {ssoError && (
        <div role="alert" className="banner banner-error" data-testid="sso-error">
          {SSO_ERRORS[ssoError] ?? "Single sign-on failed. Start again from this page."} ({ssoError})
        </div>
      )}
      {sso && (
        <p className="card">
          <a className="btn btn-primary" data-testid="sso-button" href={`${sso.login_url}?return_to=${encodeURIComponent(returnTo())}`}>
            {sso.label}
          </a>
        </p>
      )}
      <Form
        className="card form"
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(async () => {
            await signIn({ username, password });
            setPassword("");
            await reload();
          });
        }}
      >
        <ErrorBanner error={error} />
        <Field label="Username" name="username" value={username} onChange={setUsername} required autoComplete="username" />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} required autoComplete="current-password" />
        <Button type="submit" variant="primary" isDisabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </Button>
      </Form>
    </main>
  );
}
