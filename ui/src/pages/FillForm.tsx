// pages/FillForm.tsx — answer one cross-team request: provide its values
// (sealed here, in the browser, to the live agents of the request's
// connection, as a patch is; only the boxes are sent and the inputs are
// cleared) or refuse it with a reason of at least 10 characters.
import { useEffect, useState } from "react";
import { Form } from "react-aria-components";
import { api, must, type Schemas } from "../api/client";
import { Button, ErrorBanner, Field, useSubmit } from "../components/ui";
import { sealForConnection } from "../lib/seal";
import { useStepUp } from "../lib/stepUp";

const REFUSE_MIN = 10;

export function FillForm({ request, onDone }: { request: Schemas["Request"]; onDone: () => void }) {
  const id = request.id!;
  const keys = request.keys ?? [];
  const [values, setValues] = useState<Record<string, string>>({});
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const fill = useSubmit();
  const stepUp = useStepUp();
  const refuse = useSubmit();
  useEffect(() => () => setValues({}), []); // nothing typed outlives the form
  return (
    <div className="grid">
      <Form
        className="form"
        aria-label={`Provide values for ${request.secret_ref}`}
        onSubmit={(e) => {
          e.preventDefault();
          void fill.submit(async () => {
            const missing = keys.filter((k) => !values[k]);
            if (missing.length) throw new Error(`Enter a value for ${missing.join(", ")}.`);
            const sealed_values = await sealForConnection(request.connection_id!, keys.map((k) => ({ key: k, value: values[k] })));
            setValues({}); // the plaintext goes no further
            await stepUp(() => must(api.POST("/api/v1/requests/{id}/fill", { params: { path: { id } }, body: { sealed_values, ...(comment.trim() ? { comment: comment.trim() } : {}) } })));
            onDone();
          });
        }}
      >
        <h3>Provide the values</h3>
        <ErrorBanner error={fill.error} />
        {keys.map((k) => (
          <Field key={k} label={`Value for ${k}`} name={`fill-${k}`} type="password" autoComplete="off" value={values[k] ?? ""} onChange={(v) => setValues((vs) => ({ ...vs, [k]: v }))} required description="Sealed in this browser to the agents' keys; the server never sees it." />
        ))}
        <Field label="Comment for the requester (optional)" name="fill-comment" value={comment} onChange={setComment} />
        <Button type="submit" variant="primary" isDisabled={fill.busy}>
          {fill.busy ? "Sealing…" : "Seal and send values"}
        </Button>
      </Form>
      <Form
        className="form"
        aria-label={`Refuse ${request.secret_ref}`}
        onSubmit={(e) => {
          e.preventDefault();
          void refuse.submit(async () => {
            if (reason.trim().length < REFUSE_MIN) throw new Error(`Give a reason of at least ${REFUSE_MIN} characters to refuse.`);
            await must(api.POST("/api/v1/requests/{id}/refuse", { params: { path: { id } }, body: { reason: reason.trim() } }));
            onDone();
          });
        }}
      >
        <h3>Or refuse</h3>
        <ErrorBanner error={refuse.error} />
        <Field label="Reason for refusing" name="refuse-reason" multiline value={reason} onChange={setReason} description={`At least ${REFUSE_MIN} characters; the requester sees it.`} />
        <Button type="submit" variant="danger" isDisabled={refuse.busy}>
          Refuse request
        </Button>
      </Form>
    </div>
  );
}
