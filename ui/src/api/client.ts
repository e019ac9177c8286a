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
  const code = e?.code ?? "http_" + response.status;
  // 401 step_up_required (WWW-Authenticate: SBridge-MFA …) is answered by
  // lib/stepUp.tsx's dialog for the actions run through useStepUp()
  throw new ApiError(response.status, code, e?.message ?? `the server answered ${response.status}`, e?.request_id);
}

/** The query of one page: its size and, after the first, the cursor the previous page gave. */
export const pageQuery = (limit: number, cursor?: string) => ({ limit, ...(cursor ? { cursor } : {}) });

/** One page of a list the API pages with a cursor. */
export interface Page<T> {
  items?: T[];
  next_cursor?: string | null;
}

/**
 * Every item of a paged list, following next_cursor (at most maxPages pages):
 * for pickers and trees that need the whole set, never a truncated first page.
 */
export async function allPages<T>(fetchPage: (cursor?: string) => Promise<Page<T>>, maxPages = 40): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    out.push(...(page.items ?? []));
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
  throw new Error(`more than ${maxPages} pages: narrow the list with a filter`);
}

/** The server's Date header: reveal countdowns are anchored to server time. */
export function serverSkewMs(response: Response): number {
  const d = response.headers.get("Date");
  return d ? Date.parse(d) - Date.now() : 0;
}

/** The lists read whole for pickers and trees (listAll). */
type WholeList = "/api/v1/teams" | "/api/v1/projects" | "/api/v1/users" | "/api/v1/roles" | "/api/v1/provider-connections" | "/api/v1/workflows" | "/api/v1/secrets";
type ItemOf<P extends WholeList> = NonNullable<paths[P]["get"]["responses"][200]["content"]["application/json"]["items"]>[number];

/** Every item of one of those lists (allPages, 500 a page). */
export function listAll<P extends WholeList>(path: P): Promise<ItemOf<P>[]> {
  return allPages((cursor) => must(api.GET(path as "/api/v1/teams", { params: { query: pageQuery(500, cursor) } })) as Promise<Page<ItemOf<P>>>);
}

/** Every environment of a project (all pages); none when no project is chosen. */
export const projectEnvironments = async (id: string): Promise<Schemas["Environment"][]> =>
  id ? allPages((cursor) => must(api.GET("/api/v1/projects/{id}/environments", { params: { path: { id }, query: pageQuery(500, cursor) } }))) : [];

/** Every secret binding of a project (all pages); none when no project is chosen. */
export const projectSecretBindings = async (id: string): Promise<Schemas["SecretBinding"][]> =>
  id ? allPages((cursor) => must(api.GET("/api/v1/projects/{id}/secret-bindings", { params: { path: { id }, query: pageQuery(500, cursor) } }))) : [];
