/** What `GET /dev/harness.json` answers (the local gateway, or Vite's dev server): the running stack's
 * URLs and the seeded users with their JWTs (.local/stack.json + .local/dev-tokens.json). */
export interface DevUser {
  id: string;
  email: string;
  fullName?: string;
  org: string | null;
  orgId: string | null;
  orgRole: "org_user" | "org_admin" | "org_owner" | null;
  sysRole: string;
  token: string;
}

export interface DevHarnessConfig {
  restUrl: string;
  websocketUrl: string;
  dailyStandIn: boolean;
  orgs: Record<string, string>;
  users: Record<string, DevUser>;
}

export async function loadDevConfig(signal?: AbortSignal): Promise<DevHarnessConfig> {
  const response = await fetch("/dev/harness.json", { signal, cache: "no-store" });
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = typeof body === "object" && body !== null && "error" in body ? String(body.error) : `HTTP ${response.status}`;
    throw new Error(`The dev harness configuration could not be loaded: ${message}`);
  }
  const config = body as DevHarnessConfig;
  if (!config || typeof config.restUrl !== "string" || typeof config.users !== "object") {
    throw new Error("The dev harness configuration is malformed");
  }
  return config;
}

export const USER_ORDER = ["acmeOwner", "acmeAdmin", "acmeMember", "globexMember", "platformAdmin"];

export function userLabel(key: string, user: DevUser): string {
  const role = user.orgRole ? `${user.orgRole.replace("org_", "org ")} of ${user.org}` : user.sysRole === "sys_admin" || user.sysRole === "sys_owner" ? "platform admin" : "no org";
  return `${user.fullName ?? key} (${role})`;
}
