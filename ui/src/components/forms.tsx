// components/forms.tsx — the admin pages' form and list pieces: a titled form
// that validates its fields before submit (a form with a field marked invalid
// is not sent) and shows the server's error, a plain list and a table of a
// whole (unpaged) list with loading / empty / error states, and the shared
// name rule.
import type { ReactNode } from "react";
import { Form } from "react-aria-components";
import { Button, DataTable, Empty, ErrorBanner, Loading, useSubmit, type Column } from "./ui";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const nameRule = (v: string) => (NAME.test(v) ? null : "lowercase letters, digits and dashes, starting with a letter or digit");

export function CreateForm(props: { title: string; onCreate: () => Promise<void>; children: ReactNode; submitLabel: string; onCancel?: () => void }) {
  const { busy, error, submit, setError } = useSubmit();
  return (
    <Form
      className="form inline-form"
      aria-label={props.title}
      validationBehavior="aria"
      onSubmit={(e) => {
        e.preventDefault();
        // field rules show as they are typed; a form with one broken is not sent
        if (e.currentTarget.querySelector('[aria-invalid="true"]')) setError(new Error("Correct the fields marked in red first."));
        else void submit(props.onCreate);
      }}
    >
      <h3>{props.title}</h3>
      <ErrorBanner error={error} />
      {props.children}
      <div className="row">
        <Button type="submit" variant="primary" isDisabled={busy}>
          {props.submitLabel}
        </Button>
        {props.onCancel && <Button onPress={props.onCancel}>Cancel</Button>}
      </div>
    </Form>
  );
}

export function Listing<T>(props: { what: string; load: { data?: T[]; error: unknown; loading: boolean }; render: (t: T) => ReactNode; keyOf: (t: T) => string }) {
  if (props.load.loading && !props.load.data) return <Loading what={props.what} />;
  return (
    <>
      <ErrorBanner error={props.load.error} />
      {props.load.data?.length ? <ul className="plain">{props.load.data.map((t) => <li key={props.keyOf(t)}>{props.render(t)}</li>)}</ul> : <Empty>No {props.what} yet.</Empty>}
    </>
  );
}

/** A whole (unpaged) list as a captioned table: loading, error, empty, the rows. */
export function LoadedTable<T>(props: { what: string; load: { data?: T[]; error: unknown; loading: boolean }; empty: ReactNode; caption: string; columns: Column<T>[]; rowKey: (row: T) => string | number | undefined }) {
  if (props.load.loading && !props.load.data) return <Loading what={props.what} />;
  return (
    <>
      <ErrorBanner error={props.load.error} />
      {props.load.data?.length ? <DataTable caption={props.caption} rows={props.load.data} rowKey={props.rowKey} columns={props.columns} /> : !props.load.error && <Empty>{props.empty}</Empty>}
    </>
  );
}

/** A labelled checkbox (native input: keyboard and screen readers for free). */
export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="inline">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} /> {props.label}
    </label>
  );
}

/** A rule for a whole number within [min, max] (empty passes: the field is optional unless required). */
export const intRule = (min: number, max: number) => (v: string) => (v === "" || (/^-?\d+$/.test(v) && +v >= min && +v <= max) ? null : `a whole number from ${min} to ${max}`);

/** Picker options from named rows (teams, projects, roles, users…): id as value, name as label. */
export const optionsOf = (xs?: { id?: string; name?: string; username?: string }[]) => (xs ?? []).map((x) => ({ value: x.id!, label: x.name ?? x.username ?? x.id! }));
