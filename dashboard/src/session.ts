import type { components, KnifyClient } from "@knify/sdk";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Shown } from "./api.js";

export type Verification = components["schemas"]["KeyVerification"];

/** The pasted key's client and what the key may do; lives in memory only (a reload asks for the key again). */
export interface Session {
  client: KnifyClient;
  key: Verification;
  /** Drops the key and returns to the prompt, with the reason shown there. */
  signOut(reason?: Shown): void;
}

export const SessionContext = createContext<Session | null>(null);

/** The current session; views are only rendered inside one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a session");
  return session;
}

/** Whether the key holds the permission (`admin:all` holds every one). */
export function can(key: Verification, permission: components["schemas"]["Permission"]): boolean {
  return key.permissions.includes("admin:all") || key.permissions.includes(permission);
}
