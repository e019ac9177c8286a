// lib/gitopsEnabled.ts — whether this server observes GitOps rollouts. The
// Argo CD routes exist only when gitops_observation.enabled is set (off: 404
// like any unknown path), so one GET of the endpoint list tells: 404 means
// off, anything else (the list, or 403 for someone without the permission)
// means on. Asked once per page load and shared.
import { useEffect, useState } from "react";
import { api } from "../api/client";

let probe: Promise<boolean> | undefined;

export function gitopsEnabled(): Promise<boolean> {
  probe ??= api.GET("/api/v1/argocd-endpoints").then(
    (r) => r.response.status !== 404,
    () => ((probe = undefined), false), // a network error: ask again next time
  );
  return probe;
}

/** undefined until known, then whether GitOps observation is on. */
export function useGitopsEnabled(): boolean | undefined {
  const [on, setOn] = useState<boolean | undefined>();
  useEffect(() => {
    let live = true;
    void gitopsEnabled().then((v) => live && setOn(v));
    return () => {
      live = false;
    };
  }, []);
  return on;
}
