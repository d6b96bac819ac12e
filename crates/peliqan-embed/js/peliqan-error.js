// The SDK's one error class. Defined in JavaScript (not Rust) so that it
// really extends Error: `instanceof Error`, a stack trace and a message in
// the console, plus a stable `code` string to branch on.
export class PeliqanError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'PeliqanError';
    this.code = code;
    this.details = details;
  }
}
