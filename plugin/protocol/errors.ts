/**
 * The one error type that crosses layers, and the CNI error codes (CNI spec, "Error").
 *
 * Every layer throws {@linkcode CniError} with the code that describes the failure; only the
 * protocol boundary turns any other exception into code 999.
 *
 * @module
 */

/** Well-known error codes of the CNI spec and the plugin-specific codes multicni adds (100+). */
export const ErrorCode = {
  /** Incompatible CNI version. */
  IncompatibleVersion: 1,
  /** Unsupported field in network configuration. */
  UnsupportedField: 2,
  /** Container unknown or does not exist. */
  ContainerUnknown: 3,
  /** Invalid necessary environment variables. */
  InvalidEnv: 4,
  /** I/O failure. */
  IoFailure: 5,
  /** Failed to decode content. */
  DecodeFailure: 6,
  /** Invalid network config. */
  InvalidNetworkConfig: 7,
  /** Try again later. */
  TryAgainLater: 11,
  /** The plugin is not available (STATUS). */
  NotAvailable: 50,
  /** The plugin is not available, existing containers may be damaged (STATUS). */
  NotAvailableDamaged: 51,
  /** multicni: a delegate failed without printing a CNI error (exit status and stderr instead). */
  DelegateFailed: 100,
  /** multicni: a delegate did not finish within its timeout and was killed. */
  DelegateTimeout: 101,
  /** multicni: a delegate printed output that is not a valid CNI result. */
  DelegateBadOutput: 102,
  /** multicni: ADD for a container that still has attachments from an earlier ADD (DEL it first). */
  AlreadyAttached: 103,
  /** Untyped failure; only the protocol boundary produces it. */
  Internal: 999,
} as const;

/** A CNI error: code, message and optional details, as printed on stdout. */
export class CniError extends Error {
  /** The CNI error code. */
  readonly code: number;
  /** The short message (the CNI `msg` field). */
  readonly msg: string;
  /** Longer details (the CNI `details` field); empty when there are none. */
  readonly details: string;

  /**
   * @param code CNI error code
   * @param msg short message
   * @param details longer explanation
   * @param options standard error options (`cause`)
   */
  constructor(code: number, msg: string, details = "", options?: ErrorOptions) {
    super(details ? `${msg}: ${details}` : msg, options);
    this.name = "CniError";
    this.code = code;
    this.msg = msg;
    this.details = details;
  }

  /**
   * Returns the same error with `prefix` in front of its message, keeping code and details.
   *
   * @param prefix text that says where the error happened
   * @returns a new CniError whose cause is this one
   */
  withPrefix(prefix: string): CniError {
    return new CniError(this.code, `${prefix}: ${this.msg}`, this.details, { cause: this });
  }

  /** The error as the CNI error JSON object (without cniVersion). */
  toJSON(): { code: number; msg: string; details?: string } {
    return this.details
      ? { code: this.code, msg: this.msg, details: this.details }
      : { code: this.code, msg: this.msg };
  }
}

/**
 * Returns `e` when it is a {@linkcode CniError}, otherwise wraps it with `code`.
 *
 * @param e anything thrown
 * @param code the code for a foreign error
 * @param msg the message for a foreign error
 * @returns a CniError
 */
export function asCniError(e: unknown, code: number, msg: string): CniError {
  if (e instanceof CniError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new CniError(code, msg, text, { cause: e });
}
