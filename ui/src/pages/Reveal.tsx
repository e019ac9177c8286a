// pages/Reveal.tsx — reveal once. A confirm dialog, then a reveal session
// (its expiry comes from the server and the countdown is anchored to the
// server's clock via its Date header), each live result revealed once, the
// value shown with copy and "hide now". The values are dropped at expiry, on
// "hide now" (the session is ended: user_hide) and when the page is left
// (unmount). A result already revealed is refused by the server (410) and
// that refusal is shown. Values are UTF-8 text or, for binary, base64 as sent.
import { useEffect, useRef, useState } from "react";
import { api, ApiError, must, serverSkewMs } from "../api/client";
import { Button, ConfirmDialog, ErrorBanner } from "../components/ui";
import { useStepUp } from "../lib/stepUp";

interface Shown {
  key: string;
  value: string;
  encoding?: string;
}

export function Reveal({ requestId }: { requestId: string }) {
  const [asking, setAsking] = useState(false);
  const [shown, setShown] = useState<Shown[] | null>(null);
  const [expiresAt, setExpiresAt] = useState(0); // local clock ms
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const stepUp = useStepUp();
  const sessionRef = useRef<string | null>(null);

  const end = (reason: "user_hide" | "unmount") => {
    const id = sessionRef.current;
    sessionRef.current = null;
    setShown(null);
    if (id) void api.POST("/api/v1/reveal-sessions/{id}/expire", { params: { path: { id } }, body: { reason } });
  };

  useEffect(() => () => end("unmount"), []); // leaving the page ends the session
  useEffect(() => {
    if (!shown) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [shown]);
  useEffect(() => {
    if (shown && now >= expiresAt) {
      sessionRef.current = null; // expired by time: the server's sweep ends it
      setShown(null);
    }
  }, [now, expiresAt, shown]);

  async function reveal() {
    setAsking(false);
    setBusy(true);
    setError(undefined);
    try {
      const opened = await api.POST("/api/v1/reveal-sessions", { body: { request_id: requestId } });
      const session = await must(Promise.resolve(opened));
      sessionRef.current = session.id ?? null;
      const skew = serverSkewMs(opened.response);
      setExpiresAt(Date.parse(session.expires_at ?? "") - skew);
      setNow(Date.now());
      const values: Shown[] = [];
      for (const w of (session.wraps ?? []).filter((x) => x.state === "live")) {
        const v = await stepUp(() => must(api.POST("/api/v1/requests/{id}/wraps/{wrap_id}/reveal", { params: { path: { id: requestId, wrap_id: w.id! } } })));
        values.push({ key: v.key ?? w.key ?? "", value: v.value ?? "", encoding: v.encoding });
      }
      if (values.length === 0) throw new ApiError(410, "wrap_consumed", "These results were already revealed: a value is shown once.");
      setShown(values);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 410 || e.code === "nothing_to_reveal"))
        setError(new ApiError(e.status, e.code, `Refused: already revealed or expired — a value is shown once. (${e.message})`, e.requestId));
      else setError(e);
      end("user_hide");
    } finally {
      setBusy(false);
    }
  }

  const left = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  return (
    <section className="card reveal" aria-live="polite">
      <h2>Reveal</h2>
      <ErrorBanner error={error} />
      {shown ? (
        <>
          <p role="timer" aria-label="Time left">
            Hidden in <strong>{left}</strong> s
          </p>
          <dl>
            {shown.map((s) => (
              <div key={s.key} className="secret-row">
                <dt>{s.key}</dt>
                <dd>
                  <code className="secret-value" data-testid={`value-${s.key}`}>
                    {s.value}
                  </code>
                  {s.encoding === "base64" && <span className="hint"> (binary, base64)</span>}
                  <Button onPress={() => void navigator.clipboard?.writeText(s.value)}>Copy {s.key}</Button>
                </dd>
              </div>
            ))}
          </dl>
          <Button variant="danger" onPress={() => end("user_hide")}>
            Hide now
          </Button>
        </>
      ) : (
        <Button variant="primary" isDisabled={busy} onPress={() => setAsking(true)}>
          {busy ? "Revealing…" : "Reveal values"}
        </Button>
      )}
      <ConfirmDialog open={asking} title="Reveal the values?" confirmLabel="Reveal once" onConfirm={() => void reveal()} onCancel={() => setAsking(false)}>
        <p>Each value is shown once, for a short time, and the reveal is audited. You cannot reveal it again.</p>
      </ConfirmDialog>
    </section>
  );
}
