// api/client.ts — the one way the UI talks to the server: openapi-fetch typed
// by the server's own OpenAPI document (host/src/api/openapi.json, turned into
// schema.d.ts at build time), so a path, parameter or body that the server
// does not have fails the TypeScript build. Same-origin cookie session
// (HttpOnly sb_session): nothing is kept in localStorage or sessionStorage.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

/** A server error in the API's shape {"error":{code,message,request_id}}. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public requestId?: string,
  ) {
    super(message);
  }
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a call, or an ApiError carrying the server's code and message. */
export async function must<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const e = (error as { error?: { code?: string; message?: string; request_id?: string } })?.error;
  throw new ApiError(
    response.status,
    e?.code ?? "http_" + response.status,
    e?.message ?? `the server answered ${response.status}`,
    e?.request_id,
  );
}

/** The server's Date header: reveal countdowns are anchored to server time. */
export function serverSkewMs(response: Response): number {
  const d = response.headers.get("Date");
  return d ? Date.parse(d) - Date.now() : 0;
}
