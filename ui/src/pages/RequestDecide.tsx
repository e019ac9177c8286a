// pages/RequestDecide.tsx — an approver's vote on one request: approve (an
// optional comment) or reject (a reason is required). A cross-team request
// waiting for verification is voted through /verify, any other open request
// through /approve and /reject. Votes run through useStepUp(): a 401
// step_up_required asks for an authenticator code and retries once.
import { useState } from "react";
import { api, must, type Schemas } from "../api/client";
import { Button, ErrorBanner, Field, useSubmit } from "../components/ui";
import { useStepUp } from "../lib/stepUp";

type Decision = "approve" | "reject";

function vote(r: Schemas["Request"], decision: Decision, text: string) {
  const path = { id: r.id! };
  if (r.state === "pending_verification")
    return must(api.POST("/api/v1/requests/{id}/verify", { params: { path }, body: { decision, ...(text ? (decision === "reject" ? { reason: text } : { comment: text }) : {}) } }));
  if (decision === "approve") return must(api.POST("/api/v1/requests/{id}/approve", { params: { path }, body: text ? { comment: text } : {} }));
  return must(api.POST("/api/v1/requests/{id}/reject", { params: { path }, body: { reason: text } }));
}

export function RequestDecide({ request, onDecided }: { request: Schemas["Request"]; onDecided: () => Promise<void> }) {
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const act = useSubmit();
  const stepUp = useStepUp();
  const verifying = request.state === "pending_verification";
  return (
    <section className="card form">
      <h2>{verifying ? "Verify the provided values" : "Decide"}</h2>
      {verifying && <p className="hint">Another team provided the values, sealed to the agents; approve to let the agent write them.</p>}
      <ErrorBanner error={act.error} />
      <Field label="Comment (optional)" name="comment" value={comment} onChange={setComment} />
      <Button variant="primary" isDisabled={act.busy} onPress={() => void act.submit(async () => (await stepUp(() => vote(request, "approve", comment.trim())), await onDecided()))}>
        Approve
      </Button>
      <Field label="Reason for rejecting" name="reason" value={reason} onChange={setReason} />
      <Button
        variant="danger"
        isDisabled={act.busy}
        onPress={() =>
          reason.trim() ? void act.submit(async () => (await stepUp(() => vote(request, "reject", reason.trim())), await onDecided())) : act.setError(new Error("A reason is required to reject."))
        }
      >
        Reject
      </Button>
    </section>
  );
}
