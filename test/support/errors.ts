/** The one "expect this error" helper of the tests: the ConsoleError a call throws or rejects with. */
import { TRPCError } from "@trpc/server";
import { isConsoleError, type ConsoleError, type ConsoleErrorCode } from "@/server/errors";

function unwrap(e: unknown): ConsoleError | null {
  // A tRPC caller wraps a service's ConsoleError in a TRPCError (the middleware's mapping).
  const cause = e instanceof TRPCError ? e.cause : e;
  return isConsoleError(cause) ? cause : null;
}

/** The ConsoleError `fn` throws; fails the test when it returns or throws something else. */
export function thrownBy<C extends ConsoleErrorCode = ConsoleErrorCode>(
  fn: () => unknown,
  code?: C,
): ConsoleError<C> {
  let error: ConsoleError | null;
  try {
    fn();
  } catch (e) {
    error = unwrap(e);
    if (!error) throw e;
    return expectCode(error, code);
  }
  throw new Error("expected a ConsoleError, but nothing was thrown");
}

/** The ConsoleError `p` rejects with (a tRPC call's included). */
export async function rejectionOf<C extends ConsoleErrorCode = ConsoleErrorCode>(
  p: Promise<unknown>,
  code?: C,
): Promise<ConsoleError<C>> {
  try {
    await p;
  } catch (e) {
    const error = unwrap(e);
    if (!error) throw e;
    return expectCode(error, code);
  }
  throw new Error("expected the call to fail with a ConsoleError");
}

function expectCode<C extends ConsoleErrorCode>(error: ConsoleError, code?: C): ConsoleError<C> {
  if (code !== undefined && !isConsoleError(error, code)) {
    throw new Error(`expected ${code}, got ${error.code}: ${error.message}`);
  }
  return error as ConsoleError<C>;
}
