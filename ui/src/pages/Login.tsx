// pages/Login.tsx — local sign-in (POST /auth/login sets the HttpOnly session
// cookie; the JWT in the answer is not kept anywhere).
import { useState } from "react";
import { Form } from "react-aria-components";
import { Button, ErrorBanner, Field, useSubmit } from "../components/ui";
import { signIn, useSession } from "../lib/session";

export function LoginPage() {
  const { reload } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit();
  return (
    <main className="center">
      <h1>Sign in to Secrets Bridge</h1>
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
