// lib/seal.ts — patch values are sealed in the browser (SPEC §10, I2), as the
// CLI does (host/src/crypto/sealed_box.c): crypto_box_seal of the value's
// UTF-8 bytes to each live agent's X25519 public key (standard base64), the
// box in standard base64. The plaintext never leaves this function.
import { api, must } from "../api/client";

export interface SealedValue {
  key: string;
  recipient: string;
  box: string;
}

export async function sealValues(
  values: { key: string; value: string }[],
  recipients: string[],
): Promise<SealedValue[]> {
  if (recipients.length === 0)
    throw new Error("no live agent serves this connection, so there is nobody to seal the values to");
  // loaded only when a patch is sealed: the rest of the UI never pays for it
  const sodium = (await import("libsodium-wrappers")).default;
  await sodium.ready;
  const b64 = sodium.base64_variants.ORIGINAL;
  const out: SealedValue[] = [];
  for (const { key, value } of values) {
    const bytes = new TextEncoder().encode(value);
    try {
      for (const recipient of recipients) {
        const pk = sodium.from_base64(recipient, b64);
        if (pk.length !== sodium.crypto_box_PUBLICKEYBYTES)
          throw new Error(`agent key ${recipient} is not a 32-byte X25519 public key`);
        out.push({ key, recipient, box: sodium.to_base64(sodium.crypto_box_seal(bytes, pk), b64) });
      }
    } finally {
      sodium.memzero(bytes);
    }
  }
  return out;
}

/**
 * Seals the values to every live agent key of a provider connection (the
 * agents that may execute the request): patches and cross-team fills alike.
 */
export async function sealForConnection(connectionId: string, values: { key: string; value: string }[]): Promise<SealedValue[]> {
  const agentKeys = await must(api.GET("/api/v1/provider-connections/{id}/agent-keys", { params: { path: { id: connectionId } } }));
  const recipients = (agentKeys.items ?? []).map((a) => a.public_key ?? "").filter(Boolean);
  return sealValues(values, recipients);
}
