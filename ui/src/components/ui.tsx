// components/ui.tsx — the few shared pieces, built on react-aria-components
// (accessible, keyboard-ready primitives; no hand-rolled widgets): buttons,
// labelled text fields, a confirm dialog, and the loading / empty / error
// states every page shows.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import {
  Button as AriaButton,
  Dialog,
  FieldError,
  Heading,
  Input,
  Label,
  Modal,
  ModalOverlay,
  TextArea,
  TextField,
  type ButtonProps,
} from "react-aria-components";
import { Link } from "react-router";
import { ApiError } from "../api/client";

export function Button(props: ButtonProps & { variant?: "primary" | "danger" | "plain" }) {
  const { variant = "plain", className, ...rest } = props;
  return <AriaButton {...rest} className={`btn btn-${variant} ${typeof className === "string" ? className : ""}`} />;
}

export function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  type?: string;
  required?: boolean;
  multiline?: boolean;
  autoComplete?: string;
  pattern?: string;
  description?: string;
  validate?: (v: string) => string | null;
  /** id of a <datalist> of suggestions (free text still allowed) */
  list?: string;
}) {
  return (
    <TextField
      className="field"
      name={props.name}
      value={props.value}
      onChange={props.onChange}
      type={props.type}
      isRequired={props.required}
      autoComplete={props.autoComplete}
      pattern={props.pattern}
      validate={props.validate ? (v) => props.validate!(v) ?? true : undefined}
    >
      <Label>{props.label}</Label>
      {props.multiline ? <TextArea /> : <Input list={props.list} />}
      {props.description && <span className="hint">{props.description}</span>}
      <FieldError className="field-error" />
    </TextField>
  );
}

export function Select(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  required?: boolean;
  placeholder?: string;
}) {
  const id = "sel-" + props.label.replace(/\W+/g, "-").toLowerCase();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} required={props.required} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.placeholder ?? "Choose…"}</option>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.code === "mfa_enrollment_required")
    return (
      <div role="alert" className="banner banner-error">
        This action needs a second factor and you have none yet: <Link to="/profile#mfa">enrol a factor in your profile</Link>, then try again.
      </div>
    );
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.code}${error.requestId ? `, request ${error.requestId}` : ""})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div role="alert" className="banner banner-error">
      {text}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty muted">{children}</p>;
}

/** Loads data; reload() runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    setError(undefined);
    try {
      setData(await run());
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

/** State of a form submission: busy flag and the server's error. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = useCallback(async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, submit, setError };
}

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <ModalOverlay isOpen={props.open} onOpenChange={(o) => !o && props.onCancel()} isDismissable className="overlay">
      <Modal className="modal">
        <Dialog role="alertdialog" className="dialog">
          <Heading slot="title">{props.title}</Heading>
          <div>{props.children}</div>
          <div className="row">
            <Button variant="primary" onPress={props.onConfirm} autoFocus>
              {props.confirmLabel}
            </Button>
            <Button onPress={props.onCancel}>Cancel</Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

export function Time({ at }: { at?: string | null }) {
  if (!at) return <span className="muted">—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

export function StateBadge({ state }: { state?: string }) {
  return <span className={`badge badge-${state ?? "unknown"}`}>{state ?? "unknown"}</span>;
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/** A captioned table: one header per column, one row per item. */
export function DataTable<T>(props: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string | number | undefined }) {
  return (
    <table>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c.header} scope="col">
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r, i) => (
          <tr key={props.rowKey(r) ?? i}>
            {props.columns.map((c) => (
              <td key={c.header}>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A confirm dialog about one item (null: closed). Confirming closes it and
 * runs the action on that item; cancelling or Escape only closes it.
 */
export function ConfirmAbout<T>(props: { item: T | null; title: (t: T) => string; confirmLabel: string; onClose: () => void; onConfirm: (t: T) => void; children: (t: T) => ReactNode }) {
  const { item } = props;
  return (
    <ConfirmDialog
      open={item !== null}
      title={item === null ? "" : props.title(item)}
      confirmLabel={props.confirmLabel}
      onCancel={props.onClose}
      onConfirm={() => {
        const t = item!;
        props.onClose();
        props.onConfirm(t);
      }}
    >
      {item !== null && props.children(item)}
    </ConfirmDialog>
  );
}

/** A token shown once (enrollment, API token): copy it now, it cannot be shown again. */
export function ShownOnce(props: { label: string; value: string; testId: string; onDismiss: () => void; children?: ReactNode }) {
  return (
    <div className="banner banner-once" role="region" aria-label={props.label}>
      <p>
        <strong>Shown once.</strong> Copy it now: it is not stored in readable form and cannot be shown again.
      </p>
      <code data-testid={props.testId}>{props.value}</code>
      <Button onPress={() => void navigator.clipboard?.writeText(props.value)}>Copy token</Button>
      {props.children}
      <Button onPress={props.onDismiss}>I have copied it</Button>
    </div>
  );
}
