// lib/inboxCount.ts — how many cross-team requests wait for my teams' values,
// for the navigation's Inbox badge: read again on every page change and
// every minute, only for holders of secret.value.provide; "50+" past a page.
import { useEffect, useState } from "react";
import { useLocation } from "react-router";
import { api, must } from "../api/client";
import { useLoad } from "../components/ui";
import { useSession } from "./session";

const PAGE = 50;

export function useInboxCount(): string | null {
  const { can } = useSession();
  const { pathname } = useLocation();
  const provide = can("secret.value.provide");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!provide) return;
    const t = setInterval(() => setTick((x) => x + 1), 60_000);
    return () => clearInterval(t);
  }, [provide]);
  const count = useLoad(async () => {
    if (!provide) return null;
    const page = await must(api.GET("/api/v1/requests/inbox", { params: { query: { limit: PAGE } } }));
    const n = page.items?.length ?? 0;
    return n === 0 ? null : `${n}${page.next_cursor ? "+" : ""}`;
  }, [provide, pathname, tick]);
  return count.data ?? null;
}
