// components/paged.tsx — lists the API pages with a cursor (next_cursor): the
// first page loads with the page, "Load more" appends the next one, and a
// change of filters (deps) starts over. Loading, empty and error states are
// the same everywhere (PagedList).
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import type { Page } from "../api/client";
import { Button, DataTable, Empty, ErrorBanner, Loading, type Column } from "./ui";

export interface Paged<T> {
  items?: T[];
  error: unknown;
  loading: boolean;
  loadingMore: boolean;
  hasMore: boolean;
  more: () => Promise<void>;
  reload: () => Promise<void>;
}

export function usePaged<T>(fetchPage: (cursor?: string) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [items, setItems] = useState<T[] | undefined>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const generation = useRef(0); // answers to an older set of filters are dropped
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const fetcher = useCallback(fetchPage, deps);
  const reload = useCallback(async () => {
    const g = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const page = await fetcher();
      if (g !== generation.current) return;
      setItems(page.items ?? []);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      if (g === generation.current) setError(e);
    } finally {
      if (g === generation.current) setLoading(false);
    }
  }, [fetcher]);
  const more = useCallback(async () => {
    if (!cursor) return;
    const g = generation.current;
    setLoadingMore(true);
    setError(undefined);
    try {
      const page = await fetcher(cursor);
      if (g !== generation.current) return;
      setItems((xs) => [...(xs ?? []), ...(page.items ?? [])]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  }, [cursor, fetcher]);
  useEffect(() => {
    // other filters: the old rows go at once (an explicit reload() keeps them until the answer)
    setItems(undefined);
    setCursor(null);
    void reload();
  }, [reload]);
  return { items, error, loading, loadingMore, hasMore: !!cursor, more, reload };
}

/** A paged list's states: loading, error, empty, the items, and "Load more". */
export function PagedList<T>(props: { paged: Paged<T>; what: string; empty: ReactNode; children: (items: T[]) => ReactNode }) {
  const { paged } = props;
  if (paged.loading && !paged.items) return <Loading what={props.what} />;
  return (
    <>
      <ErrorBanner error={paged.error} />
      {paged.items?.length ? props.children(paged.items) : !paged.error && <Empty>{props.empty}</Empty>}
      {paged.hasMore && (
        <Button isDisabled={paged.loadingMore} onPress={() => void paged.more()}>
          {paged.loadingMore ? "Loading…" : `Load more ${props.what}`}
        </Button>
      )}
    </>
  );
}

/** A paged list shown as a captioned table. */
export function PagedTable<T>(props: { paged: Paged<T>; what: string; empty: ReactNode; caption: string; columns: Column<T>[]; rowKey: (row: T) => string | number | undefined }) {
  return (
    <PagedList paged={props.paged} what={props.what} empty={props.empty}>
      {(items) => <DataTable caption={props.caption} rows={items} rowKey={props.rowKey} columns={props.columns} />}
    </PagedList>
  );
}
