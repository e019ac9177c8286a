// pages/Profile.tsx — who I am, my session's expiry, my permissions by scope,
// my second factors (MfaFactors), my personal API tokens (ApiTokens).
import { api, must } from "../api/client";
import { ErrorBanner, Loading, Time, useLoad } from "../components/ui";
import { useSession } from "../lib/session";
import { ApiTokens } from "./ApiTokens";
import { MfaFactors } from "./MfaFactors";

export function ProfilePage() {
  const { state } = useSession();
  const session = useLoad(() => must(api.GET("/api/v1/auth/session")) as Promise<Record<string, unknown>>, []);
  if (state.status !== "signed_in") return null;
  const me = state.me;
  const s = (session.data?.session ?? session.data) as { idle_expires_at?: string; absolute_expires_at?: string } | undefined;
  return (
    <>
      <h1>Profile</h1>
      <dl className="facts">
        <dt>Username</dt>
        <dd>{me.user.username}</dd>
        <dt>Display name</dt>
        <dd>{me.user.display_name}</dd>
        <dt>Sign-in source</dt>
        <dd>{me.user.source}</dd>
        <dt>Session idle expiry</dt>
        <dd>{session.loading ? <Loading what="session" /> : <Time at={s?.idle_expires_at} />}</dd>
        <dt>Session absolute expiry</dt>
        <dd>
          <Time at={s?.absolute_expires_at} />
        </dd>
      </dl>
      <ErrorBanner error={session.error} />
      <h2>Permissions</h2>
      <p>Global: {(me.permissions.global ?? []).join(", ") || "none"}</p>
      <h2>Teams</h2>
      <ul>{me.teams.length ? me.teams.map((t) => <li key={t.id}>{t.name}</li>) : <li>none</li>}</ul>
      <MfaFactors />
      <ApiTokens />
    </>
  );
}
