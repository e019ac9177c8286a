// lib/stepUp.tsx — MFA step-up for Tier-2 actions (docs/mfa.md): an action
// run through useStepUp() that answers 401 step_up_required opens a dialog
// asking for the current code of the user's authenticator app, verifies it
// (POST /api/v1/auth/mfa/verify) and retries the action once. Cancelling
// rejects with "nothing was done". A 412 mfa_enrollment_required is left to
// the caller's ErrorBanner, which links to the profile page to enrol.
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";
import { Dialog, Form, Heading, Modal, ModalOverlay } from "react-aria-components";
import { ApiError, api, must } from "../api/client";
import { Button, ErrorBanner, Field } from "../components/ui";

type RunWithStepUp = <T>(action: () => Promise<T>) => Promise<T>;

const StepUpContext = createContext<RunWithStepUp>((action) => action());

/** Runs an action; on 401 step_up_required asks for a code, verifies it, retries once. */
export const useStepUp = () => useContext(StepUpContext);

export function StepUpProvider({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const waiting = useRef<{ resolve: () => void; reject: (e: unknown) => void } | null>(null);

  const run = useCallback<RunWithStepUp>(async (action) => {
    try {
      return await action();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === "step_up_required")) throw e;
      await new Promise<void>((resolve, reject) => {
        waiting.current = { resolve, reject };
        setCode("");
        setError(undefined);
        setOpen(true);
      });
      return await action();
    }
  }, []);

  const finish = (outcome: "verified" | "cancelled") => {
    const w = waiting.current;
    waiting.current = null;
    setOpen(false);
    setCode("");
    if (outcome === "verified") w?.resolve();
    else w?.reject(new Error("Confirmation cancelled: nothing was done."));
  };

  const verify = async () => {
    const c = code.trim();
    if (!/^\d{6}$/.test(c)) {
      setError(new Error("Enter the 6-digit code your authenticator app shows now."));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await must(api.POST("/api/v1/auth/mfa/verify", { body: { code: c } }));
      finish("verified");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <StepUpContext.Provider value={run}>
      {children}
      <ModalOverlay isOpen={open} onOpenChange={(o) => !o && finish("cancelled")} isDismissable className="overlay">
        <Modal className="modal">
          <Dialog className="dialog">
            <Heading slot="title">Confirm with your authenticator app</Heading>
            <p>This action needs a recent second-factor check. Enter the current code from your authenticator app; the action then runs.</p>
            <ErrorBanner error={error} />
            <Form
              aria-label="Step-up verification"
              onSubmit={(ev) => {
                ev.preventDefault();
                void verify();
              }}
            >
              <Field label="Authentication code" name="step-up-code" value={code} onChange={setCode} autoComplete="one-time-code" required />
              <div className="row">
                <Button type="submit" variant="primary" isDisabled={busy}>
                  Verify and continue
                </Button>
                <Button onPress={() => finish("cancelled")}>Cancel</Button>
              </div>
            </Form>
          </Dialog>
        </Modal>
      </ModalOverlay>
    </StepUpContext.Provider>
  );
}
