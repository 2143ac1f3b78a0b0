/**
 * The one error type airlock raises on purpose. It carries a stable code, a one-line message that
 * names the place (`policy.network.allow[2].host: "*.": not a valid host pattern`), an optional hint,
 * and the process exit code the CLI should use. The CLI prints it without a stack trace.
 */
export class AirlockError extends Error {
  override readonly name = 'AirlockError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/** Bad command-line usage: unknown command, unknown flag, missing argument. Exit 2. */
export function usageError(message: string, hint?: string): AirlockError {
  return new AirlockError('usage', message, hint, 2);
}

export function isAirlockError(err: unknown): err is AirlockError {
  return err instanceof AirlockError;
}

/** Formats any error for the terminal: AirlockErrors as `message` + `hint:`, others as one line. */
export function formatError(err: unknown): string {
  if (isAirlockError(err)) return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
