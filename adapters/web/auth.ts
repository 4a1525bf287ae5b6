import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { parse as parseCookies, serialize as serializeCookie } from "cookie";
import { sign, unsign } from "cookie-signature";
import type { IncomingMessage } from "node:http";

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/** The session cookie's name; HTTP-only, SameSite=Strict, signed with the console's secret. */
export const SESSION_COOKIE = "chatops_console";
/** How long a login lasts. */
export const SESSION_HOURS = 12;

/** `scrypt:<salt>:<hash>` (base64url), for storing a password without keeping it. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `scrypt:${salt.toString("base64url")}:${hash.toString("base64url")}`;
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split(":");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length);
  return timingSafeEqual(actual, expected);
}

/** A password to print once on a first start without CONSOLE_PASSWORD. */
export const generatePassword = () => randomBytes(15).toString("base64url");

/**
 * Logins as signed cookies (no server-side state, so any bot process on the same secret accepts
 * them) and the CSRF token that goes with each: the session value signed again under another key.
 */
export function createSessions(secret: string) {
  const csrfSecret = `${secret}:csrf`;
  return {
    /** A new login's Set-Cookie header. */
    login(secure: boolean): { cookie: string } {
      const value = `${randomBytes(16).toString("base64url")}.${Date.now()}`;
      return { cookie: serializeCookie(SESSION_COOKIE, sign(value, secret), { httpOnly: true, sameSite: "strict", path: "/", secure, maxAge: SESSION_HOURS * 3600 }) };
    },
    logout: () => serializeCookie(SESSION_COOKIE, "", { httpOnly: true, sameSite: "strict", path: "/", maxAge: 0 }),
    /** The request's login, if its cookie is signed by us and not too old. */
    session(req: IncomingMessage): string | undefined {
      const raw = parseCookies(req.headers.cookie ?? "")[SESSION_COOKIE];
      const value = raw ? unsign(raw, secret) : false;
      if (!value) return undefined;
      const issued = Number(value.split(".")[1]);
      return Number.isFinite(issued) && Date.now() - issued < SESSION_HOURS * 3_600_000 ? value : undefined;
    },
    csrfFor: (session: string) => sign(session, csrfSecret),
    csrfMatches: (session: string, token: string | undefined) => token !== undefined && unsign(token, csrfSecret) === session,
  };
}
