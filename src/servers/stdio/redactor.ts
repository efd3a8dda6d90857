const MIN_SECRET_LENGTH = 4;

/** Replaces every occurrence of the server's env values (its credentials) in text bound for logs or clients. */
export interface Redactor {
  (text: string): string;
  /** Length of the longest secret: text must be cut only after redaction, with this much to spare. */
  readonly longest: number;
}

export function makeRedactor(secrets: readonly string[]): Redactor {
  // Longest first, so a secret that contains another is replaced whole; tiny values ("1", "on") are not secrets.
  const list = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  return Object.assign((text: string) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
  }, { longest: list[0]?.length ?? 0 });
}
