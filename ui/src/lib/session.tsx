// lib/session.tsx — who is signed in. The navigation fails closed: until
// GET /users/me has answered, nothing permission-gated is shown; a 401 means
// signed out. Permissions are the union over scopes (the server decides each
// call; the UI only hides what cannot work).
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, must, type Schemas } from "../api/client";

export interface Me {
  user: { id: string; username: string; display_name?: string; source?: string; created_at?: string };
  permissions: { global?: string[]; teams?: { id: string; permissions: string[] }[]; projects?: { id: string; permissions: string[] }[] };
  teams: { id: string; name: string }[];
  projects: { id: string; name: string; team_id?: string }[];
}

type State = { status: "loading" } | { status: "signed_out" } | { status: "signed_in"; me: Me } | { status: "error"; message: string };

interface Session {
  state: State;
  reload: () => Promise<void>;
  can: (permission: string) => boolean;
}

const Ctx = createContext<Session>({ state: { status: "loading" }, reload: async () => {}, can: () => false });

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: "loading" });
  const reload = useCallback(async () => {
    const r = await api.GET("/api/v1/users/me");
    if (r.response.status === 401) setState({ status: "signed_out" });
    else if (r.response.ok) setState({ status: "signed_in", me: r.data as unknown as Me });
    else setState({ status: "error", message: `the server answered ${r.response.status}` });
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const can = useCallback(
    (permission: string) => {
      if (state.status !== "signed_in") return false; // fail closed
      const p = state.me.permissions ?? {};
      const scoped = [...(p.teams ?? []), ...(p.projects ?? [])].some((s) => s.permissions?.includes(permission));
      return (p.global ?? []).includes(permission) || scoped;
    },
    [state],
  );
  return <Ctx.Provider value={{ state, reload, can }}>{children}</Ctx.Provider>;
}

export const useSession = () => useContext(Ctx);

export async function signOut(): Promise<void> {
  await api.POST("/api/v1/auth/logout");
}

export type LoginRequest = Schemas["LoginRequest"];
export async function signIn(body: LoginRequest): Promise<void> {
  await must(api.POST("/api/v1/auth/login", { body }));
}
