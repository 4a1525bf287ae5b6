/** Errors with a stable `code`, so callers branch on the kind and never on the message. */
export class ChatopsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class AlreadyDecided extends ChatopsError {
  constructor(readonly requestId: string, readonly state: string) {
    super("ALREADY_DECIDED", `request ${requestId} is already ${state}`);
  }
}

export class NotFound extends ChatopsError {
  constructor(what: string) {
    super("NOT_FOUND", `${what} not found`);
  }
}

export class NotAuthorized extends ChatopsError {
  constructor(readonly userId: string) {
    super("NOT_AUTHORIZED", `${userId} is not an approver`);
  }
}

export class InvalidInput extends ChatopsError {
  constructor(message: string, readonly field?: string) {
    super("INVALID_INPUT", message);
  }
}

export class OpencodeUnavailable extends ChatopsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("OPENCODE_UNAVAILABLE", message, options);
  }
}
