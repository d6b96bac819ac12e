// The SDK's one error class. Defined in JavaScript (not Rust) so that it
// really extends Error: `instanceof Error`, a stack trace and a message in
// the console, plus a stable `code` string to branch on and a `details`
// object whose guaranteed keys depend on the code (see index.d.ts).
export class PeliqanError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'PeliqanError';
    this.code = code;
    // Always an object, so `err.details.x` never throws.
    this.details = details ?? {};
  }
}
